"""The `sql` kind: one read-only query against any SQLAlchemy database is the snapshot."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.engine import URL, Row
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from inventory_sync.domain.model import Snapshot, SourceName, Warehouse
from inventory_sync.errors import ConfigError, ConfigProblem, FeedFormatError, SourceUnavailable
from inventory_sync.ports import Clock, Source
from inventory_sync.sources.base import (
    SourceContext,
    SourceSpec,
    check_warehouses,
    checksum_records,
    invalid_options,
)
from inventory_sync.sources.rows import FIXED_WAREHOUSE, RawRow, RowRules, validate_rows
from inventory_sync.sources.timestamps import parse_timestamp


class SqlOptions(BaseModel):
    """Options of the `sql` kind, as written under [sources.options]."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: SecretStr | None = None  # may hold a password, so never shown in logs or errors
    url_secret: str | None = None  # name of a credential holding the URL instead
    query: str = Field(min_length=1)
    query_name: str | None = None  # shown as the origin of rejected rows; else the bare URL
    sku_column: str = "sku"
    quantity_column: str = "quantity"
    warehouse_column: str | None = None
    warehouse_map: dict[str, str] = Field(default_factory=dict)
    taken_at_column: str | None = None  # newest value in it becomes taken_at, else pull time
    timeout_seconds: float = Field(default=30, gt=0)

    @model_validator(mode="after")
    def _one_url(self) -> SqlOptions:
        if (self.url is None) == (self.url_secret is None):
            raise ValueError("give exactly one of url and url_secret")
        if self.warehouse_map and self.warehouse_column is None:
            raise ValueError("warehouse_map needs warehouse_column")
        return self


def read_only_url(url: URL) -> URL:
    """SQLite opens read-only through a URI filename; other databases are handled per session."""
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in {"", ":memory:"}:
        return url
    if database.startswith("file:"):
        return url.update_query_dict({"mode": "ro", "uri": "true"})
    return url.set(database=f"file:{database}").update_query_dict({"mode": "ro", "uri": "true"})


