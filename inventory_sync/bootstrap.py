"""The one composition root: settings in, wired objects out. Tests swap parts via overrides."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from inventory_sync import logs
from inventory_sync.app import AccountRequired, AccountsTargets, App, ConfiguredSource
from inventory_sync.clock import SystemClock
from inventory_sync.config import (
    ReconcileOverrides,
    ReconcileSettings,
    Settings,
    SourceSettings,
    WarehouseSettings,
)
from inventory_sync.config_accounts import credential_file, env_var
from inventory_sync.domain.gates import GateRules
from inventory_sync.domain.model import (
    AccountName,
    Completeness,
    LocationId,
    Sku,
    SourceName,
    Warehouse,
    WarehouseTarget,
)
from inventory_sync.domain.policy import GuardLimits, Mode, Policy, Precedence
from inventory_sync.errors import ConfigError, ConfigProblem, UsageError
from inventory_sync.ledger.repository import SqlLedger, open_ledger
from inventory_sync.ports import (
    Clock,
    ClosableLedger,
    InventoryApi,
    Leases,
    LeaseTimes,
    Ledger,
    Source,
)
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
    inventories: Mapping[str, InventoryApi] | None = None,
    leases: Leases | None = None,
    on_pause: Callable[[float], None] | None = None,
) -> App:
    """Wire everything the settings describe; any part given as an override is used instead.

    ``inventory`` replaces the (first) account's client; ``inventories`` replaces clients by
    account name (an account not named gets its real client). With several accounts, the App
    holds one App per account (``App.accounts``), each with its own client and targets.
    ``leases``: replicas coordinate through it; by default the ledger built here when it is
    PostgreSQL (SQLite is one host's file: one process, as before). ``on_pause`` hears each
    pause ShipStation asks for (seconds), for a terminal to show.
    """
    clock = clock or SystemClock()
    accounts = settings.all_accounts()
    given = dict(inventories or {})
    if inventory is not None:
        given.setdefault(accounts[0].name, inventory)
    built = ledger or _ledger(settings)
    shared = App(
        ledger=built,
        inventory=AccountRequired(),
        clock=clock,
        targets=AccountsTargets(()),
        sources=sources if sources is not None else _sources(settings, clock, credentials_dir),
        policy=policy_from(settings.reconcile),
        policies=policies_from(settings),
        limits=all_limits_from(settings),
        max_attempts=settings.reconcile.max_attempts,
        leases=leases if leases is not None else _shared_leases(built),
        lease_times=LeaseTimes(
            timedelta(seconds=settings.daemon.lease_seconds), settings.daemon.lease_renew_seconds
        ),
    )
    close_ledger = getattr(shared.ledger, "close", None)
    if ledger is None and callable(close_ledger):
        shared.closers.append(close_ledger)
    views = tuple(
        _account_app(shared, settings, index, given, on_pause) for index in range(len(accounts))
    )
    if len(views) == 1:
        views[0].closers[:0] = shared.closers  # the ledger closes last, after the client
        return views[0]
    return replace(
        shared,
        targets=AccountsTargets(tuple(v.targets for v in views)),
        concurrency=sum(v.concurrency for v in views),
        accounts=views,
        closers=[*shared.closers, *(v.close for v in views)],
    )


def _account_app(
    shared: App,
    settings: Settings,
    index: int,
    given: Mapping[str, InventoryApi],
    on_pause: Callable[[float], None] | None,
) -> App:
    """One account's App: its own client and targets; the shared ledger, clock and rules."""
    account = settings.all_accounts()[index]
    inventory = given.get(account.name)
    closers: list[Callable[[], None]] = []
    if inventory is None:
        client = build_client(
            client_settings_for(settings, index), clock=shared.clock, on_pause=on_pause
        )
        inventory, closers = client, [client.close]
    mine = {w.name for w in account.warehouses}
    return replace(
        shared,
        account=AccountName(account.name),
        inventory=inventory,
        targets=MappedTargets(
            _mappings(account.warehouses),
            inventory,
            configured=_targets(account.warehouses),
            check=settings.reconcile.check_mapping,
        ),
        sources=tuple(s for s in shared.sources if mine & set(s.warehouses)),
        concurrency=account.concurrency,
        closers=closers,
    )


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


def client_only(
    settings: Settings, clock: Clock | None = None, *, account: str | None = None
) -> ShipStationClient:
    """One account's ShipStation client alone, for commands that only talk to ShipStation.

    ``account`` may be left out when the configuration has only one."""
    names = [a.name for a in settings.all_accounts()]
    if account is None and len(names) > 1:
        raise UsageError(f"name the account (--account); configured: {', '.join(names)}")
    if account is not None and account not in names:
        raise UsageError(f"unknown account {account!r}; configured: {', '.join(names)}")
    index = 0 if account is None else names.index(account)
    return build_client(client_settings_for(settings, index), clock=clock or SystemClock())


def client_settings(settings: Settings) -> ClientSettings:
    """The single account's client settings (the first account's, with several)."""
    return client_settings_for(settings, 0)


def client_settings_for(settings: Settings, index: int) -> ClientSettings:
    """One account's ShipStation client settings; registers each key with the log scrubber."""
    ss = settings.all_accounts()[index]
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
        raise ConfigError([_missing_key(settings, index)])
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
        max_rate_limit_pause_seconds=ss.max_rate_limit_pause_seconds,
    )


