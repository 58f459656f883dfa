"""Database triggers that write the change history and keep it append-only.

Why triggers: the history must hold changes made by queryset ``update()``,
bulk operations, management commands and data migrations, which model-level
history libraries do not see (decision 0002). PostgreSQL gets one generic
PL/pgSQL function; SQLite, which has no row-to-JSON, gets per-table triggers
generated from the model's columns.
"""

from __future__ import annotations

from django.db import connection as default_connection

from mdtcare.audit import context as audit_context_module
from mdtcare.audit.registry import audited_models

CHANGE_TABLE = "audit_changeevent"
APPEND_ONLY_TABLES = ("audit_changeevent", "audit_accessevent", "audit_accesseventpatient")

# --- PostgreSQL --------------------------------------------------------------

PG_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION mdtcare_audit_record_change() RETURNS trigger AS $$
DECLARE
    old_row jsonb;
    new_row jsonb;
    before_values jsonb;
    after_values jsonb;
    pk text := TG_ARGV[0];
    redacted text[] := TG_ARGV[1:];
    column_name text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        new_row := to_jsonb(NEW);
        after_values := new_row;
    ELSIF TG_OP = 'DELETE' THEN
        old_row := to_jsonb(OLD);
        before_values := old_row;
    ELSE
        old_row := to_jsonb(OLD);
        new_row := to_jsonb(NEW);
        -- Keep only the columns that changed; an update that changes nothing
        -- records nothing.
        SELECT jsonb_object_agg(o.key, o.value), jsonb_object_agg(o.key, n.value)
          INTO before_values, after_values
          FROM jsonb_each(old_row) o JOIN jsonb_each(new_row) n USING (key)
         WHERE o.value IS DISTINCT FROM n.value;
        IF before_values IS NULL THEN
            RETURN NULL;
        END IF;
    END IF;
    FOREACH column_name IN ARRAY COALESCE(redacted, '{{}}') LOOP
        IF before_values ? column_name THEN
            before_values := before_values || jsonb_build_object(column_name, '[redacted]');
        END IF;
        IF after_values ? column_name THEN
            after_values := after_values || jsonb_build_object(column_name, '[redacted]');
        END IF;
    END LOOP;
    INSERT INTO {CHANGE_TABLE}
        (at, table_name, row_id, operation, before, after, actor_id, request_id, source)
    VALUES (
        clock_timestamp(), TG_TABLE_NAME,
        COALESCE(new_row ->> pk, old_row ->> pk), lower(TG_OP),
        before_values, after_values,
        NULLIF(current_setting('mdtcare.actor_id', true), '')::uuid,
        NULLIF(current_setting('mdtcare.request_id', true), ''),
        NULLIF(current_setting('mdtcare.source', true), '')
    );
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- Only the test suite's flush empties the audit tables: it sets
-- mdtcare.audit_purge, and it works only in a test database (pytest-django
-- names them test_...). In any other database the tables refuse every
-- UPDATE, DELETE and TRUNCATE, whatever a session sets.
CREATE OR REPLACE FUNCTION mdtcare_audit_purge_permitted(database_name text) RETURNS boolean AS $$
    SELECT current_setting('mdtcare.audit_purge', true) = 'on'
       AND database_name LIKE 'test\\_%';
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION mdtcare_audit_refuse_change() RETURNS trigger AS $$
BEGIN
    IF mdtcare_audit_purge_permitted(current_database()) THEN
        RETURN COALESCE(OLD, NEW);
    END IF;
    RAISE EXCEPTION 'audit table % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""  # nosec B608 # only the CHANGE_TABLE constant is interpolated, never input

PG_REVERSE_FUNCTIONS = """
DROP FUNCTION IF EXISTS mdtcare_audit_record_change() CASCADE;
DROP FUNCTION IF EXISTS mdtcare_audit_refuse_change() CASCADE;
DROP FUNCTION IF EXISTS mdtcare_audit_purge_permitted(text);
"""


def pg_append_only_sql(table: str) -> str:
    return f"""
DROP TRIGGER IF EXISTS mdtcare_append_only ON {table};
CREATE TRIGGER mdtcare_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION mdtcare_audit_refuse_change();
DROP TRIGGER IF EXISTS mdtcare_append_only_truncate ON {table};
CREATE TRIGGER mdtcare_append_only_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION mdtcare_audit_refuse_change();
"""


def _pg_change_trigger_sql(table: str, pk_column: str, redacted: list[str]) -> str:
    arguments = ", ".join(f"'{column}'" for column in [pk_column, *redacted])
    return f"""
DROP TRIGGER IF EXISTS mdtcare_audit_change ON {table};
CREATE TRIGGER mdtcare_audit_change AFTER INSERT OR UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION mdtcare_audit_record_change({arguments});
"""


def pg_context_wrapper(execute, sql, params, many, context):
    """Copy the audit context into session settings before each write.

    Session-level (not transaction-local) settings, so that writes in
    autocommit mode see them too; set before every write so that a value
    reverted by a rollback, or left by an earlier request on a reused
    connection, is never used. Executed on the raw cursor so query counts in
    tests see only the application's own queries.
    """
    if _is_write(sql):
        values = audit_context_module.current()
        context["cursor"].cursor.execute(
            "SELECT set_config('mdtcare.actor_id', %s, false),"
            " set_config('mdtcare.request_id', %s, false),"
            " set_config('mdtcare.source', %s, false),"
            " set_config('mdtcare.audit_purge', %s, false)",
            [
                values.resolved_actor_id(),
                values.request_id,
                values.source,
                "on" if audit_context_module.purge_allowed() else "off",
            ],
        )
    return execute(sql, params, many, context)


