"""The sql kind against real SQLite files and a real PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from source_helpers import Secrets, make_spec

from inventory_sync.errors import ConfigError, FeedFormatError, SourceError, SourceUnavailable
from inventory_sync.sources.base import SourceContext
from inventory_sync.sources.sql_query import KIND, SqlOptions, read_only_url

POSTGRES_URL = os.environ.get("INVENTORY_SYNC_TEST_POSTGRES_URL")


class Database:
    """A scratch table with a unique name in a real database, dropped afterwards."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.table = f"stock_{uuid.uuid4().hex[:12]}"
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with self.engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE TABLE {self.table} (item TEXT, qty NUMERIC, site TEXT)")

    def insert(self, *rows) -> None:
        if self.engine.dialect.name == "sqlite":  # the sqlite3 driver cannot bind Decimal
            rows = [(i, float(q) if isinstance(q, Decimal) else q, s) for i, q, s in rows]
        with self.engine.begin() as conn:
            conn.execute(
                sa.text(f"INSERT INTO {self.table} VALUES (:item, :qty, :site)"),  # noqa: S608
                [{"item": i, "qty": q, "site": s} for i, q, s in rows],
            )

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.exec_driver_sql(f"SELECT count(*) FROM {self.table}").scalar_one()  # noqa: S608

    def select(self, columns: str = "item AS sku, qty AS quantity", tail: str = "") -> str:
        return f"SELECT {columns} FROM {self.table} {tail}"  # noqa: S608 - our own scratch table

    def drop(self) -> None:
        with self.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {self.table}")
        self.engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request, tmp_path):
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'wms.db'}")
    elif POSTGRES_URL is None:
        pytest.skip("set INVENTORY_SYNC_TEST_POSTGRES_URL to run against PostgreSQL")
    else:
        database = Database(POSTGRES_URL)
    yield database
    database.drop()


def source_for(db, context, spec=None, query=None, **options):
    query = query or db.select("item AS sku, qty AS quantity, site")
    return KIND.build(spec or make_spec(), SqlOptions(url=db.url, query=query, **options), context)


def levels(snapshot):
    return {(o.warehouse, o.sku): o.quantity for o in snapshot.observations}


class TestQuery:
    def test_each_result_row_is_one_level_stamped_from_the_spec(self, db, context, clock):
        db.insert(("A", 1, None), ("B", Decimal("20.000"), None))
        snapshot = source_for(db, context).pull()
        assert levels(snapshot) == {("main", "A"): 1, ("main", "B"): 20}
        assert snapshot.taken_at == clock.now()
        assert snapshot.warehouses == frozenset({"main"})
        assert "wms.db" in snapshot.origin or "postgresql" in snapshot.origin

    def test_bad_rows_are_rejected_and_good_rows_go_on(self, db, context):
        db.insert(("A", 1, None), ("B", Decimal("2.5"), None), ("C", None, None), (None, 4, None))
        snapshot = source_for(db, context, query_name="stock query").pull()
        assert levels(snapshot) == {("main", "A"): 1}
        assert {(r.line, r.field, r.reason.split(",")[0]) for r in snapshot.rejected} == {
            (2, "quantity", "quantity must be a whole number"),
            (3, "quantity", "quantity is missing"),
            (4, "sku", "SKU is missing"),
        }
        assert {r.origin for r in snapshot.rejected} == {"stock query"}

    def test_warehouse_column_and_map(self, db, context):
        db.insert(("A", 1, "E1"), ("A", 2, "W1"), ("B", 3, "N9"))
        spec = make_spec("east", "west")
        source = source_for(
            db, context, spec, warehouse_column="SITE", warehouse_map={"E1": "east", "W1": "west"}
        )
        snapshot = source.pull()
        assert levels(snapshot) == {("east", "A"): 1, ("west", "A"): 2}
        assert [r.value for r in snapshot.rejected] == ["N9"]

    def test_column_names_are_configurable(self, db, context):
        db.insert(("A", 1, None))
        query = db.select("item, qty")
        source = source_for(db, context, query=query, sku_column="item", quantity_column="QTY")
        assert levels(source.pull()) == {("main", "A"): 1}

    def test_a_missing_column_names_what_the_query_returns(self, db, context):
        db.insert(("A", 1, None))
        query = db.select("item, qty")
        with pytest.raises(
            FeedFormatError, match=r"no sku column 'sku'; it returns \['item', 'qty'\]"
        ):
            source_for(db, context, query=query).pull()

    def test_a_broken_query_is_a_source_error_in_the_drivers_words(self, db, context):
        with pytest.raises(SourceError, match="no_such_table"):
            source_for(db, context, query="SELECT sku, quantity FROM no_such_table").pull()


