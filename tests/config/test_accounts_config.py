"""[[accounts]]: several ShipStation accounts in one file, their keys from env and credentials."""

from __future__ import annotations

from pathlib import Path

from config_support import problems_of, write

from inventory_sync.config import load_settings

REPO = Path(__file__).resolve().parents[2]

ACCOUNTS = """
[shipstation]
base_url = "http://127.0.0.1:8089"
timeout_seconds = 5

[[accounts]]
name = "acme"
api_key = "acme-key-123456"
requests_per_minute = 100
[[accounts.warehouses]]
name = "acme-east"
inventory_location_id = "se-11"
[[accounts.warehouses]]
name = "acme-west"
inventory_location_id = "se-12"

[[accounts]]
name = "bolt-eu"
base_url = "http://127.0.0.1:8090"
concurrency = 2
[[accounts.warehouses]]
name = "bolt"
inventory_location_id = "se-21"

[[sources]]
name = "3pl"
type = "csv"
warehouses = ["acme-east", "bolt"]
[sources.options]
path = "/tmp/feed.csv"
warehouse_column = "site"
"""


def key_of(settings, account: str) -> str | None:
    found = next(a for a in settings.all_accounts() if a.name == account)
    return None if found.api_key is None else found.api_key.get_secret_value()


class TestAccounts:
    def test_the_shipped_accounts_example_is_valid(self):
        settings = load_settings(REPO / "config" / "example-accounts.toml")
        assert [a.name for a in settings.all_accounts()] == ["acme", "bolt-eu"]
        assert settings.all_accounts()[1].concurrency == 4
        assert settings.account_of("bolt") == "bolt-eu"

    def test_each_account_has_its_own_pace_and_warehouses(self, tmp_path):
        settings = load_settings(write(tmp_path, ACCOUNTS))
        acme, bolt = settings.all_accounts()
        assert (acme.name, acme.requests_per_minute, acme.concurrency) == ("acme", 100, 8)
        assert (bolt.name, bolt.requests_per_minute, bolt.concurrency) == ("bolt-eu", 200, 2)
        assert [w.name for w in acme.warehouses] == ["acme-east", "acme-west"]
        assert [w.name for w in settings.all_warehouses()] == ["acme-east", "acme-west", "bolt"]
        assert settings.account_of("bolt") == "bolt-eu"
        assert settings.account_of("nowhere") is None

    def test_shipstation_keys_are_the_defaults_an_account_may_override(self, tmp_path):
        settings = load_settings(write(tmp_path, ACCOUNTS))
        acme, bolt = settings.all_accounts()
        assert acme.base_url == "http://127.0.0.1:8089"  # from [shipstation]
        assert bolt.base_url == "http://127.0.0.1:8090"  # its own
        assert acme.timeout_seconds == bolt.timeout_seconds == 5

    def test_the_single_account_file_is_one_account_named_default(self, tmp_path):
        text = """
[shipstation]
api_key = "only-key-123456"
requests_per_minute = 150
[[warehouses]]
name = "east"
inventory_location_id = "se-1"
"""
        settings = load_settings(write(tmp_path, text))
        (account,) = settings.all_accounts()
        assert (account.name, account.requests_per_minute) == ("default", 150)
        assert [w.name for w in account.warehouses] == ["east"]
        assert key_of(settings, "default") == "only-key-123456"


