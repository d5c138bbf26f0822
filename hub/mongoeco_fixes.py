"""Corrections to mongoeco 4.11.0's SQLite engine so that a write or a read costs the same
whether a collection holds a hundred documents or a hundred thousand.

This file runs inside the embedded-database interpreter (`.venv-db`, Python 3.13) next to
hub/dbserver.py: import only the standard library and mongoeco here. `apply()` refuses any
other mongoeco version, because every correction replaces or wraps a private method whose
exact behaviour was read in that version. docs/embedded-database.md explains each one and
carries the same findings written up for mongoeco's maintainers.

1. `_id` check on insert. `insert_document_record` asks the unique-index check for
   `scan_payload_id=True`, which decodes every stored document to compare `_id`s. The exact
   storage-key lookup that precedes it already answers the question for an `_id` that is a
   plain string or an ObjectId (the storage key is the repr of its type and value, and no
   other BSON value equals it). Every other `_id` (numbers: 1, 1.0 and Int64(1) are one
   `_id` under three keys; bytes and Binary; documents) is still scanned.

2. Collection feature cache. Query planning and unique checks ask questions such as "does any
   document hold an array at this path?" and answer each with a SQL scan of the whole
   collection (`json_type(document, path)` on every row). The answers are cached, but every
   write to a collection drops all of its answers, so the next query or insert scans again:
   O(n) per operation. Here a write keeps them: triggers note which documents a statement
   touched, and each cached answer is brought up to date by asking the same question of
   those documents alone (the engine's own SQL, run over a CTE that shadows `documents`).
   The answers are "does any document …" questions (stale True after a delete is safe:
   True selects the engine's general path) and one "are all values of one type" question
   (it stays only while every changed document agrees). Answers first taken on an empty
   collection, answers for a collection a statement emptied (a drop), invalidations not
   caused by document writes (index builds, renames) and session-transaction rollbacks
   drop the answers as before. One-statement rollbacks keep them (see
   _fix_rollback_cache_loss).

   Assumption: this server is the only writer of its SQLite file (the hub starts one and
   nothing else opens it). A second process writing the same file would not be seen by the
   kept answers; the engine as published re-reads after its own next write.

3. Index narrowing: the engine's SQL for `{field: "text"}` can use no index, so finds,
   updates and counts read the whole collection; see _fix_index_narrowing.

4. One SQLite index for the scalar-index entries of every collection instead of one per
   Mongo index, all with the same columns over the same table; see _fix_scalar_index_copies.
"""

from __future__ import annotations

import functools
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

EXPECTED_VERSION = "4.11.0"

_local = threading.local()

# Feature-cache keys and the engine method that computes each: "<kind>:<args…>".
_FEATURE_METHODS: dict[str, tuple[str, int]] = {
    # kind: (method name, number of ':'-separated arguments after the field)
    "uniform_scalar_sort_type": ("_field_has_uniform_scalar_sort_type_in_collection", 0),
    "comparison_mismatch": ("_field_has_comparison_type_mismatch_in_collection", 1),
    "scalar_or_array_comparison_mismatch": (
        "_field_has_scalar_or_array_element_type_mismatch_in_collection",
        1,
    ),
    "traverses_array": ("_field_traverses_array_in_collection", 0),
    "traverses_dbref": ("_field_traverses_dbref_in_collection", 0),
    "tagged_type": ("_field_contains_tagged_value_type_in_collection", 1),
    "top_level_array": ("_field_is_top_level_array_in_collection", 0),
    "contains_real_numeric": ("_field_contains_real_numeric_in_collection", 0),
    "contains_non_ascii_text": ("_field_contains_non_ascii_text_in_collection", 0),
}
_UNIFORM = "uniform_scalar_sort_type"

# Every statement a feature method runs reads `FROM documents` (no alias, no schema).
_FROM_DOCUMENTS = re.compile(r"\bFROM\s+documents\b")

