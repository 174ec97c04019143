"""Configuration: one TOML file, overridden by INVENTORY_SYNC_* variables and credential files.

Precedence, highest first: environment variables (``INVENTORY_SYNC_`` prefix, ``__`` between
nested keys), files in the credentials directory (systemd's ``$CREDENTIALS_DIRECTORY``), the
TOML file, the defaults below. Loaded only by entrypoints, through :func:`load_settings`.
"""

from __future__ import annotations

import contextvars
import os
import re
import tomllib
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from inventory_sync.config_accounts import overlay_accounts
from inventory_sync.config_problems import cross_reference_problems, problems_from
from inventory_sync.config_sources import check_source_options
from inventory_sync.domain.model import DEFAULT_ACCOUNT, Completeness, QuantityBasis
from inventory_sync.errors import ConfigError, ConfigProblem
from inventory_sync.ledger.urls import ledger_url_problem

ENV_PREFIX = "INVENTORY_SYNC_"
CONFIG_ENV = "INVENTORY_SYNC_CONFIG"
DEFAULT_PATHS = (Path("inventory-sync.toml"), Path("/etc/inventory-sync/config.toml"))
# Credential file name -> settings path. systemd's LoadCredential= names files like these.
CREDENTIAL_FILES = {
    "shipstation_api_key": ("shipstation", "api_key"),
    "shipstation_secondary_api_key": ("shipstation", "secondary_api_key"),
    "ledger_url": ("ledger", "url"),
}
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def parse_duration(value: object) -> object:
    """Accept 90, "90s", "15m", "6h", "1d" (a number alone means seconds)."""
    if isinstance(value, bool) or value is None or isinstance(value, timedelta):
        return value
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value))
    if not match:
        raise PydanticCustomError(
            "duration",
            "expected a duration such as 90, '90s', '15m', '6h' or '1d', got {v!r}",
            {"v": value},
        )
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
_TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_schedule(value: object) -> object:
    """Accept "HH:MM" (once a day at that time, UTC) or a duration (that often)."""
    if isinstance(value, str) and _TIME_OF_DAY.match(value.strip()):
        return value.strip()
    if isinstance(value, str) and not _DURATION.match(value):
        raise PydanticCustomError(
            "schedule",
            "expected a time of day such as '03:30' (UTC) or a duration such as '6h', got {v}",
            {"v": repr(value)},
        )
    return parse_duration(value)


