"""`inventory-sync reconcile` with its feed on a real SFTP server and in a real S3 bucket.

The command runs as a subprocess, as users run it; the servers run in this test process. The
secrets go in through a credentials directory or an environment variable, and are then looked
for in everything the run left behind: its output, its logs, the ledger file.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import xlsxwriter
from e2e_support import FEED, World, make_world, write_config
from remote_servers import S3Server, SftpServer
from s3_auth_server import S3AuthServer
from terminal import run_on_terminal

# mtimes far in the past: the feed is complete whatever the stability window.
OLD = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def every_byte_left_behind(world: World, *results) -> bytes:
    """Output and logs of the runs, and every file in the state directory (the ledger)."""
    found = b"".join(r.stdout.encode() + r.stderr.encode() for r in results)
    for path in (world.tmp / "state").rglob("*"):
        if path.is_file():
            found += path.read_bytes()
    return found


@pytest.fixture
def sftp_world(tmp_path: Path):
    with SftpServer(tmp_path / "sftp-root") as server:
        (tmp_path / "sftp-root" / "in").mkdir(parents=True)
        feed = tmp_path / "sftp-root" / "in" / "stock-1.csv"
        feed.write_text(FEED, encoding="utf-8")
        stamp = OLD.timestamp()
        os.utime(feed, (stamp, stamp))
        known_hosts = tmp_path / "known_hosts"
        known_hosts.write_text(server.known_hosts_line())
        world = make_world(tmp_path, f"sqlite:///{tmp_path / 'state' / 'ledger.db'}")
        extra = (
            'archive_dir = "/done"\n'
            "[sources.options.sftp]\n"
            'password_secret = "east_sftp_password"\n'
            f'known_hosts = "{known_hosts}"\n'
        )
        config = write_config(
            tmp_path, world.emulator.base_url, server.url("in/stock-*.csv"), extra
        )  # type: ignore[arg-type]
        try:
            yield dataclasses.replace(world, config=config), server
        finally:
            world.emulator.stop()


class TestSftpFeed:
    def test_a_run_reads_the_feed_over_sftp_pushes_it_and_archives_the_file(
        self, sftp_world, tmp_path
    ):
        world, server = sftp_world
        credentials = tmp_path / "credentials"
        credentials.mkdir()
        (credentials / "east_sftp_password").write_text(server.password + "\n")
        env = {"CREDENTIALS_DIRECTORY": str(credentials)}
        result = world.run("--log-level", "debug", "reconcile", "--json", env=env)
        assert result.code == 0, result.stderr
        assert result.json()["applied"] == 2
        assert world.on_hand()["RED"] == 12
        assert sorted(p.name for p in (server.root / "done").iterdir()) == ["stock-1.csv"]
        assert list((server.root / "in").iterdir()) == []
        assert server.password.encode() not in every_byte_left_behind(world, result)
        # Even at debug, paramiko's handshake lines stay out of the service's log: its own
        # events are there, the library's are not.
        loggers = {event["logger"] for event in result.log_events()}
        assert "inventory_sync.steps.gather" in loggers
        assert not [name for name in loggers if name.startswith("paramiko")], loggers

    def test_between_uploads_the_archived_inbox_waits_for_the_next_file(self, sftp_world):
        world, server = sftp_world
        env = {"INVENTORY_SYNC_CREDENTIAL_EAST_SFTP_PASSWORD": server.password}
        assert world.run("reconcile", "--json", env=env).code == 0
        applied = len(world.emulator.state.applied())
        again = world.run("reconcile", "--json", env=env)
        # Nothing new since the file was archived: the source waits (exit 0), not used.
        assert again.code == 0, again.stderr
        summary = again.json()
        assert summary["holds"] == []
        [waiting] = summary["no_new_file"]
        assert (waiting["source"], waiting["archive_dir"]) == ("feed", "/done")
        assert datetime.fromisoformat(waiting["since"]) == OLD  # the archived file's mtime
        assert waiting["reason"] == (
            "no new file since 2026-01-05 12:00 UTC (the last one was moved to /done)"
        )
        assert len(world.emulator.state.applied()) == applied
        assert world.on_hand()["RED"] == 12, "the first run's push stands"

    def test_a_first_run_on_an_empty_inbox_holds_the_source(self, sftp_world):
        world, server = sftp_world
        (server.root / "in" / "stock-1.csv").unlink()
        env = {"INVENTORY_SYNC_CREDENTIAL_EAST_SFTP_PASSWORD": server.password}
        first = world.run("reconcile", "--json", env=env)
        # Never read: an empty folder may be the wrong one, so it is held (exit 3).
        assert first.code == 3, first.stderr
        [hold] = first.json()["holds"]
        assert hold["subject"] == "source:feed"
        assert hold["reason"] == (
            f"unavailable: no file matches {server.url('in/stock-*.csv')}"
            " (files already used were moved to /done: no new one since?)"
        )

    def test_on_a_terminal_the_pull_names_the_sftp_server_it_reads(self, sftp_world):
        world, server = sftp_world
        env = {"INVENTORY_SYNC_CREDENTIAL_EAST_SFTP_PASSWORD": server.password}
        seen = run_on_terminal(world, "reconcile", "--dry-run", "--json", env=env)
        assert seen.code == 0, seen.terminal[-3000:]
        # The server, not the path: where a slow fetch is waiting.
        assert f"reading source feed from sftp://feeds@127.0.0.1:{server.port} " in seen.terminal
        assert server.password not in seen.terminal

    def test_a_wrong_password_says_which_option_to_fix_and_never_shows_it(self, sftp_world):
        world, server = sftp_world
        wrong = "wrong-password-7d1c9e"
        env = {"INVENTORY_SYNC_CREDENTIAL_EAST_SFTP_PASSWORD": wrong}
        result = world.run("--log-level", "debug", "reconcile", "--json", env=env)
        # The source is held for this run, so its warehouse is not reconciled: exit 3.
        assert result.code == 3, result.stderr
        [hold] = result.json()["holds"]
        assert hold["subject"] == "source:feed"
        assert "refused the login of user 'feeds'" in hold["reason"]
        assert "(fix options.sftp.password_secret)" in hold["reason"]
        [event] = [e for e in result.log_events() if e["event"] == "source.unavailable"]
        assert "options.sftp.password_secret" in event["error"]
        assert world.on_hand()["RED"] == 10, "nothing was pushed"
        assert sorted(p.name for p in (server.root / "in").iterdir()) == ["stock-1.csv"]
        assert wrong.encode() not in every_byte_left_behind(world, result)

    def test_a_folder_it_may_not_rename_into_holds_the_source_and_keeps_the_file(self, sftp_world):
        world, server = sftp_world
        server.refuse_renames = True
        env = {"INVENTORY_SYNC_CREDENTIAL_EAST_SFTP_PASSWORD": server.password}
        result = world.run("reconcile", "--json", env=env)
        # Held (exit 3) like a source that could not be read, not a failed run (exit 1).
        assert result.code == 3, result.stderr
        [hold] = result.json()["holds"]
        assert hold["subject"] == "source:feed"
        assert "could not archive into /done" in hold["reason"]
        assert "[Errno 13] rename is not allowed for this user" in hold["reason"]
        assert world.on_hand()["RED"] == 10, "nothing was pushed"
        assert sorted(p.name for p in (server.root / "in").iterdir()) == ["stock-1.csv"]


def s3_world(tmp_path: Path, endpoint: str, bucket: str) -> World:
    """A world whose feed is s3://bucket/in/*.csv on the endpoint, archived into /done; the key
    pair is read from the credentials feeds_key_id and feeds_secret."""
    world = make_world(tmp_path, f"sqlite:///{tmp_path / 'state' / 'ledger.db'}")
    extra = (
        'archive_dir = "/done"\n'
        "[sources.options.s3]\n"
        f'endpoint_url = "{endpoint}"\n'
        'access_key_id_secret = "feeds_key_id"\n'
        'secret_access_key_secret = "feeds_secret"\n'
    )
    config = write_config(tmp_path, world.emulator.base_url, f"s3://{bucket}/in/*.csv", extra)  # type: ignore[arg-type]
    return dataclasses.replace(world, config=config)


def key_env(key_id: str, secret: str) -> dict[str, str]:
    return {
        "INVENTORY_SYNC_CREDENTIAL_FEEDS_KEY_ID": key_id,
        "INVENTORY_SYNC_CREDENTIAL_FEEDS_SECRET": secret,
    }


class TestS3Feed:
    def test_a_run_reads_the_feed_from_a_bucket_and_never_shows_the_secret(self, tmp_path):
        with S3Server() as s3:
            s3.client().create_bucket(Bucket="feeds")
            s3.put("feeds", "in/stock-1.csv", FEED.encode(), OLD)
            world = s3_world(tmp_path, s3.endpoint, "feeds")
            env = key_env(s3.access_key_id, s3.secret_access_key)
            try:
                result = world.run("--log-level", "debug", "reconcile", "--json", env=env)
                assert result.code == 0, result.stderr
                assert world.on_hand()["RED"] == 12
                assert s3.keys("feeds", "") == ["done/stock-1.csv"]
                left = every_byte_left_behind(world, result)
                assert s3.secret_access_key.encode() not in left
            finally:
                world.emulator.stop()


def stock_workbook(path: Path, *, bad_red: bool) -> bytes:
    """FEED as an ERP export: a title, a blank row, then the table on a sheet after a first."""
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("Notes").write(0, 0, "exported by the ERP")
    sheet = book.add_worksheet("Stock")
    sheet.write(0, 0, "Stock export, 5 January")
    sheet.write_row(2, 0, ["Item", "On hand"])
    rows = [line.split(",") for line in FEED.splitlines()[1:]]
    for r, (sku, quantity) in enumerate(rows, start=3):
        sheet.write_row(r, 0, [sku, 12.5 if bad_red and sku == "RED" else float(quantity)])
    book.close()
    return path.read_bytes()


class TestXlsxInABucket:
    """An ERP's workbook in a bucket: the sheet by name or position, the header below a title."""

    def world(self, tmp_path: Path, s3: S3Server, sheet: str, *, header_row: bool) -> World:
        world = make_world(tmp_path, f"sqlite:///{tmp_path / 'state' / 'ledger.db'}")
        extra = (
            f"sheet = {sheet}\n"
            + ("header_row = 3\n" if header_row else "")
            + 'sku_column = "Item"\nquantity_column = "On hand"\n'
            "[sources.options.s3]\n"
            f'endpoint_url = "{s3.endpoint}"\n'
            'access_key_id_secret = "feeds_key_id"\n'
            'secret_access_key_secret = "feeds_secret"\n'
        )
        config = write_config(tmp_path, world.emulator.base_url, "s3://erp/in/*.xlsx", extra)  # type: ignore[arg-type]
        config.write_text(config.read_text().replace('type = "csv"', 'type = "xlsx"'))
        return dataclasses.replace(world, config=config)

    @pytest.mark.parametrize("sheet", ['"Stock"', "2"])
    def test_a_bad_cell_is_named_by_file_sheet_row_column_value_and_sku(self, tmp_path, sheet):
        with S3Server() as s3:
            s3.client().create_bucket(Bucket="erp")
            data = stock_workbook(tmp_path / "made.xlsx", bad_red=True)
            s3.put("erp", "in/stock-0105.xlsx", data, OLD)
            world = self.world(tmp_path, s3, sheet, header_row=True)
            try:
                result = world.run(
                    "reconcile", "--json", env=key_env(s3.access_key_id, s3.secret_access_key)
                )
                assert result.code == 0, result.stderr
                summary = result.json()
                assert summary["applied"] == 1  # GREEN; RED's row is quarantined, not zeroed
                (rejected,) = summary["rejected"]
                assert rejected["origin"] == "s3://erp/in/stock-0105.xlsx[Stock]"
                found = (rejected["line"], rejected["field"], rejected["value"], rejected["sku"])
                assert found == (4, "On hand", "12.5", "RED")  # RED is in sheet row 4
                assert world.on_hand()["RED"] == 10
            finally:
                world.emulator.stop()

    def test_without_header_row_a_title_in_row_1_holds_the_source_saying_to_set_it(self, tmp_path):
        with S3Server() as s3:
            s3.client().create_bucket(Bucket="erp")
            data = stock_workbook(tmp_path / "made.xlsx", bad_red=False)
            s3.put("erp", "in/stock-0105.xlsx", data, OLD)
            world = self.world(tmp_path, s3, '"Stock"', header_row=False)
            try:
                result = world.run(
                    "reconcile", "--json", env=key_env(s3.access_key_id, s3.secret_access_key)
                )
                assert result.code == 3, result.stderr
                [hold] = result.json()["holds"]
                assert hold["reason"].startswith(
                    "format error: s3://erp/in/stock-0105.xlsx: sheet 'Stock': missing sku"
                    " column 'Item'; the header has ['Stock export, 5 January'] (row 1,"
                )
                assert hold["reason"].endswith("set header_row)")
                assert world.on_hand()["RED"] == 10, "nothing was pushed"
            finally:
                world.emulator.stop()