_TRIGGERS = (
    """CREATE TEMP TABLE IF NOT EXISTS hub_touched (
           db_name TEXT NOT NULL, coll_name TEXT NOT NULL, storage_key TEXT NOT NULL,
           PRIMARY KEY (db_name, coll_name, storage_key)) WITHOUT ROWID""",
    """CREATE TEMP TABLE IF NOT EXISTS hub_deleted (
           db_name TEXT NOT NULL, coll_name TEXT NOT NULL,
           PRIMARY KEY (db_name, coll_name)) WITHOUT ROWID""",
    """CREATE TEMP TRIGGER IF NOT EXISTS hub_documents_insert AFTER INSERT ON main.documents
       BEGIN INSERT OR IGNORE INTO hub_touched VALUES (new.db_name, new.coll_name, new.storage_key);
       END""",
    """CREATE TEMP TRIGGER IF NOT EXISTS hub_documents_update AFTER UPDATE ON main.documents
       BEGIN INSERT OR IGNORE INTO hub_touched VALUES (new.db_name, new.coll_name, new.storage_key);
       END""",
    """CREATE TEMP TRIGGER IF NOT EXISTS hub_documents_delete AFTER DELETE ON main.documents
       BEGIN INSERT OR IGNORE INTO hub_deleted VALUES (old.db_name, old.coll_name); END""",
)

_COUNT_TOUCHED = "SELECT count(*) FROM temp.hub_touched WHERE db_name = ? AND coll_name = ?"
_COUNT_DELETED = "SELECT count(*) FROM temp.hub_deleted WHERE db_name = ? AND coll_name = ?"
_ANY_DOCUMENT = "SELECT 1 FROM main.documents WHERE db_name = ? AND coll_name = ? LIMIT 1"

# MATERIALIZED and CROSS JOIN pin the plan: walk the few touched keys, look each one up by
# primary key, never scan the collection.
_TOUCHED_CTE = (
    "WITH documents AS MATERIALIZED (SELECT d.db_name, d.coll_name, d.storage_key, d.document "
    "FROM temp.hub_touched AS t CROSS JOIN main.documents AS d "
    "ON d.db_name = t.db_name AND d.coll_name = t.coll_name AND d.storage_key = t.storage_key) "
)


class MongoecoVersionError(RuntimeError):
    """The installed mongoeco is not the version these corrections were written for."""


def apply() -> None:
    """Install every correction into mongoeco's SQLite engine (idempotent)."""
    import mongoeco
    from mongoeco.engines.sqlite import SQLiteEngine

    if mongoeco.__version__ != EXPECTED_VERSION:
        raise MongoecoVersionError(
            f"hub/mongoeco_fixes.py corrects mongoeco {EXPECTED_VERSION}, found "
            f"{mongoeco.__version__}: check each correction against the new version "
            "(docs/embedded-database.md) before changing EXPECTED_VERSION"
        )
    if getattr(SQLiteEngine, "_hub_fixes_applied", False):
        return
    _fix_insert_id_scan(SQLiteEngine)
    _fix_feature_cache(SQLiteEngine)
    _fix_rollback_cache_loss()
    _fix_index_narrowing(SQLiteEngine)
    _fix_scalar_index_copies(SQLiteEngine)
    SQLiteEngine._hub_fixes_applied = True


# 1. `_id` check on insert ------------------------------------------------------------------


def _fix_insert_id_scan(engine_cls: type) -> None:
    from mongoeco.types import ObjectId

    # Types whose BSON equality is "same type, same value", so equal `_id`s always have equal
    # storage keys. Not bytes (equal to Binary subtype 0), not numbers, not str subclasses.
    exact_types = {str, ObjectId}
    try:
        import bson

        exact_types.add(bson.ObjectId)
    except ImportError:  # pymongo sits beside mongoeco in .venv-db; without it, fewer types
        pass
    original = engine_cls._validate_document_against_unique_indexes

    @functools.wraps(original)
    def validate(self: Any, db_name: str, coll_name: str, document: Any, **kw: Any) -> None:
        if kw.get("scan_payload_id") and type(document.get("_id")) in exact_types:
            kw["scan_payload_id"] = False
        original(self, db_name, coll_name, document, **kw)

    engine_cls._validate_document_against_unique_indexes = validate


