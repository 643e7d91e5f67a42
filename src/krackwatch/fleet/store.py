"""Audit history: every assess run in one transaction, and what changed between runs.

SQLAlchemy 2 Core over SQLite (default: a file in the user's data directory) or PostgreSQL
(``postgresql://...``, driven by psycopg 3). The schema is created and upgraded by the Alembic migrations in
``krackwatch/fleet/migrations`` each time a store is opened; no alembic.ini is involved.

Tables: ``runs`` (one row per assess run, with its counts), ``verdicts`` (the distinct verdicts of a run:
devices that share vendor, model, firmware and settings share one row, so a large fleet stores each reason
once) and ``devices`` (the inventory snapshot of a run, each row pointing at its verdict). A run is written in
one transaction: a failure midway leaves no trace of it.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from krackwatch.errors import KrackwatchError
from krackwatch.fleet.audit import AuditRecord, AuditSummary
from krackwatch.fleet.model import CIPHERS
from krackwatch.fleet.rules import EXPOSURE_ORDER, Exposure, Verdict

__all__ = [
    "AuditStore",
    "DeviceChange",
    "HistoryDiff",
    "RunInfo",
    "RunWriter",
    "StoreError",
    "default_url",
    "open_store",
]

DB_FILE = "krackwatch.db"
_BATCH = 5000
_VERDICT_CACHE_LIMIT = 100_000
_UTC = _dt.UTC


class StoreError(KrackwatchError):
    """The audit database cannot be opened, migrated, read or written."""


# ----------------------------------------------------------------------------------------------------------
# Schema (kept identical to the migrations; tests/fleet/test_store.py compares them)
# ----------------------------------------------------------------------------------------------------------

metadata = sa.MetaData()
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

runs = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("tool_version", sa.String(64), nullable=False),
    sa.Column("inventory", sa.Text(), nullable=False),
    sa.Column("inventory_format", sa.String(16), nullable=False),
    sa.Column("kb_documents", sa.Text(), nullable=False),
    sa.Column("devices", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("invalid_rows", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("warnings", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("unlisted", sa.Integer(), nullable=False, server_default="0"),
    *(sa.Column(e.value, sa.Integer(), nullable=False, server_default="0") for e in (
        Exposure.EXPOSED, Exposure.PATCH_AVAILABLE, Exposure.FIXED, Exposure.NOT_AFFECTED, Exposure.MITIGATED,
        Exposure.UNKNOWN)),
)

verdicts = sa.Table(
    "verdicts", metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("verdict", sa.String(16), nullable=False),
    sa.Column("severity", sa.String(8), nullable=False),
    sa.Column("score", sa.Float(), nullable=True),
    sa.Column("cves", sa.Text(), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("remediation", sa.Text(), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("evidence", sa.Text(), nullable=True),
    sa.Index("ix_verdicts_run", "run_id"),
)

devices = sa.Table(
    "devices", metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("verdict_id", _ID, sa.ForeignKey("verdicts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("device_key", sa.Text(), nullable=False),
    sa.Column("verdict", sa.String(16), nullable=False),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("vendor", sa.Text(), nullable=False),
    sa.Column("vendor_key", sa.String(128), nullable=False),
    sa.Column("model", sa.Text(), nullable=False),
    sa.Column("firmware", sa.Text(), nullable=False),
    sa.Column("mac", sa.String(17), nullable=True),
    sa.Column("site", sa.Text(), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("ft", sa.Boolean(), nullable=True),
    sa.Column("pmf", sa.Boolean(), nullable=True),
    sa.Column("ciphers", sa.String(32), nullable=False),
    sa.Column("line", sa.Integer(), nullable=False),
    sa.Index("ix_devices_run_key", "run_id", "device_key"),
)


# ----------------------------------------------------------------------------------------------------------
# Values
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunInfo:
    """One stored assess run."""

    id: int
    started_at: _dt.datetime
    finished_at: _dt.datetime | None
    tool_version: str
    inventory: str
    inventory_format: str
    kb_documents: tuple[str, ...]
    devices: int
    invalid_rows: int
    warnings: int
    unlisted: int
    counts: tuple[tuple[Exposure, int], ...]

    def count(self, verdict: Exposure) -> int:
        return dict(self.counts).get(verdict, 0)


@dataclass(frozen=True, slots=True)
class DeviceChange:
    """A device whose presence or verdict differs between two runs (``before``/``after`` None: absent)."""

    key: str
    name: str
    vendor: str
    model: str
    site: str
    before: Exposure | None
    after: Exposure | None
    severity: str  # of the run the device is last seen in
    reason: str


@dataclass(frozen=True, slots=True)
class HistoryDiff:
    """What changed from run ``old`` to run ``new``."""

    old: RunInfo
    new: RunInfo
    newly_exposed: tuple[DeviceChange, ...]
    newly_fixed: tuple[DeviceChange, ...]
    changed: tuple[DeviceChange, ...]
    added: tuple[DeviceChange, ...]
    gone: tuple[DeviceChange, ...]


_GOOD = frozenset({Exposure.FIXED, Exposure.NOT_AFFECTED, Exposure.MITIGATED})


# ----------------------------------------------------------------------------------------------------------
# Opening
# ----------------------------------------------------------------------------------------------------------


def default_url(data_dir: Path) -> str:
    """The SQLite database in krackwatch's data directory."""
    return sa.URL.create("sqlite", database=str(data_dir / DB_FILE)).render_as_string()