def connect_args(url: URL, timeout: float) -> dict[str, Any]:
    """Driver options that bound waiting and forbid writes, where the driver has them."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        return {"timeout": timeout}  # how long to wait on a writer's lock
    if backend == "postgresql" and url.get_driver_name() in {"psycopg", "psycopg2"}:
        millis = int(timeout * 1000)
        return {
            "connect_timeout": max(1, round(timeout)),
            "options": f"-c default_transaction_read_only=on -c statement_timeout={millis}",
        }
    return {}


class SqlQuerySource:
    """Runs the query in a read-only transaction; every row of the result is one level."""

    def __init__(self, spec: SourceSpec, options: SqlOptions, url: URL, clock: Clock) -> None:
        self._spec = spec
        self._options = options
        self._clock = clock
        self._url = read_only_url(url)
        self._origin = options.query_name or url.render_as_string(hide_password=True)
        bare = URL.create(url.drivername, host=url.host, port=url.port, database=url.database)
        self._reads_from = bare.render_as_string(hide_password=True)
        # NullPool: a poller that runs every few minutes should not hold an ERP connection open.
        self._engine: Engine = create_engine(
            self._url,
            poolclass=NullPool,
            connect_args=connect_args(self._url, options.timeout_seconds),
        )
        self._rules = RowRules.for_spec(
            spec,
            warehouse_map={k: Warehouse(v) for k, v in options.warehouse_map.items()},
            sku_field=options.sku_column,
            quantity_field=options.quantity_column,
            warehouse_field=options.warehouse_column or "warehouse",
        )

    @property
    def name(self) -> SourceName:
        return self._spec.name

    @property
    def reads_from(self) -> str:
        """The database's host and name (or SQLite file): no user, password or options."""
        return self._reads_from

    def pull(self) -> Snapshot:
        taken_at = self._clock.now()
        columns, rows = self._fetch()
        index = self._column_index(columns)
        raw = [self._raw_row(number, row, index) for number, row in enumerate(rows, start=1)]
        good, rejected = validate_rows(raw, self._rules)
        picked = [[row[i] for i in index.values()] for row in rows]
        return Snapshot(
            source=self._spec.name,
            snapshot_id=checksum_records(picked),
            taken_at=self._taken_at(columns, rows) or taken_at,
            completeness=self._spec.completeness,
            basis=self._spec.basis,
            warehouses=frozenset(self._spec.warehouses),
            rows=good,
            rejected=rejected,
            origin=self._origin,
        )

    def close(self) -> None:
        self._engine.dispose()

    def _fetch(self) -> tuple[list[str], Sequence[Row[Any]]]:
        try:
            with self._engine.connect() as conn:
                if self._url.get_backend_name() == "postgresql":
                    # Belt and braces next to default_transaction_read_only: the first
                    # statement of the transaction, so nothing before it could write.
                    conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                result = conn.execute(text(self._options.query))
                columns = list(result.keys())
                rows = result.fetchall()
                conn.rollback()  # nothing to keep; ends the read-only transaction
        except (OperationalError, DBAPIError) as err:
            if isinstance(err, OperationalError) or err.connection_invalidated:
                raise self._unavailable(f"query failed: {_first_line(err)}") from err
            raise self._format_error(f"query failed: {_first_line(err)}") from err
        except SQLAlchemyError as err:
            raise self._format_error(f"query failed: {_first_line(err)}") from err
        return columns, rows

    def _column_index(self, columns: list[str]) -> dict[str, int]:
        folded = [c.casefold() for c in columns]
        wanted = {"sku": self._options.sku_column, "quantity": self._options.quantity_column}
        if self._options.warehouse_column is not None:
            wanted["warehouse"] = self._options.warehouse_column
        index: dict[str, int] = {}
        for role, column in wanted.items():
            if column.casefold() not in folded:
                raise self._format_error(
                    f"the query returns no {role} column {column!r}; it returns {columns}"
                )
            index[role] = folded.index(column.casefold())
        return index

    def _taken_at(self, columns: list[str], rows: Sequence[Row[Any]]) -> datetime | None:
        """The newest value of taken_at_column, so max_age judges the data, not the query."""
        column = self._options.taken_at_column
        if column is None:
            return None
        folded = [c.casefold() for c in columns]
        if column.casefold() not in folded:
            raise self._format_error(
                f"the query returns no column {column!r}; it returns {columns}"
            )
        position = folded.index(column.casefold())
        moments = [parse_timestamp(row[position]) for row in rows if row[position] is not None]
        if not moments or None in moments:
            raise self._format_error(f"column {column!r} holds no usable timestamps")
        return max(m for m in moments if m is not None)

    def _raw_row(self, number: int, row: Row[Any], index: dict[str, int]) -> RawRow:
        warehouse = row[index["warehouse"]] if "warehouse" in index else FIXED_WAREHOUSE
        return RawRow(
            origin=self._origin,
            line=number,
            sku=row[index["sku"]],
            quantity=row[index["quantity"]],
            warehouse=warehouse,
        )

    def _format_error(self, message: str) -> FeedFormatError:
        return FeedFormatError(
            f"{self._origin}: {message}", source=self._spec.name, origin=self._origin
        )

    def _unavailable(self, message: str) -> SourceUnavailable:
        return SourceUnavailable(
            f"{self._origin}: {message}", source=self._spec.name, origin=self._origin
        )


def _first_line(err: SQLAlchemyError) -> str:
    """The driver's own words, without SQLAlchemy's multi-line background link."""
    orig = getattr(err, "orig", None)
    return str(orig or err).strip().splitlines()[0]


class SqlKind:
    """A WMS or ERP database: a query that returns sku, quantity and maybe warehouse."""

    options_model: type[BaseModel] = SqlOptions

    def build(self, spec: SourceSpec, options: BaseModel, context: SourceContext) -> Source:
        if not isinstance(options, SqlOptions):
            raise invalid_options("sql", options, SqlOptions)
        if options.url is not None:
            raw = options.url.get_secret_value()
        else:
            raw = context.read_secret(options.url_secret or "").strip()
        check_warehouses(spec, options.warehouse_column, options.warehouse_map)
        try:
            url = make_url(raw)
        except ArgumentError:
            # The URL may hold a password: say what is wrong without repeating it or chaining.
            key = "options.url" if options.url is not None else "options.url_secret"
            problem = ConfigProblem(key, "not a valid SQLAlchemy URL")
            raise ConfigError([problem], origin=f"source {spec.name!r}") from None
        return SqlQuerySource(spec, options, url, context.clock)


KIND = SqlKind()