_WRITE_VERBS = ("insert", "update", "delete", "truncate", "merge", "copy", "with")


def _is_write(sql: str) -> bool:
    return sql.lstrip()[:8].lower().startswith(_WRITE_VERBS)


# --- SQLite ------------------------------------------------------------------


def sqlite_register_functions(dbapi_connection) -> None:
    """The functions SQLite triggers call to learn who is changing what."""
    dbapi_connection.create_function(
        "mdtcare_audit_actor", 0, lambda: audit_context_module.current().resolved_actor_id() or None
    )
    dbapi_connection.create_function(
        "mdtcare_audit_request", 0, lambda: audit_context_module.current().request_id or None
    )
    dbapi_connection.create_function(
        "mdtcare_audit_source", 0, lambda: audit_context_module.current().source or None
    )
    dbapi_connection.create_function(
        "mdtcare_audit_purge_allowed", 0, lambda: 1 if audit_context_module.purge_allowed() else 0
    )


def _sqlite_row_json(alias: str, columns: list[str], redacted: list[str]) -> str:
    pairs = ", ".join(
        f"'{column}', " + ("'[redacted]'" if column in redacted else f'{alias}."{column}"')
        for column in columns
    )
    return f"json_object({pairs})"


def _sqlite_changed_only(row_json: str, columns: list[str]) -> str:
    """Remove from ``row_json`` every column that the update did not change."""
    paths = ", ".join(
        f"CASE WHEN OLD.\"{column}\" IS NEW.\"{column}\" THEN '$.{column}' ELSE '$.__changed__' END"
        for column in columns
    )
    return f"json_remove({row_json}, {paths})"


def _sqlite_change_trigger_sql(
    table: str, pk_column: str, columns: list[str], redacted: list[str]
) -> list[str]:
    insert = (
        f"INSERT INTO {CHANGE_TABLE} "
        "(at, table_name, row_id, operation, before, after, actor_id, request_id, source) "
    )
    context = "mdtcare_audit_actor(), mdtcare_audit_request(), mdtcare_audit_source()"
    now = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
    old_json = _sqlite_row_json("OLD", columns, redacted)
    new_json = _sqlite_row_json("NEW", columns, redacted)
    any_change = " OR ".join(f'OLD."{column}" IS NOT NEW."{column}"' for column in columns)
    statements = [
        f'DROP TRIGGER IF EXISTS "mdtcare_audit_{table}_{name}"'
        for name in ("insert", "update", "delete")
    ]
    statements.append(
        f'CREATE TRIGGER "mdtcare_audit_{table}_insert" AFTER INSERT ON "{table}" BEGIN '
        f"{insert} VALUES ({now}, '{table}', NEW.\"{pk_column}\", 'insert', NULL, "
        f"{new_json}, {context}); END"
    )
    statements.append(
        f'CREATE TRIGGER "mdtcare_audit_{table}_update" AFTER UPDATE ON "{table}" '
        f"WHEN {any_change} BEGIN "
        f"{insert} VALUES ({now}, '{table}', NEW.\"{pk_column}\", 'update', "
        f"{_sqlite_changed_only(old_json, columns)}, {_sqlite_changed_only(new_json, columns)}, "
        f"{context}); END"
    )
    statements.append(
        f'CREATE TRIGGER "mdtcare_audit_{table}_delete" AFTER DELETE ON "{table}" BEGIN '
        f"{insert} VALUES ({now}, '{table}', OLD.\"{pk_column}\", 'delete', {old_json}, "
        f"NULL, {context}); END"
    )
    return statements


def _sqlite_append_only_sql(table: str) -> list[str]:
    guard = "WHEN mdtcare_audit_purge_allowed() = 0"
    refuse = f"SELECT RAISE(ABORT, 'audit table {table} is append-only'); END"
    return [
        f'DROP TRIGGER IF EXISTS "mdtcare_append_only_{table}_update"',
        f'DROP TRIGGER IF EXISTS "mdtcare_append_only_{table}_delete"',
        f'CREATE TRIGGER "mdtcare_append_only_{table}_update" BEFORE UPDATE ON "{table}" '
        f"BEGIN {refuse}",
        f'CREATE TRIGGER "mdtcare_append_only_{table}_delete" BEFORE DELETE ON "{table}" '
        f"{guard} BEGIN {refuse}",
    ]


# --- installing ----------------------------------------------------------------


def install_change_triggers(connection=None) -> int:
    """(Re)install the change trigger of every audited model. Idempotent; run
    after every migration, because SQLite drops a table's triggers when a
    migration rebuilds the table."""
    connection = connection or default_connection
    existing = set(connection.introspection.table_names())
    installed = 0
    with connection.cursor() as cursor:
        for model, redact in audited_models().items():
            table = model._meta.db_table
            if table not in existing:
                continue
            pk_column = model._meta.pk.column
            redacted = [model._meta.get_field(name).column for name in redact]
            if connection.vendor == "postgresql":
                cursor.execute(_pg_change_trigger_sql(table, pk_column, redacted))
            elif connection.vendor == "sqlite":
                columns = [field.column for field in model._meta.concrete_fields]
                for statement in _sqlite_change_trigger_sql(table, pk_column, columns, redacted):
                    cursor.execute(statement)
            installed += 1
        if connection.vendor == "sqlite":
            for table in APPEND_ONLY_TABLES:
                if table in existing:
                    for statement in _sqlite_append_only_sql(table):
                        cursor.execute(statement)
    return installed
