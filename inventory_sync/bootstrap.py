"""The one composition root: settings in, wired objects out. Tests swap parts via overrides."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from inventory_sync import logs
from inventory_sync.app import App, ConfiguredSource
from inventory_sync.clock import SystemClock
from inventory_sync.config import (
    ReconcileOverrides,
    ReconcileSettings,
    Settings,
    SourceSettings,
)
from inventory_sync.domain.gates import GateRules
from inventory_sync.domain.model import (
    Completeness,
    LocationId,
    Sku,
    SourceName,
    Warehouse,
    WarehouseTarget,
)
from inventory_sync.domain.policy import GuardLimits, Mode, Policy, Precedence
from inventory_sync.errors import ConfigError, ConfigProblem
from inventory_sync.ledger.repository import SqlLedger, open_ledger
from inventory_sync.ports import Clock, ClosableLedger, InventoryApi, Leases, Ledger, Source
from inventory_sync.shipstation.client import ShipStationClient, build_client
from inventory_sync.shipstation.keys import ApiKey
from inventory_sync.shipstation.mapping import WarehouseMapping
from inventory_sync.shipstation.settings import ClientSettings
from inventory_sync.sources import SourceContext, SourceSpec, load_kind
from inventory_sync.targets import MappedTargets


def build(
    settings: Settings,
    *,
    inventory: InventoryApi | None = None,
    ledger: Ledger | None = None,
    sources: tuple[ConfiguredSource, ...] | None = None,
    clock: Clock | None = None,
    credentials_dir: Path | None = None,
    leases: Leases | None = None,
) -> App:
    """Wire everything the settings describe; any part given as an override is used instead.

    ``leases``: replicas coordinate through it; by default the ledger built here when it is
    PostgreSQL (SQLite is one host's file: one process, as before)."""
    clock = clock or SystemClock()
    inventory_given = inventory
    inventory = inventory or _client(settings, clock)
    built = ledger or _ledger(settings)
    app = App(
        ledger=built,
        inventory=inventory,
        clock=clock,
        targets=MappedTargets(
            mappings_from(settings),
            inventory,
            configured=_targets(settings),
            check=settings.reconcile.check_mapping,
        ),
        sources=sources if sources is not None else _sources(settings, clock, credentials_dir),
        policy=policy_from(settings.reconcile),
        policies=policies_from(settings),
        limits=all_limits_from(settings),
        concurrency=settings.shipstation.concurrency,
        max_attempts=settings.reconcile.max_attempts,
        leases=leases if leases is not None else _shared_leases(built),
    )
    for part, given in ((app.inventory, inventory_given), (app.ledger, ledger)):
        close = getattr(part, "close", None)
        if callable(close) and part is not given:
            app.closers.append(close)
    return app


def _shared_leases(ledger: Ledger) -> Leases | None:
    return ledger if isinstance(ledger, SqlLedger) and ledger.shared else None


def leases_of(ledger: Ledger) -> Leases | None:
    """The replicas' leases and heartbeats kept in ``ledger`` (for `status`), if it keeps any."""
    return ledger if isinstance(ledger, SqlLedger) else None


def _ledger(settings: Settings) -> Ledger:
    return open_ledger(settings.ledger_url, migrate=True)


def ledger_only(settings: Settings) -> ClosableLedger:
    """The ledger alone, migrated, for commands that need nothing else (history, status)."""
    return open_ledger(settings.ledger_url, migrate=True)


def client_only(settings: Settings, clock: Clock | None = None) -> ShipStationClient:
    """The ShipStation client alone, for commands that only talk to ShipStation."""
    return build_client(client_settings(settings), clock=clock or SystemClock())


def client_settings(settings: Settings) -> ClientSettings:
    """The ShipStation client's settings; registers each key with the log scrubber."""
    ss = settings.shipstation
    keys = []
    if ss.api_key is not None:
        keys.append(ApiKey(ss.api_key.get_secret_value(), ss.api_key_expires, "primary"))
    if ss.secondary_api_key is not None:
        keys.append(
            ApiKey(
                ss.secondary_api_key.get_secret_value(), ss.secondary_api_key_expires, "secondary"
            )
        )
    if not keys:
        raise ConfigError(
            [
                ConfigProblem(
                    "shipstation.api_key", "required (or the shipstation_api_key credential)"
                )
            ]
        )
    for key in keys:
        logs.register_secret(key.value)
    return ClientSettings(
        base_url=ss.base_url,
        keys=tuple(keys),
        requests_per_minute=ss.requests_per_minute,
        page_size=ss.page_size,
        page_size_param=ss.page_size_param,
        timeout_seconds=ss.timeout_seconds,
        concurrency=ss.concurrency,
    )


def _client(settings: Settings, clock: Clock) -> InventoryApi:
    return build_client(client_settings(settings), clock=clock)


def mappings_from(settings: Settings) -> tuple[WarehouseMapping, ...]:
    return tuple(
        WarehouseMapping(
            name=w.name,
            inventory_warehouse_id=w.inventory_warehouse_id,
            inventory_location_id=w.inventory_location_id,
            warehouse_name=w.shipstation_name,
        )
        for w in settings.warehouses
    )


def _targets(settings: Settings) -> tuple[WarehouseTarget, ...]:
    """Targets straight from the config; empty until the mapping check when any id is missing."""
    if any(w.inventory_location_id is None for w in settings.warehouses):
        return ()
    return tuple(
        WarehouseTarget(
            Warehouse(w.name), LocationId(w.inventory_location_id or ""), w.inventory_warehouse_id
        )
        for w in settings.warehouses
    )


def _sources(
    settings: Settings, clock: Clock, credentials_dir: Path | None
) -> tuple[ConfiguredSource, ...]:
    context = SourceContext(
        clock=clock, read_secret=secret_reader(credentials_dir), state_dir=settings.state_dir
    )
    return tuple(configured_source(s, context) for s in settings.sources)


def configured_source(source: SourceSettings, context: SourceContext) -> ConfiguredSource:
    kind = load_kind(source.type)
    spec = SourceSpec(
        name=SourceName(source.name),
        warehouses=tuple(Warehouse(w) for w in source.warehouses),
        basis=source.quantity,
        completeness=source.snapshot,
        max_quantity=source.max_quantity,
        duplicates=source.duplicates,
        sku_case=source.sku_case,
    )
    built: Source = kind.build(spec, kind.options_model.model_validate(source.options), context)
    gates = GateRules(
        min_row_fraction=source.gates.min_row_fraction,
        sentinel_skus=frozenset(Sku(s) for s in source.gates.sentinel_skus),
        max_age=source.gates.max_age,
        reject_all_zero=source.gates.reject_all_zero,
    )
    return ConfiguredSource(built, spec.warehouses, Completeness(source.snapshot), gates)


CREDENTIAL_ENV_PREFIX = "INVENTORY_SYNC_CREDENTIAL_"


def credential_variable(name: str) -> str:
    """The environment variable that may hold a named credential: east-sftp.pw ->
    INVENTORY_SYNC_CREDENTIAL_EAST_SFTP_PW."""
    return CREDENTIAL_ENV_PREFIX + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def secret_reader(credentials_dir: Path | None) -> Callable[[str], str]:
    """Reads a named secret and registers it for redaction: from its environment variable if
    set (as settings are), else from the credentials directory (systemd's LoadCredential=)."""
    directory = credentials_dir or Path(os.environ.get("CREDENTIALS_DIRECTORY", "/nonexistent"))

    def read(name: str) -> str:
        variable = credential_variable(name)
        path = directory / name
        if variable in os.environ:
            value = os.environ[variable].strip()
        elif path.is_file():
            value = path.read_text(encoding="utf-8").strip()
        else:
            raise ConfigError(
                [ConfigProblem(f"credential {name}", f"no file {path} and no ${variable}")]
            )
        logs.register_secret(value)
        return value

    return read


def _reconcile_for(settings: Settings, overrides: ReconcileOverrides) -> ReconcileSettings:
    """[reconcile], with a warehouse's own keys laid over it."""
    return settings.reconcile.model_copy(update=overrides.model_dump(exclude_none=True))


def policy_from(rs: ReconcileSettings) -> Policy:
    return Policy(
        mode=Mode(rs.mode),
        precedence=Precedence(rs.precedence),
        tolerance=rs.tolerance,
        buffer=rs.buffer,
        cap=rs.cap,
        zero_absent_after=None if rs.zero_absent_after == "never" else rs.zero_absent_after,
    )


def limits_from(rs: ReconcileSettings) -> GuardLimits:
    return GuardLimits(
        max_changed_share=rs.max_changed_share,
        max_units_share=rs.max_units_share,
        max_zeroed=rs.max_zeroed,
    )


def policies_from(settings: Settings) -> dict[Warehouse, Policy]:
    return {
        Warehouse(w.name): policy_from(_reconcile_for(settings, w.reconcile))
        for w in settings.warehouses
    }


def all_limits_from(settings: Settings) -> dict[Warehouse, GuardLimits]:
    return {
        Warehouse(w.name): limits_from(_reconcile_for(settings, w.reconcile))
        for w in settings.warehouses
    }