# A daily time of day ("03:30", UTC) or a repeat interval (a timedelta).
Schedule = Annotated[str | timedelta, BeforeValidator(parse_schedule)]
Name = Annotated[str, Field(pattern=_NAME, min_length=1, max_length=64)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LedgerSettings(_Section):
    url: str | None = None  # default: SQLite file ledger.db in state_dir
    retention_days: int = Field(default=180, ge=1)

    @field_validator("url")
    @classmethod
    def _a_ledger_url(cls, value: str | None) -> str | None:
        # Checked here so a mistyped URL is a configuration problem (exit 2), listed with the
        # others, and not a ledger that fails to open (or a SQLite file named after the typo).
        problem = ledger_url_problem(value) if value else None  # empty: the default
        if problem is not None:
            raise PydanticCustomError("ledger_url", "{problem}", {"problem": problem})
        return value


class ShipStationSettings(_Section):
    base_url: str = Field(default="https://api.shipstation.com", pattern=r"^https?://")
    api_key: SecretStr | None = None
    api_key_expires: date | None = None
    secondary_api_key: SecretStr | None = None
    secondary_api_key_expires: date | None = None
    requests_per_minute: int = Field(default=200, ge=1, le=100_000)
    page_size: int | None = Field(default=None, ge=1, le=10_000)
    page_size_param: Literal["page_size", "limit"] = "page_size"
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    concurrency: int = Field(default=8, ge=1, le=64)
    max_rate_limit_pause_seconds: float = Field(default=120.0, gt=0, le=3600)

    @field_validator("api_key", "secondary_api_key")
    @classmethod
    def _not_blank(cls, value: SecretStr | None) -> SecretStr | None:
        # An unset shell variable exported as the key would be sent as is and refused (401).
        if value is not None and not value.get_secret_value().strip():
            raise PydanticCustomError(
                "blank_key", "is empty (an unset variable, or an empty credential file?)"
            )
        return value


class ReconcileOverrides(_Section):
    """A warehouse's own policy and guard limits; unset keys take [reconcile]'s values."""

    mode: Literal["mirror", "delta"] | None = None
    precedence: Literal["first", "sum"] | None = None
    tolerance: int | None = Field(default=None, ge=0)
    buffer: int | None = Field(default=None, ge=0)
    cap: int | None = Field(default=None, ge=0)
    zero_absent_after: int | Literal["never"] | None = None
    max_changed_share: float | None = Field(default=None, gt=0, le=1)
    max_units_share: float | None = Field(default=None, gt=0)
    max_zeroed: int | None = Field(default=None, ge=0)


class WarehouseSettings(_Section):
    name: Name
    inventory_warehouse_id: str | None = Field(default=None, min_length=1)
    inventory_location_id: str | None = Field(default=None, min_length=1)
    shipstation_name: str | None = Field(default=None, min_length=1)  # looked up when no id
    reconcile: ReconcileOverrides = ReconcileOverrides()

    @model_validator(mode="after")
    def _has_an_id(self) -> WarehouseSettings:
        ids = (self.inventory_warehouse_id, self.inventory_location_id, self.shipstation_name)
        if all(value is None for value in ids):
            raise PydanticCustomError(
                "warehouse_ids",
                "give inventory_location_id (where adjustments are written), "
                "inventory_warehouse_id, or shipstation_name (the warehouse's name there)",
            )
        return self


class AccountSettings(ShipStationSettings):
    """One ShipStation account: its keys, its pace and its warehouses ([[accounts]])."""

    name: Name
    warehouses: list[WarehouseSettings] = Field(min_length=1)


# [shipstation] keys an account takes from that table unless it sets them itself (not the keys).
INHERITED_KEYS = (
    "base_url",
    "requests_per_minute",
    "page_size",
    "page_size_param",
    "timeout_seconds",
    "concurrency",
    "max_rate_limit_pause_seconds",
)


class GateSettings(_Section):
    min_row_fraction: float | None = Field(default=0.5, ge=0, le=1)
    sentinel_skus: list[str] = Field(default_factory=list)
    max_age: Duration | None = None
    reject_all_zero: bool = True


class SourceSettings(_Section):
    name: Name
    type: str = Field(min_length=1)
    warehouses: list[Name] = Field(min_length=1)
    quantity: QuantityBasis = QuantityBasis.ON_HAND
    snapshot: Completeness = Completeness.COMPLETE
    max_quantity: int = Field(default=1_000_000, ge=1)
    duplicates: Literal["reject", "sum"] = "reject"
    sku_case: Literal["keep", "upper", "lower"] = "keep"
    interval: Duration = timedelta(minutes=15)
    options: dict[str, Any] = Field(default_factory=dict)
    gates: GateSettings = GateSettings()

    @model_validator(mode="after")
    def _options_fit_kind(self) -> SourceSettings:
        problems = check_source_options(self.type, self.options)
        if problems:
            raise PydanticCustomError(
                "source_options",
                "{summary}",
                {"summary": "; ".join(problems), "problems": problems},
            )
        return self


class ReconcileSettings(_Section):
    mode: Literal["mirror", "delta"] = "mirror"
    precedence: Literal["first", "sum"] = "first"
    tolerance: int = Field(default=0, ge=0)
    buffer: int = Field(default=0, ge=0)
    cap: int | None = Field(default=None, ge=0)
    zero_absent_after: int | Literal["never"] = 2
    max_changed_share: float | None = Field(default=0.5, gt=0, le=1)
    max_units_share: float | None = Field(default=0.5, gt=0)
    max_zeroed: int | None = Field(default=50, ge=0)
    max_attempts: int = Field(default=3, ge=1)
    check_mapping: bool = True


class DaemonSettings(_Section):
    """The long-running service (`inventory-sync run`): its jobs' cadence and its bounds."""

    reconcile_interval: Duration = timedelta(minutes=15)
    debounce_seconds: float = Field(default=30.0, ge=0, le=3600)
    drift_scan: Schedule = "03:30"
    key_check: Schedule = "06:00"
    retention: Schedule = "04:30"
    stop_timeout: Duration = timedelta(seconds=30)
    stale_after_intervals: float = Field(default=3.0, ge=1)
    stuck_after: Duration = timedelta(minutes=30)
    unsettled_after: Duration = timedelta(hours=1)
    # Replicas on a PostgreSQL ledger: a replica killed outright is replaced within about
    # lease_seconds + lease_renew_seconds (25 s by default); see docs/deploy.md.
    lease_seconds: float = Field(default=20.0, ge=1, le=600)
    lease_renew_seconds: float = Field(default=5.0, gt=0, le=120)

    @model_validator(mode="after")
    def _renewals_fit_in_a_lease(self) -> DaemonSettings:
        if self.lease_renew_seconds * 3 > self.lease_seconds:
            # Two renewals may fail (a slow database) before the lease is at risk.
            raise PydanticCustomError(
                "lease_renewal", "lease_renew_seconds must be at most a third of lease_seconds"
            )
        return self


class LoggingSettings(_Section):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "console"] = "auto"