class TestAccountCredentials:
    """One scheme: INVENTORY_SYNC_ACCOUNTS__<NAME>__<KEY>, and files <credential>.<name>."""

    def test_the_environment_sets_an_accounts_key(self, tmp_path, monkeypatch):
        monkeypatch.setenv("INVENTORY_SYNC_ACCOUNTS__BOLT_EU__API_KEY", "bolt-env-key-99")
        monkeypatch.setenv("INVENTORY_SYNC_ACCOUNTS__ACME__REQUESTS_PER_MINUTE", "40")
        settings = load_settings(write(tmp_path, ACCOUNTS))
        assert key_of(settings, "bolt-eu") == "bolt-env-key-99"
        assert settings.all_accounts()[0].requests_per_minute == 40
        assert key_of(settings, "acme") == "acme-key-123456"  # the file's, untouched

    def test_credential_files_are_named_after_the_account(self, tmp_path):
        creds = tmp_path / "creds"
        creds.mkdir()
        (creds / "shipstation_api_key.bolt-eu").write_text("bolt-file-key-1\n")
        (creds / "shipstation_secondary_api_key.bolt-eu").write_text("bolt-file-key-2\n")
        settings = load_settings(write(tmp_path, ACCOUNTS), credentials_dir=creds)
        bolt = settings.all_accounts()[1]
        assert bolt.api_key is not None
        assert bolt.secondary_api_key is not None
        assert bolt.api_key.get_secret_value() == "bolt-file-key-1"
        assert bolt.secondary_api_key.get_secret_value() == "bolt-file-key-2"

    def test_the_environment_wins_over_a_credential_file(self, tmp_path, monkeypatch):
        creds = tmp_path / "creds"
        creds.mkdir()
        (creds / "shipstation_api_key.acme").write_text("acme-file-key-1")
        settings = load_settings(write(tmp_path, ACCOUNTS), credentials_dir=creds)
        assert key_of(settings, "acme") == "acme-file-key-1"  # the file beats the TOML
        monkeypatch.setenv("INVENTORY_SYNC_ACCOUNTS__ACME__API_KEY", "acme-env-key-1")
        settings = load_settings(write(tmp_path, ACCOUNTS), credentials_dir=creds)
        assert key_of(settings, "acme") == "acme-env-key-1"

    def test_a_variable_naming_no_account_is_an_error(self, tmp_path, monkeypatch):
        monkeypatch.setenv("INVENTORY_SYNC_ACCOUNTS__ACMEE__API_KEY", "typo-key-123456")
        problems = problems_of(tmp_path, ACCOUNTS)
        message = problems["INVENTORY_SYNC_ACCOUNTS__ACMEE__API_KEY"]
        assert "no account is named ACMEE" in message
        assert "ACME" in message
        assert "typo-key-123456" not in str(problems)

    def test_a_misspelt_key_in_a_variable_names_the_account(self, tmp_path, monkeypatch):
        monkeypatch.setenv("INVENTORY_SYNC_ACCOUNTS__ACME__API_KY", "x")
        problems = problems_of(tmp_path, ACCOUNTS)
        assert "unknown key" in problems["accounts[0].api_ky"]


class TestAccountProblemsAreNamed:
    def test_a_bad_warehouse_names_its_account_by_index(self, tmp_path):
        text = ACCOUNTS.replace('inventory_location_id = "se-21"', 'colour = "red"')
        problems = problems_of(tmp_path, text)
        assert "unknown key" in problems["accounts[1].warehouses[0].colour"]
        text = ACCOUNTS.replace('inventory_location_id = "se-21"', "")
        problems = problems_of(tmp_path, text)
        assert "inventory_location_id" in problems["accounts[1].warehouses[0]"]

    def test_a_warehouse_name_is_unique_across_accounts(self, tmp_path):
        text = ACCOUNTS.replace('name = "bolt"\n', 'name = "acme-west"\n')
        problems = problems_of(tmp_path, text)
        message = problems["accounts[1].warehouses[0].name"]
        assert "used more than once" in message
        assert "accounts[0].warehouses[1]" in message

    def test_account_names_are_unique(self, tmp_path):
        problems = problems_of(tmp_path, ACCOUNTS.replace('name = "bolt-eu"', 'name = "acme"'))
        assert "used more than once" in problems["accounts[1].name"]

    def test_names_that_meet_in_the_environment_are_refused(self, tmp_path):
        problems = problems_of(tmp_path, ACCOUNTS.replace('name = "acme"', 'name = "bolt_eu"'))
        assert "BOLT_EU" in problems["accounts[1].name"]

    def test_top_level_warehouses_do_not_mix_with_accounts(self, tmp_path):
        text = ACCOUNTS + '\n[[warehouses]]\nname = "lost"\ninventory_location_id = "se-9"\n'
        problems = problems_of(tmp_path, text)
        assert "[[accounts.warehouses]]" in problems["warehouses"]

    def test_a_source_may_name_any_accounts_warehouse_but_not_an_unknown_one(self, tmp_path):
        text = ACCOUNTS.replace('["acme-east", "bolt"]', '["acme-east", "bolt", "ghost"]')
        problems = problems_of(tmp_path, text)
        assert "'ghost' is not a configured warehouse" in problems["sources[0].warehouses"]
        assert "bolt" in problems["sources[0].warehouses"]

    def test_a_single_account_key_beside_accounts_is_refused_not_ignored(
        self, tmp_path, monkeypatch
    ):
        monkeypatch.setenv("INVENTORY_SYNC_SHIPSTATION__API_KEY", "stray-key-123456")
        problems = problems_of(tmp_path, ACCOUNTS)
        assert "INVENTORY_SYNC_ACCOUNTS__<NAME>__API_KEY" in problems["shipstation.api_key"]
        assert "stray-key-123456" not in str(problems)

    def test_an_account_needs_a_warehouse(self, tmp_path):
        text = '[[accounts]]\nname = "empty"\napi_key = "k-123456"\n'
        problems = problems_of(tmp_path, text)
        assert "accounts[0].warehouses" in problems
