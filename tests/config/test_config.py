"""Configuration: every problem named at once, env overrides, credentials, file lookup."""

from __future__ import annotations

from pathlib import Path

import pytest
from config_support import problems_of, write

from inventory_sync.config import load_settings, parse_duration
from inventory_sync.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]

VALID = """
[shipstation]
base_url = "http://127.0.0.1:8089"
api_key = "file-key-123456"

[[warehouses]]
name = "east"
inventory_location_id = "se-2001"

[[sources]]
name = "feed"
type = "csv"
warehouses = ["east"]
[sources.options]
path = "/tmp/feed.csv"
"""


class TestValidConfiguration:
    def test_the_shipped_example_is_valid(self):
        settings = load_settings(REPO / "config" / "example.toml")
        assert [w.name for w in settings.warehouses] == ["east", "west"]
        assert settings.sources[0].options["path"].endswith(".csv")

    def test_defaults_fill_what_the_file_leaves_out(self, tmp_path):
        settings = load_settings(write(tmp_path, VALID))
        assert settings.shipstation.requests_per_minute == 200
        assert settings.reconcile.mode == "mirror"
        assert settings.ledger_url.startswith("sqlite:///")
        assert settings.ledger_url.endswith("ledger.db")

    def test_the_api_key_is_a_secret_that_does_not_print(self, tmp_path):
        settings = load_settings(write(tmp_path, VALID))
        assert "file-key-123456" not in repr(settings)
        assert settings.shipstation.api_key is not None
        assert settings.shipstation.api_key.get_secret_value() == "file-key-123456"


