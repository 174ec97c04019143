"""Benchmark: planning N (warehouse, SKU) rows against the cost of merely parsing them from CSV.

Targets: parse + build inputs + plan() <= 3x the csv.reader floor, and <= 400 MB peak RSS.
With --through-source, the service's own path: the csv source's pull (every row validated)
<= 2x the floor, pull + plan() <= 3x and <= 400 MB. With --xlsx, the same file as a workbook
through the xlsx source, against its own floor (calamine reading the sheet into tuples),
twice: with a shared string table, as Excel and most libraries write, and with inline
strings, as streaming writers do.

Each phase runs in a fresh child process, so its peak RSS (ru_maxrss) is its own and the
garbage collector starts from the same state; the best of --repeat runs is kept. plan() and
the csv source's pull run with the cycle collector paused, as the service runs them
(inventory_sync/gcpause.py); the floor runs as plain code does. Times are
CPU seconds of the child (time.process_time), so other work on a shared machine disturbs the
ratio less than wall-clock time would. ShipStation's levels are built before the clock starts:
in the service they arrive from the ShipStation client, not from this CSV.

The built inputs are what a CSV source hands the planner: per warehouse, a SKU -> quantity
dict in feed order.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from inventory_sync.clock import SystemClock
from inventory_sync.domain.model import (
    Completeness,
    Levels,
    LocationId,
    QuantityBasis,
    RunId,
    Sku,
    Snapshot,
    SourceName,
    Warehouse,
)
from inventory_sync.domain.planner import WarehouseInput, plan
from inventory_sync.domain.policy import Policy
from inventory_sync.gcpause import gc_paused
from inventory_sync.sources.base import SourceContext, SourceSpec

Phase = dict[str, float]


def main() -> None:
    args = _parser().parse_args()
    if args.phase:
        print(json.dumps(_run_phase(args.phase, Path(args.dir), args.buffer)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        _generate(Path(tmp), args)
        runs = [(_child(tmp, "floor", args), _child(tmp, "plan", args)) for _ in range(args.repeat)]
        through_source = _best(tmp, "source", args) if args.through_source else None
        xlsx = []
        if args.xlsx:
            for strings in ("shared", "inline"):
                _write_workbook(Path(tmp), strings)
                floor_xlsx = _best(tmp, "xlsx-floor", args)
                xlsx.append((strings, floor_xlsx, _best(tmp, "xlsx-source", args)))
    floor = min((f for f, _ in runs), key=lambda r: r["seconds"])
    planned = min((p for _, p in runs), key=lambda r: r["seconds"])
    _report(args, floor, planned, through_source)
    for strings, floor_xlsx, source_xlsx in xlsx:
        _report_xlsx(strings, floor_xlsx, source_xlsx)


def _best(directory: str, phase: str, args: argparse.Namespace) -> Phase:
    """The best of --repeat runs (CPU time); peak RSS is the lowest seen, as noise only adds."""
    runs = [_child(directory, phase, args) for _ in range(args.repeat)]
    best = min(runs, key=lambda r: r["seconds"])
    return {**best, "peak_mb": min(r["peak_mb"] for r in runs)}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--warehouses", type=int, default=10)
    parser.add_argument("--changed", type=float, default=0.10, help="share of rows that differ")
    parser.add_argument("--buffer", type=int, default=0, help="policy buffer (0: plain mirror)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per phase; best is kept")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--through-source",
        action="store_true",
        help="also time the service's own path: the csv source's pull (every row"
        " validated, bad rows quarantined) and plan()",
    )
    parser.add_argument(
        "--xlsx",
        action="store_true",
        help="also write the feed as an .xlsx workbook (about a minute for 1M rows) and time"
        " the xlsx source's pull and plan() against calamine's own floor",
    )
    parser.add_argument(
        "--phase",
        choices=["floor", "plan", "source", "xlsx-floor", "xlsx-source"],
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    return parser


def _generate(directory: Path, args: argparse.Namespace) -> None:
    """source.csv: what the source says; shipstation.csv: the published levels (source less
    the buffer), a share `--changed` of them off by a few units."""
    rng = random.Random(args.seed)
    rows, warehouses, changed = args.rows, args.warehouses, args.changed
    with (
        (directory / "source.csv").open("w", newline="") as src,
        (directory / "shipstation.csv").open("w", newline="") as ship,
    ):
        source, shipstation = csv.writer(src), csv.writer(ship)
        source.writerow(("warehouse", "sku", "quantity"))
        for i in range(rows):
            warehouse, sku, quantity = (
                f"wh{i % warehouses:02d}",
                f"SKU-{i:08d}",
                rng.randint(0, 500),
            )
            source.writerow((warehouse, sku, quantity))
            drift = rng.randint(1, 20) if rng.random() < changed else 0
            published = max(0, quantity - args.buffer)
            shipstation.writerow((warehouse, sku, published + drift))


def _child(directory: str, phase: str, args: argparse.Namespace) -> Phase:
    command = [sys.executable, __file__, "--phase", phase, "--dir", directory]
    command += ["--buffer", str(args.buffer)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    result: Phase = json.loads(done.stdout)
    return result


def _run_phase(phase: str, directory: Path, buffer: int) -> Phase:
    source = directory / "source.csv"
    if phase == "floor":
        started = time.process_time()
        with source.open(newline="") as f:
            reader = csv.reader(f)
            next(reader)  # the header
            parsed = [(w, s, int(q)) for w, s, q in reader]
        result = {"seconds": time.process_time() - started, "rows": float(len(parsed))}
    elif phase in {"source", "xlsx-source"}:
        kind = "xlsx" if phase == "xlsx-source" else "csv"
        return _source_phase(
            directory, _levels(directory / "shipstation.csv"), Policy(buffer=buffer), kind
        )
    elif phase == "xlsx-floor":
        result = _xlsx_floor(directory / "source.xlsx")
    else:
        levels = _levels(directory / "shipstation.csv")
        before_mb = _peak_mb()  # ShipStation's levels, held before the clock starts
        return {**_plan_phase(source, levels, Policy(buffer=buffer)), "levels_mb": before_mb}
    return {**result, "peak_mb": _peak_mb()}


def _peak_mb() -> float:
    """This process's peak RSS. VmHWM, not ru_maxrss: a child's ru_maxrss starts at its
    parent's size when forked (the parent holds a big workbook while writing one)."""
    try:
        with Path("/proc/self/status").open() as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _plan_phase(source: Path, levels: dict[Warehouse, Levels], policy: Policy) -> Phase:
    started = time.process_time()
    with source.open(newline="") as f:
        reader = csv.reader(f)
        next(reader)  # the header
        inputs = _inputs(_rows(reader, levels), levels)
    built = time.process_time()
    with gc_paused():  # as the service plans
        result = plan(RunId("bench"), inputs, {}, policy)
    done = time.process_time()
    peak_mb = _peak_mb()
    counts = {"adjustments": float(len(result.adjustments)), "unchanged": float(result.unchanged)}
    del result
    # What plan() itself allocates at its peak, measured on a second, untimed call after the
    # RSS peak is taken (tracemalloc slows allocation down and holds memory of its own).
    tracemalloc.start()
    plan(RunId("bench"), inputs, {}, policy)
    plan_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return {
        **counts,
        "peak_mb": peak_mb,
        "plan_mb": plan_mb,
        "seconds": done - started,
        "build": built - started,
        "plan": done - built,
    }


