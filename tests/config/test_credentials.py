"""Named credentials: from an INVENTORY_SYNC_CREDENTIAL_* variable, else the credentials folder."""

from __future__ import annotations

import pytest

from inventory_sync import logs
from inventory_sync.bootstrap import credential_variable, secret_reader
from inventory_sync.errors import ConfigError


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