# 2. Collection feature cache --------------------------------------------------------------


class _TouchedOnly:
    """A connection stand-in whose statements see only the documents just written."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        if not _FROM_DOCUMENTS.search(sql):
            raise RuntimeError("mongoeco_fixes: unexpected feature query shape")
        return self._conn.execute(_TOUCHED_CTE + sql.lstrip(), params)


@contextmanager
def _scoped_to_touched(conn: sqlite3.Connection) -> Iterator[dict[Any, Any]]:
    """While active on this thread, feature methods read the touched documents and cache
    into a scratch dict (other threads keep seeing the real cache)."""
    scratch: dict[Any, Any] = {}
    _local.override = (_TouchedOnly(conn), scratch)
    try:
        yield scratch
    finally:
        _local.override = None


def _override() -> tuple[_TouchedOnly, dict[Any, Any]] | None:
    return getattr(_local, "override", None)


def _fix_feature_cache(engine_cls: type) -> None:
    cache_prop = engine_cls.__dict__["_collection_features_cache"]
    original_require = engine_cls._require_connection
    original_invalidate = engine_cls._invalidate_collection_features_cache
    original_connect = engine_cls._connect_sync

    def features_cache(self: Any) -> dict[Any, Any]:
        scoped = _override()
        return scoped[1] if scoped is not None else cache_prop.fget(self)

    def require_connection(self: Any, context: Any = None) -> Any:
        scoped = _override()
        return scoped[0] if scoped is not None else original_require(self, context)

    def connect(self: Any) -> None:
        opening = self._connection_count == 0
        original_connect(self)
        conn = self._connection
        if opening and conn is not None:
            # DDL opens no transaction in Python's sqlite3; commit only if one was opened here,
            # never a caller's (a session transaction may be live on a repeat connect).
            was_in_transaction = conn.in_transaction
            for statement in _TRIGGERS:
                conn.execute(statement)
            if not was_in_transaction and conn.in_transaction:
                conn.commit()

    def invalidate(self: Any, db_name: str | None = None, coll_name: str | None = None) -> None:
        if db_name is None or coll_name is None or _override() is not None:
            _forget_touched(self, None, None)
            original_invalidate(self, db_name, coll_name)
            return
        try:
            conn = original_require(self)
        except Exception:  # disconnected (RuntimeError) or owned by a session: nothing to keep
            original_invalidate(self, db_name, coll_name)
            return
        args = (db_name, coll_name)
        try:
            touched = conn.execute(_COUNT_TOUCHED, args).fetchone()[0]
            deleted = conn.execute(_COUNT_DELETED, args).fetchone()[0]
        except sqlite3.OperationalError:  # a connection without our temp tables
            original_invalidate(self, db_name, coll_name)
            return
        if not touched and not deleted:
            # Not a document write (an index build, a rename): the engine's own rule.
            original_invalidate(self, db_name, coll_name)
            return
        if touched:
            _refresh_features(self, conn, db_name, coll_name)
        elif conn.execute(_ANY_DOCUMENT, args).fetchone() is None:
            original_invalidate(self, db_name, coll_name)  # emptied or dropped: start afresh
        # Otherwise deletes alone: "some document has it" may turn stale-true, which is safe,
        # and "all values of one type" stays true of the documents that remain.
        _forget_touched(self, db_name, coll_name, conn)

    engine_cls._collection_features_cache = property(features_cache)
    engine_cls._require_connection = require_connection
    engine_cls._connect_sync = connect
    engine_cls._invalidate_collection_features_cache = invalidate


def _forget_touched(
    engine: Any, db_name: str | None, coll_name: str | None, conn: Any = None
) -> None:
    try:
        conn = conn or engine._session_runtime.require_connection(None)
    except Exception:  # disconnected: the temp tables went with the connection
        return
    # Python's sqlite3 opens a transaction before any DML; the engine would then nest its
    # next write in a savepoint of ours and never commit. Close what we opened.
    was_in_transaction = conn.in_transaction
    try:
        if db_name is None:
            conn.execute("DELETE FROM temp.hub_touched")
            conn.execute("DELETE FROM temp.hub_deleted")
        else:
            args = (db_name, coll_name)
            conn.execute("DELETE FROM temp.hub_touched WHERE db_name = ? AND coll_name = ?", args)
            conn.execute("DELETE FROM temp.hub_deleted WHERE db_name = ? AND coll_name = ?", args)
    except sqlite3.OperationalError:
        return  # connected before the triggers existed (schema set-up)
    finally:
        if not was_in_transaction and conn.in_transaction:
            conn.commit()


def _refresh_features(engine: Any, conn: sqlite3.Connection, db_name: str, coll_name: str) -> None:
    cache = engine._cache_state.collection_features_cache
    keys = [k for k in cache if k[0] == db_name and k[1] == coll_name]
    if not keys:
        return
    collection_empty = None
    for key in keys:
        old = cache.get(key)
        method, args = _feature_call(engine, key[2])
        if method is None:
            cache.pop(key, None)  # a feature this file does not know: the engine's own rule
            continue
        if old is True:
            continue  # "some document has it" stays true; deletes only make it stale-safe
        if old is False and key[2].startswith(_UNIFORM):
            if collection_empty is None:
                collection_empty = _collection_was_empty(conn, db_name, coll_name)
            if collection_empty:
                cache.pop(key, None)
            continue  # mixed types stay mixed (stale False only loses a fast sort path)
        with _scoped_to_touched(conn):
            fresh = method(db_name, coll_name, *args)
        if key[2].startswith(_UNIFORM):
            # The touched documents decide alone only when they agree with the rest.
            cache[key] = old if fresh == old else False
        else:
            cache[key] = bool(old) or bool(fresh)


def _collection_was_empty(conn: sqlite3.Connection, db_name: str, coll_name: str) -> bool:
    """True when every document of the collection was written by this statement."""
    row = conn.execute(
        "SELECT 1 FROM main.documents AS d WHERE d.db_name = ? AND d.coll_name = ? AND NOT "
        "EXISTS (SELECT 1 FROM temp.hub_touched AS t WHERE t.db_name = d.db_name AND "
        "t.coll_name = d.coll_name AND t.storage_key = d.storage_key) LIMIT 1",
        (db_name, coll_name),
    ).fetchone()
    return row is None


def _feature_call(engine: Any, feature: str) -> tuple[Callable[..., Any] | None, tuple[str, ...]]:
    kind, _, rest = feature.partition(":")
    spec = _FEATURE_METHODS.get(kind)
    if spec is None:
        return None, ()
    name, extra = spec
    if extra:
        field, _, arg = rest.rpartition(":")
        return getattr(engine, name), (field, arg)
    return getattr(engine, name), (rest,)


def _fix_rollback_cache_loss() -> None:
    """Rolling back one statement (a duplicate key, an insert that found its `_id` taken)
    clears every cache of the engine, the feature answers included, so the next operation
    rescans. Inside one statement an answer is either computed before its write (the unique
    checks run first), so it describes the state the rollback returns to, or moved by
    _refresh_features toward the safe side (True; not-one-type), which stays safe after the
    rollback. So a one-statement rollback keeps the feature answers (every other cache is
    cleared as before); a session transaction's rollback still clears everything."""
    from mongoeco.engines._sqlite_session_runtime import SQLiteSessionRuntime

    original_rollback = SQLiteSessionRuntime.rollback_write
    original_clear = SQLiteSessionRuntime._clear_rollback_sensitive_caches

    def rollback_write(self: Any, conn: Any, context: Any) -> None:
        _local.statement_rollback = not self.session_owns_transaction(context)
        try:
            original_rollback(self, conn, context)
        finally:
            _local.statement_rollback = False

    def clear_caches(self: Any) -> None:
        if not getattr(_local, "statement_rollback", False):
            original_clear(self)
            return
        cache = self._engine._cache_state.collection_features_cache
        kept = dict(cache)
        original_clear(self)
        cache.update(kept)

    SQLiteSessionRuntime.rollback_write = rollback_write
    SQLiteSessionRuntime._clear_rollback_sensitive_caches = clear_caches


