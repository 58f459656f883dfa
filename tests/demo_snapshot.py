"""The demo data set for tests, loaded once per day it is built for.

Loading the demo data set (``mdtcare.core.demo.demo_data_load``) takes some
seconds, and dozens of tests (every browser journey, the demo's own checks)
start from it. ``demo_restore(today)`` loads it the first time it is asked
for a given ``today``, keeps a copy of every table in memory (PostgreSQL
``COPY … TO STDOUT``), and afterwards puts that copy back instead of loading
again: the tables are emptied and filled with ``COPY … FROM STDIN`` in one
transaction, with the triggers and foreign-key checks off (the copy is the
demo's own, whole and consistent, change history included). Sequences are
left alone: they only go up in a test database (a flush does not restart
them), and the restored ids were drawn from them, so a row made after a
restore never reuses an id, not even one that a task queued by an earlier
test still carries. Inside a test's transaction the restore is rolled back
with it; under ``transactional_db`` it is committed, and the test's flush
empties the tables afterwards.

The result is the database a fresh load gives, row for row, ids included.
On databases other than PostgreSQL it simply loads every time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction

# Never emptied or restored: written by migrate, the same in every state.
_KEPT = {"django_migrations"}


@dataclass(frozen=True)
class _Snapshot:
    tables: tuple[str, ...]  # every table, in the order they are emptied
    rows: dict[str, bytes]  # table -> its rows as COPY text (tables with rows only)


_snapshots: dict[dt.date, _Snapshot] = {}


def demo_restore(today: dt.date | None = None) -> None:
    """The demo data set as ``demo_data_load(today=today)`` leaves it."""
    from mdtcare.core.demo import demo_data_load

    today = today or dt.date.today()
    if connection.vendor != "postgresql":
        demo_data_load(today=today)
        return
    snapshot = _snapshots.get(today)
    if snapshot is None:
        demo_data_load(today=today)
        _snapshots[today] = _take()
        return
    _put_back(snapshot)


def _tables(cursor) -> tuple[str, ...]:
    cursor.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
    )
    return tuple(name for (name,) in cursor.fetchall() if name not in _KEPT)


def _take() -> _Snapshot:
    rows = {}
    with connection.cursor() as cursor:
        tables = _tables(cursor)
        for table in tables:
            quoted = connection.ops.quote_name(table)
            with cursor.cursor.copy(f"COPY {quoted} TO STDOUT") as copy:
                data = b"".join(bytes(chunk) for chunk in copy)
            if data:
                rows[table] = data
    return _Snapshot(tables=tables, rows=rows)


def _put_back(snapshot: _Snapshot) -> None:
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("TRUNCATE " + ", ".join(quote(table) for table in snapshot.tables))
        for table, data in snapshot.rows.items():
            with cursor.cursor.copy(f"COPY {quote(table)} FROM STDIN") as copy:
                copy.write(data)
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    # Content type ids are the snapshot's now, not those a flush made.
    ContentType.objects.clear_cache()