@pytest.fixture(scope="module")
def s3_auth():
    """moto checking every key against its IAM, shared by this module's tests."""
    with S3AuthServer() as server:
        yield server


@pytest.fixture
def bucket_world(tmp_path: Path, s3_auth: S3AuthServer):
    """A bucket of this test's own with the feed in it, and a world reading it."""
    bucket = f"feeds-{uuid.uuid4().hex[:10]}"
    s3_auth.admin().create_bucket(Bucket=bucket)
    s3_auth.put(bucket, "in/stock-1.csv", FEED.encode())
    world = s3_world(tmp_path, s3_auth.endpoint, bucket)
    try:
        yield world, bucket
    finally:
        world.emulator.stop()


class TestS3Refusals:
    """A bucket that checks keys (moto with IAM): a refused key holds the source (exit 3, as
    any source that cannot be read), names the option to fix, and its secret is nowhere."""

    def test_the_right_key_reads_pushes_and_archives(self, s3_auth, bucket_world):
        world, bucket = bucket_world
        key_id, secret = s3_auth.grant(f"reader-{bucket}", bucket)
        result = world.run(
            "--log-level", "debug", "reconcile", "--json", env=key_env(key_id, secret)
        )
        assert result.code == 0, result.stderr
        assert world.on_hand()["RED"] == 12
        assert s3_auth.keys(bucket, "") == ["done/stock-1.csv"]
        assert secret.encode() not in every_byte_left_behind(world, result)

    @pytest.mark.parametrize(
        ("wrong_part", "option", "said"),
        [
            (
                "secret",
                "options.s3.secret_access_key_secret",
                "refused the secret access key (credential 'feeds_secret')",
            ),
            (
                "key id",
                "options.s3.access_key_id_secret",
                "does not know the access key id (credential 'feeds_key_id')",
            ),
        ],
    )
    def test_a_wrong_key_names_the_option_to_fix_and_the_secret_is_never_shown(
        self, s3_auth, bucket_world, wrong_part, option, said
    ):
        world, bucket = bucket_world
        key_id, _ = s3_auth.grant(f"reader-{bucket}", bucket)
        if wrong_part == "key id":
            key_id = "AKIANOSUCHKEY0000000"
        wrong = "wrong-secret-" + uuid.uuid4().hex
        result = world.run(
            "--log-level", "debug", "reconcile", "--json", env=key_env(key_id, wrong)
        )
        assert result.code == 3, result.stderr
        [hold] = result.json()["holds"]
        assert hold["subject"] == "source:feed"
        assert said in hold["reason"]
        assert f"(fix {option})" in hold["reason"]
        [event] = [e for e in result.log_events() if e["event"] == "source.unavailable"]
        assert option in event["error"]
        assert world.on_hand()["RED"] == 10, "nothing was pushed"
        assert s3_auth.keys(bucket, "") == ["in/stock-1.csv"]
        assert wrong.encode() not in every_byte_left_behind(world, result)

    def test_a_key_without_rights_on_the_bucket_is_denied_naming_the_bucket(
        self, s3_auth, bucket_world
    ):
        world, bucket = bucket_world
        key_id, secret = s3_auth.grant(f"stranger-{bucket}", f"elsewhere-{bucket}")
        result = world.run(
            "--log-level", "debug", "reconcile", "--json", env=key_env(key_id, secret)
        )
        assert result.code == 3, result.stderr
        [hold] = result.json()["holds"]
        assert f"denied access to bucket {bucket!r}" in hold["reason"]
        assert "(AccessDenied)" in hold["reason"]
        assert world.on_hand()["RED"] == 10, "nothing was pushed"
        assert secret.encode() not in every_byte_left_behind(world, result)

    def test_a_key_that_may_read_but_not_archive_holds_the_source_and_keeps_the_file(
        self, s3_auth, bucket_world
    ):
        world, bucket = bucket_world
        actions = ("s3:ListBucket", "s3:GetObject")
        key_id, secret = s3_auth.grant(f"reader-{bucket}", bucket, *actions)
        result = world.run(
            "--log-level", "debug", "reconcile", "--json", env=key_env(key_id, secret)
        )
        # Held (exit 3) like a source that could not be read, not a failed run (exit 1).
        assert result.code == 3, result.stderr
        [hold] = result.json()["holds"]
        assert hold["subject"] == "source:feed"
        assert f"denied access to bucket {bucket!r}" in hold["reason"]
        assert "s3:PutObject and s3:DeleteObject" in hold["reason"]
        assert world.on_hand()["RED"] == 10, "nothing was pushed"
        assert s3_auth.keys(bucket, "") == ["in/stock-1.csv"]
        assert secret.encode() not in every_byte_left_behind(world, result)