# 3. Index narrowing -----------------------------------------------------------------------


def _fix_index_narrowing(engine_cls: type) -> None:
    """Give SQLite an indexable term for the equality the query already states.

    The engine translates `{field: "text"}` to `json_type(document, '$.field') = 'text' AND
    json_extract(document, '$.field') = ?`, which no index can serve, while the index it
    built for that field is on `COALESCE(json_extract(document, '$.field."$mongoeco".type'),
    '')` and `COALESCE(json_extract(…value), json_extract(document, '$.field'))`. So every
    find, update, delete and count scans the collection, and `{_id: "…"}` ignores the
    primary key. Here the top-level WHERE gets, in front of the engine's own condition, a
    term implied by it: `storage_key IN (…)` for string `_id`s, and the index's own
    expressions for string equality or `$in` on the first field of an ordered index, when no
    document holds an array there (an array would match by element; the engine's own
    condition still decides every row). The same goes for the probe the planner runs before
    a sort ("does any matching document hold an array or a number object at the sort key?").
    """
    import mongoeco.engines.sqlite as sqlite_module

    original = engine_cls._translate_query_plan_with_multikey

    def translate(self: Any, db_name: str, coll_name: str, plan: Any) -> tuple[str, list[Any]]:
        depth = getattr(_local, "translate_depth", 0)
        _local.translate_depth = depth + 1
        try:
            fragment = original(self, db_name, coll_name, plan)
        finally:
            _local.translate_depth = depth
        return fragment if depth else _narrowed(self, db_name, coll_name, plan, fragment)

    def sort_requires_python(self: Any, db_name: str, coll_name: str, plan: Any, sort: Any) -> bool:
        # The engine's own method, with the narrowed translation passed in.
        def translate_plan(current: Any) -> tuple[str, list[Any]]:
            fragment = sqlite_module.translate_query_plan(current)
            return _narrowed(self, db_name, coll_name, current, fragment)

        return sqlite_module._sqlite_sort_requires_python(
            db_name=db_name,
            coll_name=coll_name,
            plan=plan,
            sort=sort,
            plan_has_array_traversing_paths=self._plan_has_array_traversing_paths,
            translate_query_plan=translate_plan,
            field_traverses_array_in_collection=self._field_traverses_array_in_collection,
            field_contains_tagged_bytes_in_collection=self._field_contains_tagged_bytes_in_collection,
            field_contains_tagged_undefined_in_collection=self._field_contains_tagged_undefined_in_collection,
            fetchone=lambda sql, params: self._require_connection().execute(sql, params).fetchone(),
            type_expression_sql=sqlite_module.type_expression_sql,
            json_path_for_field=sqlite_module.json_path_for_field,
        )

    engine_cls._translate_query_plan_with_multikey = translate
    engine_cls._sort_requires_python = sort_requires_python


