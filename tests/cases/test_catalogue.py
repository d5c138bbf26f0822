"""The dispatch catalogue: the shipped file is valid, suggestions take the deepest entry, edits
are validated and stored."""

from pathlib import Path

import pytest

from cases.catalogue import CatalogueDesk, CatalogueEntry, load_catalogue_file
from cases.departments import Department
from cases.taxonomy import Taxonomy, load_taxonomy_file
from hub.settings import DATA_DIR
from mongo.catalogue import MongoCatalogueRepository
from mongo.client import Database
from mongo.people import MongoDepartmentRepository
from primitives.errors import InvalidInput
from primitives.yaml_io import load_yaml

TAXONOMY = Taxonomy(load_taxonomy_file(Path(DATA_DIR / "taxonomy.yaml")))
SHIPPED = Path(DATA_DIR / "dispatch_catalogue.yaml")
DRAINS = ("01", "0101", "010103", "01010301")


@pytest.fixture
async def desk(db: Database) -> CatalogueDesk:
    departments = MongoDepartmentRepository(db)
    for d in load_yaml(Path(DATA_DIR / "demo.yaml"))["departments"]:
        await departments.upsert(Department(d["code"], d["name"], d.get("phone")))
    desk = CatalogueDesk(MongoCatalogueRepository(db), lambda: TAXONOMY, departments)
    await desk.load(lambda: load_catalogue_file(SHIPPED))
    return desk


async def test_the_shipped_catalogue_is_seeded_and_every_entry_is_valid(desk: CatalogueDesk):
    assert len(desk.entries()) == len(load_catalogue_file(SHIPPED))
    for entry in desk.entries():
        await desk.save(entry)  # validates against the taxonomy and the demo departments


async def test_the_deepest_entry_on_the_path_wins(desk: CatalogueDesk):
    drains = desk.suggest(DRAINS)
    lights = desk.suggest(("01", "0101", "010101", "01010101"))
    assert drains is not None
    assert (drains.lead, drains.assisting) == ("water", ("chengguan",))
    assert lights is not None
    assert lights.lead == "chengguan"
    assert desk.suggest(("11", "1101")) is None


async def test_edits_are_validated_stored_and_used(desk: CatalogueDesk, db: Database):
    with pytest.raises(InvalidInput, match="部门 nowhere 不存在"):
        await desk.save(CatalogueEntry("0201", "nowhere"))
    with pytest.raises(InvalidInput, match="分类 99 不存在"):
        await desk.save(CatalogueEntry("99", "water"))
    with pytest.raises(InvalidInput, match="协办"):
        await desk.save(CatalogueEntry("0201", "water", ("water",)))
    await desk.save(CatalogueEntry("010103", "housing", (), 2))
    suggestion = desk.suggest(DRAINS)
    assert suggestion == CatalogueEntry("010103", "housing", (), 2)
    again = CatalogueDesk(
        MongoCatalogueRepository(db), lambda: TAXONOMY, MongoDepartmentRepository(db)
    )
    await again.load()
    assert again.suggest(DRAINS) == suggestion
    assert await again.delete("010103")
    assert again.suggest(DRAINS).lead == "chengguan"  # type: ignore[union-attr]