class TestChecksum:
    def test_the_same_rows_in_another_order_have_the_same_id(self, db, context):
        db.insert(("A", 1, None), ("B", 2, None))
        up = source_for(db, context, query=db.select(tail="ORDER BY item"))
        down = source_for(
            db,
            context,
            query=db.select(tail="ORDER BY item DESC"),
        )
        first = up.pull().snapshot_id
        assert first == down.pull().snapshot_id == up.pull().snapshot_id
        db.insert(("C", 3, None))
        assert up.pull().snapshot_id != first


class TestReadOnly:
    def test_a_query_that_writes_is_refused_and_writes_nothing(self, db, context):
        db.insert(("A", 1, None))
        insert = f"INSERT INTO {db.table} VALUES ('X', 1, NULL)"  # noqa: S608 - scratch table
        query = f"{insert} RETURNING item AS sku, qty AS quantity"
        with pytest.raises(SourceError, match=r"read-only|readonly"):
            source_for(db, context, query=query).pull()
        assert db.count() == 1


def test_sqlite_urls_open_read_only():
    url = read_only_url(sa.make_url("sqlite:////var/lib/wms.db"))
    assert url.database == "file:/var/lib/wms.db"
    assert dict(url.query) == {"mode": "ro", "uri": "true"}
    assert read_only_url(sa.make_url("sqlite://")).database is None


def test_a_missing_sqlite_file_is_unavailable_not_created(tmp_path, context):
    path = tmp_path / "absent.db"
    options = SqlOptions(url=f"sqlite:///{path}", query="SELECT 1 AS sku, 1 AS quantity")
    with pytest.raises(SourceUnavailable, match="unable to open database file"):
        KIND.build(make_spec(), options, context).pull()
    assert not path.exists()


def test_the_url_can_come_from_a_named_secret(tmp_path, clock):
    db = Database(f"sqlite:///{tmp_path / 'wms.db'}")
    db.insert(("A", 5, None))
    context = SourceContext(
        clock=clock, read_secret=Secrets(wms_url=db.url + "\n"), state_dir=tmp_path
    )
    options = SqlOptions(
        url_secret="wms_url",  # noqa: S106 - the name of a credential, not one
        query=db.select(),
    )
    assert levels(KIND.build(make_spec(), options, context).pull()) == {("main", "A"): 5}


class TestOptions:
    @pytest.mark.parametrize(
        ("options", "message"),
        [
            ({"query": "SELECT 1"}, "exactly one of url and url_secret"),
            ({"query": "SELECT 1", "url": "sqlite://", "url_secret": "x"}, "exactly one"),
            ({"url": "sqlite://", "query": ""}, "query"),
            ({"url": "sqlite://", "query": "q", "timeout_seconds": 0}, "timeout_seconds"),
            (
                {"url": "sqlite://", "query": "q", "warehouse_map": {"a": "b"}},
                "needs warehouse_column",
            ),
        ],
    )
    def test_bad_options_are_refused_by_the_model(self, options, message):
        with pytest.raises(ValueError, match=message):
            SqlOptions.model_validate(options)

    def test_an_invalid_url_is_a_config_problem_that_does_not_echo_it(self, context):
        options = SqlOptions(url="not a url:secret@", query="SELECT 1")
        with pytest.raises(ConfigError) as raised:
            KIND.build(make_spec(), options, context)
        assert "secret" not in str(raised.value)
        assert raised.value.problems[0].key == "options.url"
        assert raised.value.__cause__ is None


class TestTakenAt:
    def test_the_newest_value_of_taken_at_column_is_when_the_data_was_true(self, db, context):
        db.insert(("A", 1, "2026-01-05T10:00:00Z"), ("B", 2, "2026-01-05T11:30:00+00:00"))
        query = db.select("item AS sku, qty AS quantity, site AS updated")
        snapshot = source_for(db, context, query=query, taken_at_column="updated").pull()
        assert snapshot.taken_at == datetime(2026, 1, 5, 11, 30, tzinfo=UTC)

    def test_a_taken_at_column_without_timestamps_is_a_feed_error(self, db, context):
        db.insert(("A", 1, "soon"))
        query = db.select("item AS sku, qty AS quantity, site AS updated")
        with pytest.raises(FeedFormatError, match="holds no usable timestamps"):
            source_for(db, context, query=query, taken_at_column="updated").pull()


def test_a_person_waiting_is_shown_the_database_read_never_the_user_or_password(context):
    url = "postgresql+psycopg://erp:s3cret-pw@db.example:5433/wms?sslmode=require"
    source = KIND.build(make_spec(), SqlOptions(url=url, query="SELECT 1"), context)
    assert source.reads_from == "postgresql+psycopg://db.example:5433/wms"
