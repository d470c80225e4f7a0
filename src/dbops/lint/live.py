"""Column types of a live database: what the lint knows of a table before a ``.sql`` file changes it.

``dbops check locks FILE.sql --database-url URL`` seeds the lint's catalog with them, so that a
type change that only relabels (``varchar(20)`` → ``varchar(50)``, ``varchar`` → ``text``) is
recognised as such. Read-only: one catalog query in a read-only transaction.
"""

from __future__ import annotations

from dbops.lint.pgtypes import TypeInfo

# Every user table and partitioned table, its columns and their types as PostgreSQL prints them;
# ``public`` first so that a bare name resolves as the default search_path would.
COLUMNS_SQL = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
ORDER BY n.nspname <> 'public', n.nspname, c.relname, a.attnum
"""


def column_types(url: str) -> dict[str, dict[str, TypeInfo]]:
    """Bare table name → column → type, of every user table of the database at ``url``."""
    from dbops.db import connection

    with connection(url) as conn:
        conn.read_only = True
        rows = conn.execute(COLUMNS_SQL).fetchall()
    tables: dict[str, dict[str, TypeInfo]] = {}
    for table, column, type_text in rows:
        info = parse_type(type_text)
        if info is not None:
            tables.setdefault(table, {}).setdefault(column, info)
    return tables


def parse_type(type_text: str) -> TypeInfo | None:
    """A ``format_type`` string as a TypeInfo.

    >>> parse_type("character varying(20)"), parse_type("timestamp(3) with time zone").name
    (TypeInfo(name='varchar', params=(20,), array=False), 'timestamptz')
    >>> parse_type("integer[]")
    TypeInfo(name='int4', params=(), array=True)
    """
    from dbops.lint.facts.columns import type_from_tokens
    from dbops.lint.sqltext import tokenize

    try:
        return type_from_tokens(tokenize(type_text))
    except Exception:
        return None
