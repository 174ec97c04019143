"""Named credentials: from an INVENTORY_SYNC_CREDENTIAL_* variable, else the credentials folder."""

from __future__ import annotations

import pytest
from config_support import write

from inventory_sync import logs
from inventory_sync.bootstrap import configured_sources, credential_variable, secret_reader
from inventory_sync.clock import SystemClock
from inventory_sync.config import load_settings
from inventory_sync.errors import ConfigError
from inventory_sync.sources import SourceContext


def test_the_variable_name_is_the_credential_name_in_capitals():
    assert credential_variable("east-sftp.pw") == "INVENTORY_SYNC_CREDENTIAL_EAST_SFTP_PW"


def test_a_variable_wins_over_a_file_and_both_are_stripped(tmp_path, monkeypatch):
    (tmp_path / "pw").write_text("from-the-file-1\n")
    read = secret_reader(tmp_path)
    assert read("pw") == "from-the-file-1"
    monkeypatch.setenv("INVENTORY_SYNC_CREDENTIAL_PW", " from-the-env-22\n")
    assert read("pw") == "from-the-env-22"


def test_a_value_read_is_scrubbed_from_logs(tmp_path, monkeypatch):
    monkeypatch.setenv("INVENTORY_SYNC_CREDENTIAL_TOKEN", "scrub-me-4c1f0a")
    secret_reader(tmp_path)("token")
    assert logs.scrubber.scrub("login with scrub-me-4c1f0a") == f"login with {logs.REDACTED}"


def test_a_missing_credential_names_both_places(tmp_path):
    with pytest.raises(ConfigError) as raised:
        secret_reader(tmp_path)("acme_key")
    [problem] = raised.value.problems
    assert problem.key == "credential acme_key"
    assert str(tmp_path / "acme_key") in problem.message
    assert "$INVENTORY_SYNC_CREDENTIAL_ACME_KEY" in problem.message


def test_without_a_credentials_directory_the_message_says_it_is_not_set(monkeypatch):
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    with pytest.raises(ConfigError) as raised:
        secret_reader(None)("acme_key")
    [problem] = raised.value.problems
    assert problem.message == (
        "$INVENTORY_SYNC_CREDENTIAL_ACME_KEY is not set, and there is no credentials directory"
        " ($CREDENTIALS_DIRECTORY is not set; systemd sets it for LoadCredential=)"
    )


def test_the_missing_credentials_of_every_source_are_named_at_once(tmp_path):
    # Named one at a time, an operator would fix one, restart, and meet the next.
    settings = load_settings(
        write(
            tmp_path,
            """
            [[warehouses]]
            name = "east"
            inventory_location_id = "se-1"
            [[warehouses]]
            name = "west"
            inventory_location_id = "se-2"
            [[sources]]
            name = "east-sftp"
            type = "csv"
            warehouses = ["east"]
            [sources.options]
            path = "sftp://feeds@sftp.example.com/in/*.csv"
            [sources.options.sftp]
            password_secret = "east_sftp_password"
            [[sources]]
            name = "west-s3"
            type = "xlsx"
            warehouses = ["west"]
            [sources.options]
            path = "s3://feeds/west/*.xlsx"
            [sources.options.s3]
            access_key_id_secret = "west_key_id"
            secret_access_key_secret = "west_secret"
            """,
        )
    )
    context = SourceContext(clock=SystemClock(), read_secret=secret_reader(tmp_path),
                            state_dir=tmp_path / "state")  # fmt: skip
    with pytest.raises(ConfigError) as raised:
        configured_sources(settings.sources, context)
    assert [p.key for p in raised.value.problems] == [
        "sources[0] credential east_sftp_password",
        "sources[1] credential west_key_id",
    ]