def _migrations_dir() -> str:
    return str(resources.files("krackwatch.fleet") / "migrations")


def _safe_url(url: sa.URL) -> str:
    return url.render_as_string(hide_password=True)


def _engine(url_text: str) -> Engine:
    try:
        url = sa.make_url(url_text)
    except ArgumentError as exc:
        raise StoreError(f"not a database URL: {url_text!r}") from exc
    backend = url.get_backend_name()
    if backend == "postgresql" and url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        database = url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            try:
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the directory of {database}: {exc.strerror or exc}") from exc
    elif backend != "postgresql":
        raise StoreError(f"unsupported database {backend!r} in {_safe_url(url)}: use sqlite:/// or postgresql://")
    try:
        engine = sa.create_engine(url, future=True)
    except (NoSuchModuleError, ImportError) as exc:
        raise StoreError(f"no database driver for {_safe_url(url)}: {exc}") from exc
    if backend == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _migrate(engine: Engine) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", _migrations_dir())
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_store(url: str) -> AuditStore:
    """Open (creating or upgrading the schema of) the audit database at ``url``; raises StoreError."""
    engine = _engine(url)
    try:
        _migrate(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(f"cannot open the audit database {_safe_url(engine.url)}: {_first_line(exc)}") from exc
    return AuditStore(engine)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# ----------------------------------------------------------------------------------------------------------
# The store
# ----------------------------------------------------------------------------------------------------------


def _aware(value: _dt.datetime | None) -> _dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=_UTC)  # SQLite keeps no offset; krackwatch writes UTC
    return value


def _run_info(row: Any) -> RunInfo:
    m = row._mapping
    return RunInfo(
        id=m["id"],
        started_at=_aware(m["started_at"]),  # type: ignore[arg-type]
        finished_at=_aware(m["finished_at"]),
        tool_version=m["tool_version"],
        inventory=m["inventory"],
        inventory_format=m["inventory_format"],
        kb_documents=tuple(json.loads(m["kb_documents"])),
        devices=m["devices"],
        invalid_rows=m["invalid_rows"],
        warnings=m["warnings"],
        unlisted=m["unlisted"],
        counts=tuple((e, m[e.value]) for e in EXPOSURE_ORDER),
    )