def _xlsx_floor(path: Path) -> Phase:
    """Reading the workbook's bytes and its sheet into (warehouse, sku, quantity) tuples."""
    import python_calamine  # noqa: PLC0415 - the other phases' memory must not include it

    started = time.process_time()
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(path.read_bytes()))
    rows = book.get_sheet_by_name("Stock").iter_rows()
    next(rows)  # the header
    parsed = [(w, s, int(q)) for w, s, q in rows]
    return {"seconds": time.process_time() - started, "rows": float(len(parsed))}


def _write_workbook(directory: Path, strings: str) -> None:
    """source.csv's rows as the sheet "Stock" of source.xlsx, quantities as numbers; its
    strings in a shared table (as Excel writes) or inline (xlsxwriter's constant memory)."""
    import xlsxwriter  # noqa: PLC0415 - only --xlsx needs it

    inline = strings == "inline"
    book = xlsxwriter.Workbook(str(directory / "source.xlsx"), {"constant_memory": inline})
    sheet = book.add_worksheet("Stock")
    with (directory / "source.csv").open(newline="") as f:
        for r, (warehouse, sku, quantity) in enumerate(csv.reader(f)):
            sheet.write_string(r, 0, warehouse)
            sheet.write_string(r, 1, sku)
            if r:
                sheet.write_number(r, 2, int(quantity))
            else:
                sheet.write_string(r, 2, quantity)
    book.close()


def _source_phase(
    directory: Path, levels: dict[Warehouse, Levels], policy: Policy, kind: str
) -> Phase:
    """The same file through the source kind the service runs: every field of every row
    checked, then plan()."""
    # Imported here: pyarrow (the columnar reader) costs the floor and plan phases nothing.
    from inventory_sync.sources.csv_file import KIND as CSV  # noqa: PLC0415
    from inventory_sync.sources.csv_file import CsvOptions  # noqa: PLC0415
    from inventory_sync.sources.xlsx_file import KIND as XLSX  # noqa: PLC0415
    from inventory_sync.sources.xlsx_file import XlsxOptions  # noqa: PLC0415

    spec = SourceSpec(
        name=SourceName("bench"),
        warehouses=tuple(levels),
        basis=QuantityBasis.ON_HAND,
        completeness=Completeness.COMPLETE,
    )
    model, source_kind = (XlsxOptions, XLSX) if kind == "xlsx" else (CsvOptions, CSV)
    options = model(
        path=str(directory / f"source.{kind}"), warehouse_column="warehouse", stable_seconds=0
    )
    context = SourceContext(SystemClock(), _no_secrets, directory / "state")
    started = time.process_time()
    with gc_paused():  # as the service pulls
        snapshot = source_kind.build(spec, options, context).pull()
    pulled = time.process_time()
    inputs = [
        WarehouseInput(w, LocationId(f"loc-{w}"), (snapshot,), lv) for w, lv in levels.items()
    ]
    with gc_paused():
        plan(RunId("bench"), inputs, {}, policy)
    done = time.process_time()
    return {"seconds": done - started, "pull": pulled - started, "peak_mb": _peak_mb()}