class TestProblemsAreNamed:
    """Each kind of mistake names its key and what is wrong (exit code 2 at the CLI)."""

    def test_an_unknown_key_is_named(self, tmp_path):
        problems = problems_of(tmp_path, VALID + "\n[logging]\nlevle = 'info'\n")
        assert "unknown key" in problems["logging.levle"]

    def test_a_wrong_type_names_the_value(self, tmp_path):
        text = VALID.replace('api_key = "file-key-123456"', 'requests_per_minute = "lots"')
        problems = problems_of(tmp_path, text)
        assert "'lots'" in problems["shipstation.requests_per_minute"]

    def test_an_out_of_range_value_is_named(self, tmp_path):
        problems = problems_of(tmp_path, VALID + "\n[reconcile]\ntolerance = -1\n")
        assert "greater than or equal to 0" in problems["reconcile.tolerance"]

    def test_a_missing_required_key_is_named(self, tmp_path):
        problems = problems_of(tmp_path, VALID.replace('name = "east"\n', ""))
        assert "required" in problems["warehouses[0].name"].lower()

    def test_a_warehouse_without_any_id_is_refused(self, tmp_path):
        problems = problems_of(tmp_path, VALID.replace('inventory_location_id = "se-2001"\n', ""))
        assert "inventory_location_id" in problems["warehouses[0]"]

    def test_a_source_naming_an_unknown_warehouse_is_refused(self, tmp_path):
        problems = problems_of(
            tmp_path, VALID.replace('warehouses = ["east"]', 'warehouses = ["eats"]')
        )
        assert "'eats' is not a configured warehouse" in problems["sources[0].warehouses"]

    def test_an_unknown_source_type_lists_the_known_ones(self, tmp_path):
        problems = problems_of(tmp_path, VALID.replace('type = "csv"', 'type = "ftp"'))
        message = problems["sources[0].type"]
        assert "ftp" in message
        assert "csv" in message

    def test_a_source_missing_a_required_option_is_named(self, tmp_path):
        problems = problems_of(tmp_path, VALID.replace('path = "/tmp/feed.csv"', ""))
        assert "sources[0].options.path" in problems

    def test_duplicate_warehouse_names_are_refused(self, tmp_path):
        text = VALID + '\n[[warehouses]]\nname = "east"\ninventory_location_id = "x"\n'
        problems = problems_of(tmp_path, text)
        assert "more than once" in problems["warehouses[1].name"]

    def test_a_bad_duration_is_named(self, tmp_path):
        text = VALID.replace('type = "csv"', 'type = "csv"\ninterval = "soon"')
        problems = problems_of(tmp_path, text)
        assert "'soon'" in problems["sources[0].interval"]

    def test_broken_toml_names_the_file_and_line(self, tmp_path):
        problems = problems_of(tmp_path, "[shipstation\nbase_url = 1\n")
        ((key, message),) = problems.items()
        assert key.endswith("inventory-sync.toml")
        assert "line 1" in message

    def test_a_missing_file_is_named(self, tmp_path):
        with pytest.raises(ConfigError) as caught:
            load_settings(tmp_path / "nope.toml")
        assert "nope.toml" in str(caught.value)

    def test_every_problem_is_listed_at_once(self, tmp_path):
        text = (
            VALID.replace("requests_per_minute", "x")
            .replace('name = "east"\n', "")
            .replace('path = "/tmp/feed.csv"', "")
            + "\n[reconcile]\ntolerance = -1\n[logging]\nformat = 'xml'\n"
        )
        problems = problems_of(tmp_path, text)
        assert {
            "warehouses[0].name",
            "sources[0].options.path",
            "reconcile.tolerance",
            "logging.format",
        } <= set(problems)

    def test_no_file_anywhere_says_where_it_looked(self, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        with pytest.raises(ConfigError) as caught:
            load_settings(None)
        assert "inventory-sync.toml" in str(caught.value)


class TestOverrides:
    def test_environment_overrides_the_file(self, tmp_path, monkeypatch):
        monkeypatch.setenv("INVENTORY_SYNC_SHIPSTATION__BASE_URL", "http://127.0.0.1:9999")
        monkeypatch.setenv("INVENTORY_SYNC_SHIPSTATION__API_KEY", "env-key-abcdef")
        monkeypatch.setenv("INVENTORY_SYNC_LEDGER__URL", "sqlite:////tmp/x.db")
        settings = load_settings(write(tmp_path, VALID))
        assert settings.shipstation.base_url == "http://127.0.0.1:9999"
        assert settings.shipstation.api_key.get_secret_value() == "env-key-abcdef"
        assert settings.ledger_url == "sqlite:////tmp/x.db"
        assert settings.warehouses[0].name == "east"  # the rest of the file still applies

    def test_a_bad_environment_value_is_named_like_a_file_key(self, tmp_path, monkeypatch):
        monkeypatch.setenv("INVENTORY_SYNC_SHIPSTATION__REQUESTS_PER_MINUTE", "0")
        problems = problems_of(tmp_path, VALID)
        assert "shipstation.requests_per_minute" in problems

    def test_lists_can_be_replaced_from_the_environment_as_json(self, tmp_path, monkeypatch):
        monkeypatch.setenv(
            "INVENTORY_SYNC_WAREHOUSES", '[{"name": "east", "inventory_location_id": "se-9"}]'
        )
        settings = load_settings(write(tmp_path, VALID))
        assert settings.warehouses[0].inventory_location_id == "se-9"

    def test_the_credentials_directory_supplies_secrets(self, tmp_path):
        creds = tmp_path / "creds"
        creds.mkdir()
        (creds / "shipstation_api_key").write_text("cred-key-7777\n")
        (creds / "shipstation_secondary_api_key").write_text("cred-key-8888")
        text = VALID.replace('api_key = "file-key-123456"\n', "")
        settings = load_settings(write(tmp_path, text), credentials_dir=creds)
        assert settings.shipstation.api_key.get_secret_value() == "cred-key-7777"
        assert settings.shipstation.secondary_api_key.get_secret_value() == "cred-key-8888"

    def test_credentials_come_from_systemds_variable(self, tmp_path, monkeypatch):
        creds = tmp_path / "creds"
        creds.mkdir()
        (creds / "shipstation_api_key").write_text("cred-key-9999")
        monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
        text = VALID.replace('api_key = "file-key-123456"\n', "")
        settings = load_settings(write(tmp_path, text))
        assert settings.shipstation.api_key.get_secret_value() == "cred-key-9999"

    def test_the_environment_beats_a_credential(self, tmp_path, monkeypatch):
        creds = tmp_path / "creds"
        creds.mkdir()
        (creds / "shipstation_api_key").write_text("cred-key-9999")
        monkeypatch.setenv("INVENTORY_SYNC_SHIPSTATION__API_KEY", "env-key-abcdef")
        settings = load_settings(write(tmp_path, VALID), credentials_dir=creds)
        assert settings.shipstation.api_key.get_secret_value() == "env-key-abcdef"


class TestFileLookup:
    def test_the_config_variable_names_the_file(self, tmp_path, monkeypatch):
        path = write(tmp_path, VALID)
        monkeypatch.setenv("INVENTORY_SYNC_CONFIG", str(path))
        monkeypatch.chdir(tmp_path.parent)
        assert load_settings(None).warehouses[0].name == "east"

    def test_the_current_directory_file_is_found(self, tmp_path, monkeypatch):
        write(tmp_path, VALID)
        monkeypatch.chdir(tmp_path)
        assert load_settings(None).warehouses[0].name == "east"


class TestDurations:
    @pytest.mark.parametrize(
        ("text", "seconds"), [(90, 90), ("90s", 90), ("15m", 900), ("6h", 21600), ("1d", 86400)]
    )
    def test_durations_read_as_people_write_them(self, text, seconds):
        assert parse_duration(text).total_seconds() == seconds