class AuditStore:
    """An open audit database. Use ``open_store``; close when done (or use as a context manager)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def url(self) -> str:
        """The database URL with any password hidden."""
        return _safe_url(self._engine.url)

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing -----------------------------------------------------------------------------------------

    def record_run(self, *, started_at: _dt.datetime, inventory: str, inventory_format: str, tool_version: str,
                   kb_documents: Sequence[str]) -> RunWriter:
        """A writer for one run: ``with store.record_run(...) as run: run.add(r)...; run.finish(summary)``."""
        return RunWriter(self._engine, {
            "started_at": started_at.astimezone(_UTC),
            "tool_version": tool_version,
            "inventory": inventory,
            "inventory_format": inventory_format,
            "kb_documents": json.dumps(list(kb_documents)),
        })

    # --- reading -----------------------------------------------------------------------------------------

    def _query(self, statement: Any) -> list[Any]:
        try:
            with self._engine.connect() as conn:
                return list(conn.execute(statement))
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot read the audit database {self.url}: {_first_line(exc)}") from exc

    def runs(self, limit: int | None = None) -> list[RunInfo]:
        """Finished runs, newest first."""
        stmt = sa.select(runs).where(runs.c.finished_at.is_not(None)).order_by(runs.c.id.desc())
        if limit is not None:
            stmt = stmt.limit(limit)
        return [_run_info(r) for r in self._query(stmt)]

    def run(self, run_id: int) -> RunInfo | None:
        rows = self._query(sa.select(runs).where(runs.c.id == run_id, runs.c.finished_at.is_not(None)))
        return _run_info(rows[0]) if rows else None

    def run_devices(self, run_id: int) -> Iterator[dict[str, Any]]:
        """The stored devices of a run with their verdicts, in inventory order (for reports and tests)."""
        stmt = (sa.select(devices, verdicts.c.severity, verdicts.c.score, verdicts.c.cves, verdicts.c.reason,
                          verdicts.c.remediation, verdicts.c.source, verdicts.c.evidence)
                .join(verdicts, verdicts.c.id == devices.c.verdict_id)
                .where(devices.c.run_id == run_id).order_by(devices.c.id))
        for row in self._query(stmt):
            out = dict(row._mapping)
            out["cves"] = out["cves"].split()
            out["remediation"] = json.loads(out["remediation"])
            out["evidence"] = json.loads(out["evidence"]) if out["evidence"] else []
            yield out

    def diff(self, since: int | None = None, until: int | None = None) -> HistoryDiff | None:
        """Changes from run ``since`` (default: the run before ``until``) to run ``until`` (default: the latest).

        None when there are fewer than two runs to compare. Raises StoreError for a run id that does not exist.
        """
        if until is None:
            latest = self.runs(limit=1)
            if not latest:
                return None
            new = latest[0]
        else:
            found = self.run(until)
            if found is None:
                raise StoreError(f"no finished run #{until} in {self.url}")
            new = found
        if since is None:
            rows = self._query(sa.select(runs).where(runs.c.id < new.id, runs.c.finished_at.is_not(None))
                               .order_by(runs.c.id.desc()).limit(1))
            if not rows:
                return None
            old = _run_info(rows[0])
        else:
            found = self.run(since)
            if found is None:
                raise StoreError(f"no finished run #{since} in {self.url}")
            old = found
        n = devices.alias("n")
        o = devices.alias("o")
        v = verdicts.alias("v")
        cols = (n.c.device_key, n.c.name, n.c.vendor, n.c.model, n.c.site)
        changed_rows = self._query(
            sa.select(*cols, o.c.verdict.label("before"), n.c.verdict.label("after"), v.c.severity, v.c.reason)
            .select_from(n.join(o, sa.and_(o.c.device_key == n.c.device_key, o.c.run_id == old.id))
                         .join(v, v.c.id == n.c.verdict_id))
            .where(n.c.run_id == new.id, n.c.verdict != o.c.verdict)
            .order_by(n.c.id)
        )
        added_rows = self._query(
            sa.select(*cols, sa.null().label("before"), n.c.verdict.label("after"), v.c.severity, v.c.reason)
            .select_from(n.outerjoin(o, sa.and_(o.c.device_key == n.c.device_key, o.c.run_id == old.id))
                         .join(v, v.c.id == n.c.verdict_id))
            .where(n.c.run_id == new.id, o.c.id.is_(None))
            .order_by(n.c.id)
        )
        gone_rows = self._query(
            sa.select(o.c.device_key, o.c.name, o.c.vendor, o.c.model, o.c.site, o.c.verdict.label("before"),
                      sa.null().label("after"), v.c.severity, v.c.reason)
            .select_from(o.outerjoin(n, sa.and_(n.c.device_key == o.c.device_key, n.c.run_id == new.id))
                         .join(v, v.c.id == o.c.verdict_id))
            .where(o.c.run_id == old.id, n.c.id.is_(None))
            .order_by(o.c.id)
        )

        def change(row: Any) -> DeviceChange:
            m = row._mapping
            return DeviceChange(m["device_key"], m["name"], m["vendor"], m["model"], m["site"],
                                Exposure(m["before"]) if m["before"] else None,
                                Exposure(m["after"]) if m["after"] else None, m["severity"], m["reason"])

        changed = [change(r) for r in changed_rows]
        newly_exposed = tuple(c for c in changed if c.after is Exposure.EXPOSED)
        newly_fixed = tuple(c for c in changed if c.after in _GOOD and c.before not in _GOOD)
        others = tuple(c for c in changed if c not in newly_exposed and c not in newly_fixed)
        return HistoryDiff(old, new, newly_exposed, newly_fixed, others, tuple(change(r) for r in added_rows),
                           tuple(change(r) for r in gone_rows))


# ----------------------------------------------------------------------------------------------------------
# Writing one run
# ----------------------------------------------------------------------------------------------------------


def _ciphers_text(ciphers: frozenset[str]) -> str:
    return ";".join(c for c in CIPHERS if c in ciphers)


def _verdict_row(run_id: int, verdict: Verdict) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "verdict": verdict.verdict.value,
        "severity": verdict.severity.label,
        "score": verdict.score,
        "cves": " ".join(verdict.cves),
        "reason": verdict.reason,
        "remediation": json.dumps([{"kind": r.kind.value, "text": r.text, "url": r.url} for r in verdict.remediation]),
        "source": verdict.source.value,
        "evidence": json.dumps([{"rule": f.rule, "cves": list(f.cves), "verdict": f.verdict.value,
                                 "summary": f.summary, "source": f.source, "frames": list(f.frames)}
                                for f in verdict.evidence]) if verdict.evidence else None,
    }


class RunWriter:
    """Writes one run inside one transaction; commits on a clean exit after ``finish``, else rolls back."""

    def __init__(self, engine: Engine, run_row: dict[str, Any]) -> None:
        self._engine = engine
        self._run_row = run_row
        self._conn: Connection | None = None
        self._transaction: Any = None
        self._batch: list[dict[str, Any]] = []
        self._verdict_ids: dict[int, tuple[Verdict, int]] = {}
        self._pending: dict[int, Verdict] = {}  # verdicts of the queued devices not yet written (by identity)
        self._unresolved: list[int] = []  # queued device rows whose verdict_id is still id(verdict)
        self._finished = False
        self.id = 0

    def __enter__(self) -> Self:
        try:
            self._conn = self._engine.connect()
            self._transaction = self._conn.begin()
            self.id = self._conn.execute(sa.insert(runs).returning(runs.c.id), self._run_row).scalar_one()
        except SQLAlchemyError as exc:
            self._abort()
            raise StoreError(f"cannot write to the audit database {_safe_url(self._engine.url)}: "
                             f"{_first_line(exc)}") from exc
        return self

    def _abort(self) -> None:
        if self._transaction is not None and self._transaction.is_active:
            self._transaction.rollback()
        if self._conn is not None:
            self._conn.close()
        self._conn = None

    def add(self, record: AuditRecord) -> None:
        """Queue one device (devices and the verdicts they point at are written in batches)."""
        device = record.device
        verdict = record.verdict
        known = self._verdict_ids.get(id(verdict))
        if known is not None and known[0] is verdict:
            vid: int | None = known[1]
        else:
            vid = None
            if id(verdict) not in self._pending:
                self._pending[id(verdict)] = verdict
        self._batch.append({
            "run_id": self.id, "verdict_id": vid if vid is not None else id(verdict), "device_key": record.key,
            "verdict": verdict.verdict.value, "name": device.name, "vendor": device.vendor,
            "vendor_key": device.vendor_key, "model": device.model, "firmware": device.firmware, "mac": device.mac,
            "site": device.site, "role": device.role.value, "ft": device.ft, "pmf": device.pmf,
            "ciphers": _ciphers_text(device.ciphers), "line": device.source_line,
        })
        if vid is None:
            self._unresolved.append(len(self._batch) - 1)
        if len(self._batch) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        if not self._batch:
            return
        assert self._conn is not None
        try:
            if self._pending:
                pending = list(self._pending.values())
                ids = self._conn.execute(
                    sa.insert(verdicts).returning(verdicts.c.id, sort_by_parameter_order=True),
                    [_verdict_row(self.id, v) for v in pending],
                ).scalars().all()
                if len(self._verdict_ids) + len(pending) > _VERDICT_CACHE_LIMIT:
                    self._verdict_ids.clear()
                resolved = {}
                for verdict, vid in zip(pending, ids, strict=True):
                    self._verdict_ids[id(verdict)] = (verdict, vid)
                    resolved[id(verdict)] = vid
                for i in self._unresolved:
                    row = self._batch[i]
                    row["verdict_id"] = resolved[row["verdict_id"]]
                self._pending.clear()
            self._unresolved = []
            self._conn.execute(sa.insert(devices), self._batch)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot write to the audit database: {_first_line(exc)}") from exc
        self._batch = []

    def finish(self, summary: AuditSummary, finished_at: _dt.datetime | None = None) -> int:
        """Write the remaining devices and the run's counts; the commit happens when the ``with`` block ends."""
        self._flush()
        assert self._conn is not None
        values: dict[str, Any] = {
            "finished_at": (finished_at or _dt.datetime.now(_UTC)).astimezone(_UTC),
            "devices": summary.devices,
            "invalid_rows": summary.invalid_rows,
            "warnings": summary.warnings,
            "unlisted": summary.unlisted,
        }
        values.update({e.value: n for e, n in summary.by_verdict.items()})
        try:
            self._conn.execute(sa.update(runs).where(runs.c.id == self.id).values(**values))
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot write to the audit database: {_first_line(exc)}") from exc
        self._finished = True
        return self.id

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None and self._finished and self._transaction is not None:
            try:
                self._transaction.commit()
            except SQLAlchemyError as err:
                self._abort()
                raise StoreError(f"cannot commit the audit run: {_first_line(err)}") from err
            finally:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None
            return
        self._abort()
