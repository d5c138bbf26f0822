from pathlib import Path

import pytest

from cases.errors import UnknownCategory
from cases.taxonomy import Category, Taxonomy, load_taxonomy_file
from hub.settings import DATA_DIR
from mongo.client import Database
from mongo.taxonomy import MongoTaxonomyRepository
from primitives.errors import InvalidInput

SHIPPED = load_taxonomy_file(DATA_DIR / "taxonomy.yaml")


def test_shipped_taxonomy_has_four_levels_everywhere():
    tax = Taxonomy(SHIPPED)
    leaves = [c for c in tax if not tax.children(c.code)]
    assert len(tax.children(None)) >= 10
    assert all(c.level == 4 for c in leaves)
    assert tax.label("01010101") == "城乡建设 / 市政设施 / 路灯照明 / 路灯不亮"


def test_path_validation_accepts_a_chain_and_refuses_jumps():
    tax = Taxonomy(SHIPPED)
    assert tax.validate_path(["01", "0101"]) == ("01", "0101")
    with pytest.raises(InvalidInput, match="not under"):
        tax.validate_path(["02", "0101"])
    with pytest.raises(UnknownCategory):
        tax.validate_path(["77"])


@pytest.mark.parametrize(
    ("cats", "message"),
    [
        ([Category("01", "a", None, 1), Category("01", "b", None, 1)], "appears twice"),
        ([Category("0101", "a", "09", 2)], "needs a level-1 parent"),
        ([Category("01", "a", None, 5)], "levels are 1"),
    ],
)
def test_broken_trees_are_refused(cats: list[Category], message: str):
    with pytest.raises(InvalidInput, match=message):
        Taxonomy(cats)


def test_a_file_without_codes_is_refused_with_its_name(tmp_path: Path):
    bad = tmp_path / "tax.yaml"
    bad.write_text("- name: 城乡建设\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"tax\.yaml: every category needs a code"):
        load_taxonomy_file(bad)


async def test_taxonomy_is_stored_and_edited(db: Database):
    repo = MongoTaxonomyRepository(db)
    await repo.replace_all(SHIPPED)
    await repo.upsert(Category("01010104", "路灯闪烁", "010101", 4))
    tax = Taxonomy(await repo.all())
    assert len(tax) == len(SHIPPED) + 1
    assert tax.label("01010104").endswith("路灯闪烁")
    await repo.replace_all([c for c in SHIPPED if c.code != "01010103"])
    tax = Taxonomy(await repo.all())
    assert not tax.get("01010103").active  # kept for old cases, hidden from pickers
    assert "01010103" not in {c.code for c in tax.children("010101")}