def _narrowed(
    engine: Any, db_name: str, coll_name: str, plan: Any, fragment: tuple[str, list[Any]]
) -> tuple[str, list[Any]]:
    term = _narrowing_term(engine, db_name, coll_name, plan)
    if term is None:
        return fragment
    return f"({term[0]}) AND ({fragment[0]})", [*term[1], *fragment[1]]


def _narrowing_term(
    engine: Any, db_name: str, coll_name: str, plan: Any
) -> tuple[str, list[Any]] | None:
    """An indexable condition implied by plan's top-level conjuncts, or None.

    Conjuncts that count: equality or `$in` with plain strings on a top-level field. An `_id`
    one becomes a primary-key lookup; otherwise the ordered index whose leading fields are
    covered by the most such conjuncts gives one term per covered field, in index order."""
    from mongoeco.core.query_plan import AndCondition, EqualsCondition, InCondition
    from mongoeco.engines.sqlite_query import type_expression_sql, value_expression_sql

    strings: dict[str, tuple[Any, ...]] = {}
    for clause in plan.clauses if isinstance(plan, AndCondition) else (plan,):
        if isinstance(clause, EqualsCondition):
            values: tuple[Any, ...] = (clause.value,)
        elif isinstance(clause, InCondition):
            values = tuple(clause.values)
            if not values:
                return "0", []  # `$in: []` matches nothing; the engine would read every row
        else:
            continue
        if "." not in clause.field and all(type(v) is str for v in values):
            strings.setdefault(clause.field, values)
    if not strings:
        return None
    if "_id" in strings:
        keys = [engine._storage_key(v) for v in strings["_id"]]
        return f"documents.storage_key IN ({', '.join('?' for _ in keys)})", keys
    fields = _longest_index_prefix(engine, db_name, coll_name, strings)
    if not fields:
        return None
    terms, params = [], []
    for field in fields:
        marks = ", ".join("?" for _ in strings[field])
        terms.append(
            f"{type_expression_sql(field)} = '' AND {value_expression_sql(field)} IN ({marks})"
        )
        params.extend(strings[field])
    return " AND ".join(terms), params


