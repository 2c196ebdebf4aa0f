"""Every SQL text and every database test of docnumbers, one operations class per backend.

As Django's own ``db/backends/<vendor>/operations.py`` do, each backend's
statements are methods of one class: ``postgresql``, ``mysql`` (MariaDB and
MySQL), ``sqlite``, and ``base.Operations``, the portable fallback (the ORM
moves counters; the audit's queries are plain SQL every backend runs). ``ops``
picks the class once per connection alias, from its vendor and features.
Identifiers go through ``connection.ops.quote_name`` and Django's
``truncate_name``. Migrations keep their own frozen SQL.
"""

from __future__ import annotations

from .base import OnConflictOperations, Operations
from .mysql import MySQLOperations
from .postgresql import PostgreSQLOperations
from .sqlite import SQLiteOperations

__all__ = ["Operations", "ops", "forget"]

_BY_VENDOR = {
    "postgresql": PostgreSQLOperations,
    "mysql": MySQLOperations,
    "sqlite": SQLiteOperations,
}

#: (alias, vendor) -> the operations of that connection, chosen once.
_chosen: dict[tuple[str, str], Operations] = {}


def _choose(connection) -> type[Operations]:
    cls = _BY_VENDOR.get(connection.vendor)
    if cls is not None:
        return cls
    features = connection.features
    # A third-party backend with PostgreSQL's upsert gets its statements; others the ORM.
    if features.supports_update_conflicts_with_target and features.can_return_columns_from_insert:
        return OnConflictOperations
    return Operations


def ops(connection) -> Operations:
    """The docnumbers operations of ``connection`` (one instance per alias and vendor)."""
    ident = (connection.alias, connection.vendor)
    found = _chosen.get(ident)
    if found is None:
        found = _chosen[ident] = _choose(connection)(connection)
    return found


def forget() -> None:
    """Choose again at the next ``ops`` call (tests that change a connection's settings)."""
    _chosen.clear()
