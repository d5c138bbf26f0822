"""Articles in MongoDB: seeding, import and export (YAML and XLSX), bad files."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hub.kb_store import export_articles, import_articles, seed_if_empty
from hub.settings import REPO_DIR
from kb.articles import load_yaml, read_xlsx, write_xlsx, write_yaml
from kb.errors import ArticleNotFound, InvalidArticles
from mongo.client import Database
from mongo.kb_articles import MongoArticleRepository
from tests.kb.conftest import ARTICLES


async def test_repository_round_trip(db: Database):
    repo = MongoArticleRepository(db)
    await repo.upsert(ARTICLES[0])
    assert await repo.get("kb-0001") == ARTICLES[0]
    await repo.delete("kb-0001")
    with pytest.raises(ArticleNotFound):
        await repo.get("kb-0001")
    with pytest.raises(ArticleNotFound):
        await repo.delete("kb-0001")


async def test_an_empty_store_is_seeded_once(db: Database, tmp_path: Path):
    seed = tmp_path / "seed.yaml"
    write_yaml(seed, ARTICLES)
    assert await seed_if_empty(db, seed) == len(ARTICLES)
    assert await seed_if_empty(db, seed) == 0
    assert await MongoArticleRepository(db).all() == sorted(ARTICLES, key=lambda a: a.id)


@pytest.mark.parametrize("suffix", [".yaml", ".xlsx"])
async def test_import_then_export_gives_the_same_articles(db: Database, tmp_path: Path, suffix):
    source = tmp_path / f"in{suffix}"
    (write_xlsx if suffix == ".xlsx" else write_yaml)(source, ARTICLES)
    counts = await import_articles(db, source, replace=False)
    assert counts == {"created": 4, "updated": 0, "deleted": 0, "total": 4}
    assert (await import_articles(db, source, replace=False))["created"] == 0  # idempotent
    out = tmp_path / f"out{suffix}"
    assert await export_articles(db, out) == 4
    back = read_xlsx(out) if suffix == ".xlsx" else load_yaml(out)
    assert back == sorted(ARTICLES, key=lambda a: a.id)


async def test_import_with_replace_deletes_what_the_file_lacks(db: Database, tmp_path: Path):
    full, part = tmp_path / "full.yaml", tmp_path / "part.yaml"
    write_yaml(full, ARTICLES)
    write_yaml(part, ARTICLES[:2])
    await import_articles(db, full, replace=False)
    counts = await import_articles(db, part, replace=True)
    assert counts["deleted"] == 2
    assert len(await MongoArticleRepository(db).all()) == 2


async def test_a_bad_file_names_the_row_and_changes_nothing(db: Database, tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "- {id: kb-1, question: 有问题, answer: 有答案}\n- {id: kb-2, question: 没有答案}\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidArticles) as err:
        await import_articles(db, bad, replace=False)
    assert "item 2" in str(err.value)
    assert await MongoArticleRepository(db).all() == []


def test_hub_eval_kb_prints_one_json_object(tmp_path: Path):
    kb_file, queries = tmp_path / "kb.yaml", tmp_path / "q.yaml"
    write_yaml(kb_file, ARTICLES)
    queries.write_text(
        "- {query: 刚生的娃医保怎么弄, expected: kb-0001}\n"
        "- {query: 身份证弄丢了, expected: kb-0015}\n"
        "- {query: 今天天气怎么样, expected: null}\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "KB_"))}
    env |= {"KB_DATA": str(kb_file), "HUB_VAR_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "hub.cli", "eval", "kb", "--queries", str(queries), "--json"],
        cwd=REPO_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    result = json.loads(done.stdout)
    keys = {"n", "hit@1", "hit@3", "mrr", "abstain_precision", "abstain_recall"}
    keys |= {"answer_rate", "wrong_answer_rate", "clarify_rate", "clarify_hit"}
    keys |= {"out_of_kb_abstain_rate", "out_of_kb_clarify_rate"}
    assert keys | {"p50_ms", "p99_ms"} == set(result)
    assert result["n"] == 3
    assert result["hit@3"] == 1.0


def test_hub_eval_kb_reports_a_missing_file_in_one_line(tmp_path: Path):
    done = subprocess.run(
        [sys.executable, "-m", "hub.cli", "eval", "kb", "--queries", str(tmp_path / "no.yaml")],
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "no such file" in done.stderr
    assert "Traceback" not in done.stderr