def _longest_index_prefix(
    engine: Any, db_name: str, coll_name: str, strings: dict[str, tuple[Any, ...]]
) -> list[str]:
    """The fields of the longest ordered-index prefix that strings covers, skipping fields
    where some document holds an array (an array matches by element, not by value)."""
    from mongoeco.types import is_ordered_index_spec

    best: list[str] = []
    for index in engine._load_indexes(db_name, coll_name):
        if not (
            index.get("physical_name")
            and index.get("collation") is None
            and is_ordered_index_spec(index["key"])
        ):
            continue
        prefix = []
        for field in index["fields"]:
            if field not in strings or engine._field_is_top_level_array_in_collection(
                db_name, coll_name, field
            ):
                break
            prefix.append(field)
        if len(prefix) > len(best):
            best = prefix
    return best


# 4. Scalar-index copies --------------------------------------------------------------------

SHARED_SCALAR_INDEX = "scidx_hub_shared"


def _fix_scalar_index_copies(engine_cls: type) -> None:
    """Every single-field Mongo index gets a SQLite index named for it, but each one is the
    same index: `scalar_index_entries (collection_id, index_name, type_score, element_key,
    storage_key)` over the entries of all collections. With the hub's 17 single-field
    indexes every entry was stored 17 times and every insert updated 17 b-trees. New
    indexes share one (queries name it with INDEXED BY and filter on collection_id and
    index_name, which lead it); its DROP, issued when one Mongo index or database goes away,
    is skipped, since the others still use it. Databases created before keep their own."""
    from mongoeco.engines._sqlite_connection import SQLiteConnection

    engine_cls._physical_scalar_index_name = lambda self, db_name, coll_name, index_name: (
        SHARED_SCALAR_INDEX
    )
    drop = f'DROP INDEX IF EXISTS "{SHARED_SCALAR_INDEX}"'
    create = f'CREATE INDEX "{SHARED_SCALAR_INDEX}" '
    original_execute = SQLiteConnection.execute

    def execute(self: Any, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql == drop:  # other Mongo indexes still use it
            return original_execute(self, "SELECT 1")
        if sql.startswith(create):  # the second Mongo index to share it
            sql = sql.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
        return original_execute(self, sql, *args)

    SQLiteConnection.execute = execute