def default_state_dir() -> Path:
    """systemd's StateDirectory when set, else the XDG state home."""
    if state := os.environ.get("STATE_DIRECTORY"):
        return Path(state.split(":")[0])
    xdg = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(xdg) / "inventory-sync"


class _LoadContext(BaseModel):
    toml: dict[str, Any]
    credentials_dir: Path | None


_LOADING: contextvars.ContextVar[_LoadContext] = contextvars.ContextVar("_LOADING")


class _CredentialsSource(PydanticBaseSettingsSource):
    """Reads secrets from files in the credentials directory (systemd LoadCredential=)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # noqa: ANN401, ARG002
        return None, field_name, False  # values come from __call__

    def __call__(self) -> dict[str, Any]:
        directory = _LOADING.get().credentials_dir
        found: dict[str, Any] = {}
        if directory is None or not directory.is_dir():
            return found
        for file_name, (section, key) in CREDENTIAL_FILES.items():
            path = directory / file_name
            if path.is_file():
                found.setdefault(section, {})[key] = path.read_text(encoding="utf-8").strip()
        return found


class _EnvSource(PydanticBaseSettingsSource):
    """The usual env source, less INVENTORY_SYNC_ACCOUNTS__<NAME>__<KEY>: those are laid over
    the account of that name (config_accounts), not read as a table replacing the list."""

    def __init__(self, settings_cls: type[BaseSettings], inner: PydanticBaseSettingsSource) -> None:
        super().__init__(settings_cls)
        self._inner = inner

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # noqa: ANN401, ARG002
        return None, field_name, False  # values come from __call__

    def __call__(self) -> dict[str, Any]:
        found = self._inner()
        if isinstance(found.get("accounts"), dict):
            del found["accounts"]
        return found


class Settings(BaseSettings):
    """The whole configuration."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    state_dir: Path = Field(default_factory=default_state_dir)
    ledger: LedgerSettings = LedgerSettings()
    shipstation: ShipStationSettings = ShipStationSettings()
    warehouses: list[WarehouseSettings] = Field(default_factory=list)
    accounts: list[AccountSettings] = Field(default_factory=list)
    sources: list[SourceSettings] = Field(default_factory=list)
    reconcile: ReconcileSettings = ReconcileSettings()
    daemon: DaemonSettings = DaemonSettings()
    logging: LoggingSettings = LoggingSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,  # noqa: ARG003
        file_secret_settings: PydanticBaseSettingsSource,  # noqa: ARG003
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = _LOADING.get().toml
        return (
            init_settings,
            _EnvSource(settings_cls, env_settings),
            _CredentialsSource(settings_cls),
            InitSettingsSource(settings_cls, init_kwargs=toml),
        )

    @model_validator(mode="before")
    @classmethod
    def _account_secrets(cls, data: Any) -> Any:  # noqa: ANN401 - whatever the sources gave
        if isinstance(data, dict) and "accounts" in data:
            directory = _LOADING.get().credentials_dir
            data = {**data, "accounts": overlay_accounts(data["accounts"], os.environ, directory)}
        return data

    @model_validator(mode="after")
    def _cross_references(self) -> Settings:
        problems = cross_reference_problems(self)
        if problems:
            raise PydanticCustomError(
                "cross_reference",
                "{summary}",
                {"summary": "; ".join(problems), "problems": problems},
            )
        return self

    @property
    def ledger_url(self) -> str:
        return self.ledger.url or f"sqlite:///{self.state_dir / 'ledger.db'}"

    def all_accounts(self) -> tuple[AccountSettings, ...]:
        """Every account, [shipstation]'s keys filled in; the single-account file is `default`."""
        ss = self.shipstation
        if not self.accounts:
            fields = {name: getattr(ss, name) for name in type(ss).model_fields}
            single = {**fields, "name": DEFAULT_ACCOUNT, "warehouses": self.warehouses}
            # Built unvalidated: a file of one account may list no warehouse yet (`status`).
            return (AccountSettings.model_construct(**single),)
        return tuple(
            account.model_copy(
                update={
                    key: getattr(ss, key)
                    for key in INHERITED_KEYS
                    if key not in account.model_fields_set
                }
            )
            for account in self.accounts
        )

    def all_warehouses(self) -> list[WarehouseSettings]:
        """Every configured warehouse, of every account, in file order."""
        return [w for account in self.all_accounts() for w in account.warehouses]

    def account_of(self, warehouse: str) -> str | None:
        """The name of the account a warehouse belongs to (None: no such warehouse)."""
        return next(
            (a.name for a in self.all_accounts() for w in a.warehouses if w.name == warehouse),
            None,
        )