def _no_secrets(name: str) -> str:
    raise KeyError(name)


def _rows(
    reader: Iterator[list[str]], levels: dict[Warehouse, Levels]
) -> dict[Warehouse, dict[Sku, int]]:
    """Parse and build in one pass, as a CSV source does: the warehouse column mapped to the
    configured name, each SKU's quantity into its warehouse's dict."""
    rows: dict[str, dict[Sku, int]] = {w: {} for w in levels}
    for w, s, q in reader:
        rows[w][s] = int(q)  # type: ignore[index]  # Sku is str at run time
    return {w: rows[w] for w in levels}


def _levels(path: Path) -> dict[Warehouse, Levels]:
    on_hand: dict[Warehouse, dict[Sku, int]] = {}
    with path.open(newline="") as f:
        for w, s, q in csv.reader(f):
            on_hand.setdefault(Warehouse(sys.intern(w)), {})[Sku(s)] = int(q)
    return {w: Levels(column) for w, column in on_hand.items()}


def _inputs(
    rows: dict[Warehouse, dict[Sku, int]], levels: dict[Warehouse, Levels]
) -> list[WarehouseInput]:
    """One complete snapshot speaking for every warehouse, as one CSV source produces it."""
    snapshot = Snapshot(
        source=SourceName("bench"),
        snapshot_id="bench",
        taken_at=datetime.now(UTC),
        completeness=Completeness.COMPLETE,
        basis=QuantityBasis.ON_HAND,
        warehouses=frozenset(levels),
        rows=rows,
    )
    return [
        WarehouseInput(w, LocationId(f"loc-{w}"), (snapshot,), per_warehouse)
        for w, per_warehouse in levels.items()
    ]


def _report(
    args: argparse.Namespace, floor: Phase, planned: Phase, through_source: Phase | None
) -> None:
    ratio = planned["seconds"] / floor["seconds"]
    plan_ratio = planned["plan"] / floor["seconds"]
    shape = f"{args.warehouses} warehouses, {args.changed:.0%} changed, buffer {args.buffer}"
    lines = [
        f"rows                 {args.rows:>12,}  ({shape})",
        f"floor: csv parse     {floor['seconds']:>10.3f} s  peak {floor['peak_mb']:>5.0f} MB",
        f"parse+build inputs   {planned['build']:>10.3f} s",
        f"plan()               {planned['plan']:>10.3f} s  ({plan_ratio:.2f}x floor)",
        f"parse+build+plan     {planned['seconds']:>10.3f} s  peak {planned['peak_mb']:>5.0f} MB",
        f"  of which: levels held before the clock {planned['levels_mb']:>5.0f} MB peak RSS",
        f"  of which: plan() allocations at peak   {planned['plan_mb']:>5.0f} MB (tracemalloc)",
        f"ratio to floor       {ratio:>10.2f} x  (target <= 3.00)",
        f"adjustments          {planned['adjustments']:>12,.0f}",
        f"unchanged            {planned['unchanged']:>12,.0f}",
    ]
    ok = ratio <= 3 and planned["peak_mb"] <= 400
    lines.append("verdict              " + ("within targets" if ok else "OVER TARGET"))
    if through_source is not None:
        lines += _source_lines("csv", floor, through_source)
    print("\n".join(lines))


def _source_lines(kind: str, floor: Phase, source: Phase) -> list[str]:
    seconds, pull, peak = source["seconds"], source["pull"], source["peak_mb"]
    times, pull_times = seconds / floor["seconds"], pull / floor["seconds"]
    ok = pull_times <= 2 and times <= 3 and peak <= 400
    return [
        (
            f"{kind} source pull()   {pull:>10.3f} s  ({pull_times:.2f}x floor, target <= 2.00;"
            " every row validated)"
        ),
        (
            f"{kind} source + plan() {seconds:>10.3f} s  peak {peak:>5.0f} MB"
            f"  ({times:.2f}x floor, target <= 3.00 and <= 400 MB)"
        ),
        f"verdict ({kind} source) " + ("within targets" if ok else "OVER TARGET"),
    ]


def _report_xlsx(strings: str, floor: Phase, source: Phase) -> None:
    lines = [
        f"xlsx, {strings} strings:",
        f"floor: xlsx read     {floor['seconds']:>10.3f} s  peak {floor['peak_mb']:>5.0f} MB",
    ]
    print("\n".join([*lines, *_source_lines("xlsx", floor, source)]))


if __name__ == "__main__":
    main()
