"""Many rows in one statement, straight to the driver's `executemany`.

SQLAlchemy's per-row type processing costs more than the database for 10,000-row
batches; here values are converted once per column kind, in the same storage format the
column types use (timestamps as naive UTC, enums by value, JSON as text), so the ORM
reads them back alike.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.db.base import UtcDateTime


def _converter(column: sa.Column[Any], sqlite: bool) -> Callable[[Any], Any] | None:
    """How to turn a Python value into the driver's for this column (None: as it is)."""
    kind = column.type
    if isinstance(kind, UtcDateTime):
        seen: dict[datetime, Any] = {}  # a batch shares a few timestamps

        def stamp(value: datetime | None) -> Any:
            if value is None:
                return None
            out = seen.get(value)
            if out is None:
                naive = value.astimezone(UTC).replace(tzinfo=None)
                # SQLAlchemy's SQLite DateTime storage format.
                out = seen[value] = naive.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else naive
            return out

        return stamp
    if isinstance(kind, sa.Enum):
        return lambda v: v.value if isinstance(v, enum.Enum) else v
    if isinstance(kind, sa.JSON) or isinstance(getattr(kind, "impl", None), sa.JSON):
        return lambda v: None if v is None else json.dumps(v)
    if isinstance(kind, sa.Boolean) and sqlite:
        return lambda v: None if v is None else int(v)
    return None


def insert_rows(session: Session, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT every row (all with the same keys): one executemany on SQLite, one COPY on
    PostgreSQL, in the session's transaction."""
    if not rows:
        return
    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    keys = list(rows[0])
    quoted = ", ".join(conn.dialect.identifier_preparer.quote(k) for k in keys)
    marks = ", ".join("?" if sqlite else "%s" for _ in keys)
    sql = f"INSERT INTO {table.name} ({quoted}) VALUES ({marks})"
    converters = [(k, _converter(table.c[k], sqlite)) for k in keys]
    params = [tuple(r[k] if conv is None else conv(r[k]) for k, conv in converters) for r in rows]
    if sqlite:
        conn.exec_driver_sql(sql, params)
        return
    # PostgreSQL: COPY is one stream, many times faster than row-by-row executemany.
    driver = conn.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({quoted}) FROM STDIN") as copy:  # type: ignore[union-attr]
        for row in params:
            copy.write_row(row)


def where_in(session: Session, query: sa.Select[Any], column: Any, values: Sequence[Any]) -> sa.Select[Any]:
    """`query` restricted to rows whose `column` is one of `values` (thousands of them).

    On PostgreSQL `col = ANY(array)` is checked against the whole array for every row the
    index yields (quadratic for big scopes); a join from `unnest(array)` does one index
    lookup per value instead. SQLite turns an IN list into index probes by itself."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        u = sa.func.unnest(sa.bindparam(None, list(values), type_=postgresql.ARRAY(column.type))).table_valued("v").render_derived()
        return query.join(u, column == u.c.v)
    return query.where(column.in_(list(values)))


def existing(session: Session, table: sa.Table, fixed: dict[str, Any], column: str,
             values: Sequence[Any]) -> set[Any]:
    """Which of `values` appear in `table.column` among the rows matching `fixed`.

    On PostgreSQL a `col = ANY(array)` filter scans the whole array for every candidate
    row (quadratic for big collections); a join from `unnest(array)` does one index
    lookup per value instead. SQLite turns an IN list into an index probe by itself."""
    if not values:
        return set()
    if session.get_bind().dialect.name != "postgresql":
        query = sa.select(table.c[column]).where(*(table.c[k] == v for k, v in fixed.items()),
                                                 table.c[column].in_(list(values)))
        return set(session.scalars(query))
    conds = " AND ".join(f"t.{k} = :f_{k}" for k in fixed)
    sql = sa.text(f"SELECT u.v FROM unnest(CAST(:vals AS text[])) AS u(v) "
                  f"WHERE EXISTS (SELECT 1 FROM {table.name} t WHERE {conds} AND t.{column} = u.v)")
    params = {"vals": list(values), **{f"f_{k}": v for k, v in fixed.items()}}
    return set(session.scalars(sql, params))


def add_to_counters(session: Session, table: sa.Table, key: dict[str, Any], deltas: dict[str, int],
                    also: dict[str, Any]) -> None:
    """`table[key] += deltas` (and `= also`), the row made if missing, in one statement:
    two transactions that create the same counter row at once both succeed (an UPDATE
    followed by an INSERT would fail one of them on the primary key)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table).values(**key, **deltas, **also)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(key),
        set_={**{c: table.c[c] + stmt.excluded[c] for c in deltas}, **{c: stmt.excluded[c] for c in also}})
    session.execute(stmt)
