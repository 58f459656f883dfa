"""What the benchmarks share: a throwaway PostgreSQL database (made,
migrated and dropped), loading rows with COPY while the audit triggers
are skipped, and a description of the machine for the results.

Nothing here imports Django at module level: a script imports this first,
then ``throwaway_database`` points Django at the new database and sets it up.
"""

from __future__ import annotations

import contextlib
import os
import platform
import sys
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql")


# --- the throwaway database ----------------------------------------------------------


def server_urls(name: str) -> tuple[str, str]:
    """(the maintenance database's URL, the throwaway database's URL) on the
    server that DATABASE_URL names; exits when that is not PostgreSQL."""
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    if parts.scheme not in POSTGRES_SCHEMES:
        sys.exit("Set DATABASE_URL to a PostgreSQL server, e.g. postgres://postgres@127.0.0.1/x")
    maintenance = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    return maintenance, urlunsplit(parts._replace(path=f"/{name}"))


def admin_sql(maintenance_url: str, sql: str) -> None:
    """Run one statement (CREATE/DROP DATABASE) outside any transaction."""
    import psycopg

    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        conn.execute(sql)


def django_setup(database_url: str) -> None:
    """Point Django at ``database_url`` and set it up, as a benchmark runs it:
    no broker or shared cache (tasks queue in memory), quiet logs."""
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mdtcare.settings")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-" + uuid.uuid4().hex)
    os.environ.pop("REDIS_URL", None)
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    os.environ["LOG_LEVEL"] = "ERROR"
    import django

    django.setup()


@contextlib.contextmanager
def throwaway_database(name: str, *, keep: bool = False) -> Iterator[str]:
    """Make the database ``name`` afresh on DATABASE_URL's server (whose own
    database is never touched), set Django up on it and migrate it; drop it
    afterwards unless ``keep``. Yields its URL."""
    maintenance_url, bench_url = server_urls(name)
    print(f"Creating the database {name}", flush=True)
    admin_sql(maintenance_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin_sql(maintenance_url, f'CREATE DATABASE "{name}"')
    try:
        django_setup(bench_url)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        yield bench_url
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        if not keep:
            admin_sql(maintenance_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            print(f"Dropped the database {name}")


# --- loading -------------------------------------------------------------------------


@contextlib.contextmanager
def audit_triggers_skipped(cursor) -> Iterator[None]:
    """Inside a transaction: no change-history rows (the audit triggers) and
    no foreign-key checks for made-up data loaded in bulk, whose keys are
    right by construction. Needs a superuser (as ``postgres`` is)."""
    cursor.execute("SET LOCAL session_replication_role = replica")
    yield
    # Back to the session's setting for whatever the transaction does next (a
    # test goes on in it). Not after an error: the transaction is rolled back.
    cursor.execute("SET LOCAL session_replication_role = DEFAULT")


def copy_models(model, objects: Iterable) -> int:
    """COPY unsaved model instances into the model's table (every concrete
    column, values as Django would save them). For thousands of rows; the
    ceiling generator writes COPY text itself, which is several times faster."""
    from django.db import connection

    fields = model._meta.concrete_fields
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    count = 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for obj in objects:
            copy.write_row(
                [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields]
            )
            count += 1
    return count


# --- describing the run ----------------------------------------------------------------


def server_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


def machine_description() -> str:
    """PostgreSQL and Python versions, CPUs and the load average now."""
    return (
        f"PostgreSQL {server_version()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f} at the end)"
    )
