"""The `csv` kind: one CSV/TSV file matching a path or glob is the snapshot (the newest of a
complete feed; the oldest not yet archived of a change feed with archive_dir)."""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import replace
from typing import Literal

import structlog
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from inventory_sync.domain.model import Completeness, Rejected, Snapshot, SourceName, Warehouse
from inventory_sync.errors import FeedFormatError
from inventory_sync.ports import Source
from inventory_sync.sources.base import (
    SourceContext,
    SourceSpec,
    check_warehouses,
    invalid_options,
)
from inventory_sync.sources.columnar import Good
from inventory_sync.sources.delimited import Columns, LayoutError, parse_delimited
from inventory_sync.sources.delimited_columns import judge_columns
from inventory_sync.sources.feed_files import FeedFiles
from inventory_sync.sources.file_options import FileOptions
from inventory_sync.sources.files import FileCandidate
from inventory_sync.sources.rows import RowRules, validate_rows

log = structlog.get_logger(__name__)
_FORMAT_DELIMITERS = {"csv": ",", "tsv": "\t"}
NO_ARCHIVE_WARNING = (
    "a change feed without archive_dir reads only the newest file; older ones are never applied"
)


class CsvOptions(FileOptions):
    """Options of the `csv` kind, as written under [sources.options] (where: FileOptions)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["csv", "tsv"] = "csv"
    delimiter: str | None = None  # overrides format
    encoding: str = "utf-8"
    sku_column: str = "sku"
    quantity_column: str = "quantity"
    warehouse_column: str | None = None
    warehouse_map: dict[str, str] = Field(default_factory=dict)

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str | None) -> str | None:
        if value is not None and len(value) != 1:
            raise ValueError("delimiter must be exactly one character")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
        return value

    @model_validator(mode="after")
    def _map_needs_column(self) -> CsvOptions:
        if self.warehouse_map and self.warehouse_column is None:
            raise ValueError("warehouse_map needs warehouse_column")
        return self

    @property
    def separator(self) -> str:
        return self.delimiter or _FORMAT_DELIMITERS[self.format]


class CsvFileSource:
    """Reads the stable file FeedFiles chooses; archives it only when told the snapshot was
    recorded (a change file: counted by every warehouse)."""

    def __init__(self, spec: SourceSpec, options: CsvOptions, context: SourceContext) -> None:
        self._spec = spec
        self._options = options
        self._context = context
        self._rules = RowRules.for_spec(
            spec,
            warehouse_map={k: Warehouse(v) for k, v in options.warehouse_map.items()},
            sku_field=options.sku_column,
            quantity_field=options.quantity_column,
            warehouse_field=options.warehouse_column or "warehouse",
        )
        partial = spec.completeness is Completeness.PARTIAL
        if partial and options.archive_dir is None:
            log.warning("source.config_warning", source=spec.name, reason=NO_ARCHIVE_WARNING)
        drain = partial and options.archive_dir is not None
        self._files = FeedFiles(options, spec.name, context, drain=drain)
        # snapshot_id -> the files committing it archives (itself, and for a complete feed the
        # older stable ones it makes obsolete)
        self._pending: dict[str, tuple[str, ...]] = {}

    @property
    def name(self) -> SourceName:
        return self._spec.name

    @property
    def reads_from(self) -> str:
        return self._files.reads_from

    def pull(self) -> Snapshot:
        """Read the file to use; raise SourceUnavailable while none is ready."""
        picked = self._files.pick()
        candidate, origin, superseded = picked.candidate, picked.origin, picked.superseded
        waiting, newest_at = picked.waiting, picked.newest_at
        # The bytes travel on in a one-item list that the columnar reader empties once it holds
        # the text as columns: no frame keeps another reference, so a big file is freed early.
        held = [picked.data]
        del picked
        snapshot = replace(
            self._snapshot(candidate, origin, held),
            files_waiting=waiting,
            newest_waiting_at=newest_at,
        )
        # Only the latest pull can be committed: a held snapshot's entry must not pile up.
        self._pending = {snapshot.snapshot_id: superseded}
        return snapshot

    def commit(self, snapshot: Snapshot) -> None:
        """Archive the snapshot's file (and older ones it supersedes); call after recording it.

        Archiving inside pull() would lose the file if the run died before recording it."""
        paths = self._pending.pop(snapshot.snapshot_id, ())
        self._files.archive(paths, snapshot.snapshot_id[:12])

    def _snapshot(self, candidate: FileCandidate, origin: str, held: list[bytes]) -> Snapshot:
        snapshot_id = hashlib.sha256(held[0]).hexdigest()
        good, rejected = self._judge(origin, held)
        no_rows = not good and not rejected
        if no_rows and self._spec.completeness == "complete":
            # A complete feed with no rows would say "nothing in stock": far likelier a failed
            # export than the truth. Partial feeds may legitimately have nothing to say.
            raise self._format_error(origin, "file has a header but no data rows")
        return Snapshot(
            source=self._spec.name,
            snapshot_id=snapshot_id,
            taken_at=candidate.mtime,
            completeness=self._spec.completeness,
            basis=self._spec.basis,
            warehouses=frozenset(self._spec.warehouses),
            rows=good,
            rejected=tuple(sorted(rejected, key=lambda r: r.line or 0)),
            origin=origin,
        )

    def _judge(self, origin: str, held: list[bytes]) -> tuple[Good, list[Rejected]]:
        """Good rows and rejected ones: by whole columns when the text allows, else per row.

        ``held`` holds the file's bytes; the columnar reader may empty it (see pull)."""
        if not held[0] or held[0].isspace():  # not strip(): that would copy the whole file
            raise self._format_error(origin, "file is empty")
        columns = Columns(
            self._options.sku_column, self._options.quantity_column, self._options.warehouse_column
        )
        try:
            judged = self._judge_columns(origin, held, columns)
            if judged is not None:
                return judged
            text = self._decode(origin, held[0])
            feed = parse_delimited(
                text,
                delimiter=self._options.separator,
                columns=columns,
                source=self._spec.name,
                origin=origin,
            )
        except LayoutError as err:
            raise self._format_error(origin, str(err)) from err
        good, rejected = validate_rows(feed.rows, self._rules)  # reads the file's rows
        return good, [*feed.rejected, *rejected]

    def _judge_columns(
        self, origin: str, held: list[bytes], columns: Columns
    ) -> tuple[Good, list[Rejected]] | None:
        """The fast path, reading UTF-8: other encodings are re-encoded from the decoded text."""
        text = self._decode(origin, held[0])  # also the check that the bytes are valid
        if codecs.lookup(self._options.encoding).name.startswith("utf-8"):
            del text  # the columns are read from the bytes themselves: free the copy first
            utf8 = held
        else:
            utf8 = [text.encode()]
        return judge_columns(
            utf8,
            delimiter=self._options.separator,
            columns=columns,
            rules=self._rules,
            origin=origin,
        )

    def _decode(self, origin: str, data: bytes) -> str:
        encoding = self._options.encoding
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as err:
            line = data[: err.start].count(b"\n") + 1
            bad = data[err.start : err.start + 4]
            raise self._format_error(
                origin,
                f"line {line}: bytes {bad!r} at offset {err.start} are not valid {encoding}"
                " (set options.encoding, e.g. 'latin-1' or 'cp1252')",
            ) from err

    def _format_error(self, origin: str, message: str) -> FeedFormatError:
        return FeedFormatError(f"{origin}: {message}", source=self._spec.name, origin=origin)


class CsvKind:
    """Files on disk, SFTP or S3: one CSV or TSV per snapshot, dropped by a 3PL or an export."""

    options_model: type[BaseModel] = CsvOptions

    def build(self, spec: SourceSpec, options: BaseModel, context: SourceContext) -> Source:
        if not isinstance(options, CsvOptions):
            raise invalid_options("csv", options, CsvOptions)
        check_warehouses(spec, options.warehouse_column, options.warehouse_map)
        return CsvFileSource(spec, options, context)


KIND = CsvKind()