def find_config_file(explicit: Path | None, environ: dict[str, str] | None = None) -> Path | None:
    """--config, else $INVENTORY_SYNC_CONFIG, else ./inventory-sync.toml, else /etc/..."""
    env = os.environ if environ is None else environ
    if explicit is not None:
        return explicit
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    return next((p for p in DEFAULT_PATHS if p.is_file()), None)


def load_settings(
    path: Path | None,
    *,
    credentials_dir: Path | None = None,
    require_file: bool = True,
    overrides: dict[str, Any] | None = None,
) -> Settings:
    """Load and validate everything; raise ConfigError listing every problem at once."""
    found = find_config_file(path)
    if found is None and require_file:
        looked = ", ".join(str(p) for p in DEFAULT_PATHS)
        raise ConfigError(
            [
                ConfigProblem(
                    "--config", f"no configuration file found (looked at ${CONFIG_ENV}, {looked})"
                )
            ]
        )
    toml = _read_toml(found) if found is not None else {}
    creds = credentials_dir or _env_path("CREDENTIALS_DIRECTORY")
    token = _LOADING.set(_LoadContext(toml=toml, credentials_dir=creds))
    try:
        return Settings(**(overrides or {}))
    except ValidationError as exc:
        raise ConfigError(problems_from(exc), origin=str(found) if found else None) from exc
    finally:
        _LOADING.reset(token)


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError([ConfigProblem(str(path), "file not found")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([ConfigProblem(str(path), f"not valid TOML: {exc}")]) from exc
    except UnicodeDecodeError as exc:
        # tomllib decodes the whole file first; a binary or Latin-1 file fails before parsing.
        problem = f"not UTF-8 text (byte {exc.start}: {exc.reason}); TOML files are UTF-8"
        raise ConfigError([ConfigProblem(str(path), problem)]) from exc
    except OSError as exc:
        raise ConfigError([ConfigProblem(str(path), f"cannot be read: {exc.strerror}")]) from exc