def _missing_key(settings: Settings, index: int) -> ConfigProblem:
    if not settings.accounts:
        return ConfigProblem(
            "shipstation.api_key", "required (or the shipstation_api_key credential)"
        )
    name = settings.accounts[index].name
    return ConfigProblem(
        f"accounts[{index}].api_key",
        f"required for account {name!r}: {env_var(name, 'api_key')}, "
        f"or the credential file {credential_file(name, 'api_key')}",
    )


def mappings_from(settings: Settings, account: str | None = None) -> tuple[WarehouseMapping, ...]:
    """The configured mapping of every warehouse, or of one account's."""
    return tuple(
        m
        for a in settings.all_accounts()
        if account is None or a.name == account
        for m in _mappings(a.warehouses)
    )


def _mappings(warehouses: Sequence[WarehouseSettings]) -> tuple[WarehouseMapping, ...]:
    return tuple(
        WarehouseMapping(
            name=w.name,
            inventory_warehouse_id=w.inventory_warehouse_id,
            inventory_location_id=w.inventory_location_id,
            warehouse_name=w.shipstation_name,
        )
        for w in warehouses
    )


def _targets(warehouses: Sequence[WarehouseSettings]) -> tuple[WarehouseTarget, ...]:
    """Targets straight from the config; empty until the mapping check when any id is missing."""
    if any(w.inventory_location_id is None for w in warehouses):
        return ()
    return tuple(
        WarehouseTarget(
            Warehouse(w.name), LocationId(w.inventory_location_id or ""), w.inventory_warehouse_id
        )
        for w in warehouses
    )


def _sources(
    settings: Settings, clock: Clock, credentials_dir: Path | None
) -> tuple[ConfiguredSource, ...]:
    context = SourceContext(
        clock=clock, read_secret=secret_reader(credentials_dir), state_dir=settings.state_dir
    )
    return configured_sources(settings.sources, context)


def configured_sources(
    sources: Sequence[SourceSettings], context: SourceContext
) -> tuple[ConfiguredSource, ...]:
    """Build every source; the problems of all of them (a credential missing here and there)
    are reported together, each under its source's place in the file."""
    built: list[ConfiguredSource] = []
    problems: list[ConfigProblem] = []
    for index, source in enumerate(sources):
        try:
            built.append(configured_source(source, context))
        except ConfigError as err:
            where = f"sources[{index}]"
            problems += [
                ConfigProblem(
                    f"{where}.{p.key}" if p.key.startswith("options") else f"{where} {p.key}",
                    p.message,
                )
                for p in err.problems
            ]
    if problems:
        raise ConfigError(problems)
    return tuple(built)


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
    named = credentials_dir or os.environ.get("CREDENTIALS_DIRECTORY")
    directory = Path(named) if named else None

    def read(name: str) -> str:
        variable = credential_variable(name)
        path = None if directory is None else directory / name
        if variable in os.environ:
            value = os.environ[variable].strip()
        elif path is not None and path.is_file():
            value = path.read_text(encoding="utf-8").strip()
        else:
            raise ConfigError([ConfigProblem(f"credential {name}", _not_found(variable, path))])
        logs.register_secret(value)
        return value

    return read


def _not_found(variable: str, path: Path | None) -> str:
    if path is None:
        return (
            f"${variable} is not set, and there is no credentials directory"
            " ($CREDENTIALS_DIRECTORY is not set; systemd sets it for LoadCredential=)"
        )
    return f"no file {path} and no ${variable}"


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
        for w in settings.all_warehouses()
    }


def all_limits_from(settings: Settings) -> dict[Warehouse, GuardLimits]:
    return {
        Warehouse(w.name): limits_from(_reconcile_for(settings, w.reconcile))
        for w in settings.all_warehouses()
    }
