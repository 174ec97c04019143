"""Which warehouses a run held and why, kept in its summary so `status` and `history` can say.

A run ends ``held`` when any of its warehouses was: a source of it was held (a sanity gate,
unreadable, unusable) or a guard stopped the plan (which stops the whole run's plan). The
warehouses it reconciled in full are not held, and `status` must not blame them; nor those
whose source only waits for its next file (an emptied archiving inbox).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from inventory_sync.app import ConfiguredSource
from inventory_sync.domain.model import HELD_KEY, HELD_PREFIX, Hold, SummaryValue, holding
from inventory_sync.report import RunReport

REASON_LIMIT = 500  # characters per warehouse: a sentence for people, not a log


def held_summary(
    sources: Sequence[ConfiguredSource], report: RunReport, names: Collection[str]
) -> dict[str, SummaryValue]:
    """``held_warehouses`` and one ``held:<warehouse>`` reason per held warehouse of ``names``."""
    feeds = {str(s.name): [str(w) for w in s.warehouses] for s in sources}
    skipped = set(report.skipped)  # busy: another process pushed to them, not held by us
    reasons: dict[str, list[str]] = {}
    for hold in holding(report.holds):  # a source waiting for its next file holds nothing
        for name in _held_by(hold, feeds):
            if name in names and name not in skipped:
                reasons.setdefault(name, []).append(f"{hold.subject}: {hold.reason}")
    if report.guard_held:  # the guard stops the whole plan, every warehouse of the run with it
        tripped = ", ".join(h.subject for h in report.holds if h.subject.startswith("warehouse:"))
        for name in sorted(set(names) - skipped - reasons.keys()):
            reasons[name] = [f"held with the run by a guard on {tripped or 'another warehouse'}"]
    if not reasons:
        return {}
    summary: dict[str, SummaryValue] = {HELD_KEY: ",".join(sorted(reasons))}
    for name in sorted(reasons):
        summary[HELD_PREFIX + name] = _shortened("; ".join(dict.fromkeys(reasons[name])))
    return summary


def _held_by(hold: Hold, feeds: dict[str, list[str]]) -> list[str]:
    kind, _, what = hold.subject.partition(":")
    if kind == "warehouse":
        return [what]
    if kind == "source":
        return feeds.get(what, [])
    return []  # a SKU's quarantine holds that SKU, not its warehouse


def _shortened(text: str) -> str:
    return text if len(text) <= REASON_LIMIT else text[: REASON_LIMIT - 3] + "..."
