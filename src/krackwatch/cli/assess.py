"""`krackwatch assess` (audit an inventory against the KRACK knowledge base) and `krackwatch history`.

Data goes to stdout (or ``--output``, opened only when the first byte is written and removed again if the run
fails); the one-line summary goes to stderr. Exit codes (DESIGN.md): 0 clean, 1 a device ``exposed`` or
``patch_available`` at or above ``--fail-on``, 2 usage, 3 input error (unreadable inventory, no valid device,
unusable database), 4 ``unknown`` devices with ``--fail-on-unknown``, 5 internal error, 130 interrupted.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from krackwatch import __version__
from krackwatch.advisories import KnowledgeBase, user_data_dir
from krackwatch.cli.app import (
    EXIT_FINDINGS,
    EXIT_INCONCLUSIVE,
    EXIT_INPUT,
    EXIT_OK,
    EXIT_USAGE,
    app,
    fail,
    stderr_console,
    stdout_console,
)
from krackwatch.cli.options import KeyOpt, PassphraseOpt, SsidOpt, collect_keys
from krackwatch.errors import InputError, KrackwatchError
from krackwatch.fleet.audit import Audit
from krackwatch.fleet.evidence import Evidence, FindingVerdict
from krackwatch.fleet.evidence import Finding as EvidenceFinding
from krackwatch.fleet.inventory import iter_inventory
from krackwatch.fleet.rules import Exposure, Severity
from krackwatch.report.audit import VERDICT_LABELS, AuditFormat, ReportMeta, ReportTail, writer_for
from krackwatch.report.text import printable, terminal

if TYPE_CHECKING:
    from krackwatch.fleet.store import AuditStore, HistoryDiff, RunInfo

DEMO_INVENTORY = "inventory.csv"
DEMO_CAPTURE = "demo-capture.pcapng"  # krackwatch lab run fourway --profile android-6.0.1 (see data/demo/README.md)


class FailOn(str, Enum):
    """Lowest severity of an ``exposed``/``patch_available`` device that makes ``assess`` exit 1."""

    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"
    never = "never"


class HistoryFormat(str, Enum):
    table = "table"
    json = "json"


class LazyFile(io.TextIOBase):
    """A text file that is created on the first write, so a failed run leaves no empty report behind."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[str] | None = None

    @property
    def opened(self) -> bool:
        return self._fh is not None

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:  # type: ignore[override]
        if self._fh is None:
            try:
                self._fh = open(self.path, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed in close()
            except OSError as exc:
                raise InputError(f"cannot write the report: {exc.strerror or exc}", path=str(self.path)) from None
        return self._fh.write(text)

    def flush(self) -> None:
        if self._fh is not None:
            self._fh.flush()

    def close(self) -> None:
        if not self.closed:
            super().close()  # flushes first
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def discard(self) -> None:
        """Close and delete what was written (after a failed run)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
            self.path.unlink(missing_ok=True)


@contextmanager
def _errors(output: LazyFile | None) -> Iterator[None]:
    try:
        yield
    except (InputError, KrackwatchError) as exc:  # StoreError is a KrackwatchError
        if output is not None:
            output.discard()
        message = exc.describe() if isinstance(exc, InputError) else str(exc)
        raise fail(printable(message), EXIT_INPUT) from None
    except BaseException:
        if output is not None:
            output.discard()
        raise


def _sniff_format(path: Path) -> str:
    """csv, json or cyclonedx, from the first bytes (the reader does the real checking)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(65536)
    except OSError:
        return "csv"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] in (b"{", b"["):
        return "cyclonedx" if b'"bomFormat"' in head else "json"
    return "csv"


def _kb_documents(kb: KnowledgeBase) -> tuple[str, ...]:
    return tuple(f"{d.id}@{d.version}" for d in kb.documents())


def _evidence(captures: list[Path], keys) -> Evidence:
    """Run the passive analysis over the captures and key its findings by station MAC."""
    from krackwatch.advisories.kb import cve_id
    from krackwatch.detect import analyse

    analysis = analyse([str(p) for p in captures], keys or None)
    for err in analysis.errors:
        stderr_console().print(f"krackwatch: warning: {printable(err)}", markup=False, highlight=False)
    source = ", ".join(Path(c).name for c in analysis.captures)
    items = []
    for f in analysis.findings:
        if not f.device:
            continue
        cves = tuple(c for c in f.cves if cve_id(c) is not None)
        items.append((f.device, EvidenceFinding(f.rule, cves, FindingVerdict(f.verdict.value), f.summary, source,
                                                tuple(f.frames))))
    return Evidence.of(items, seen=analysis.stations)


def _store(db: str | None, enabled: bool) -> AuditStore | None:
    if not enabled:
        if db:
            raise InputError("--db and --no-store exclude each other")
        return None
    from krackwatch.fleet.store import default_url, open_store  # SQLAlchemy loads only when storing

    return open_store(db or default_url(user_data_dir(os.environ)))


@app.command()
def assess(
    inventory: Annotated[Path | None, typer.Option(
        "--inventory", "-i", envvar="KRACKWATCH_INVENTORY", show_default=False,
        help="Inventory file: CSV, JSON or CycloneDX 1.6 (devices with name, vendor, model, firmware, mac, site, "
             "role, ft, ciphers, pmf).")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Audit the bundled demo site (about 40 devices).")] = False,
    fmt: Annotated[AuditFormat, typer.Option("--format", "-f", envvar="KRACKWATCH_FORMAT",
                                             help="Report format.")] = AuditFormat.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", show_default=False,
                                                   help="Write the report to this file instead of stdout.")] = None,
    fail_on: Annotated[FailOn, typer.Option(
        "--fail-on", envvar="KRACKWATCH_FAIL_ON",
        help="Exit 1 when an exposed or patch_available device has at least this severity.")] = FailOn.low,
    fail_on_unknown: Annotated[bool, typer.Option(
        "--fail-on-unknown", help="Exit 4 when no finding fails the run but some device is unknown.")] = False,
    db: Annotated[str | None, typer.Option(
        "--db", envvar="KRACKWATCH_DB", show_default=False,
        help="Audit history database: sqlite:///PATH or postgresql://USER:PASS@HOST/DB "
             "(default: SQLite in krackwatch's data directory).")] = None,
    store: Annotated[bool, typer.Option("--store/--no-store", help="Record this run in the history database.")]
    = True,
    capture: Annotated[list[Path] | None, typer.Option(
        "--capture", "-c", show_default=False,
        help="Capture(s) to analyse passively (repeatable); an observed key reinstallation makes the device "
             "exposed whatever its advisory says. --demo brings its own lab capture.")] = None,
    passphrase: PassphraseOpt = None,
    ssid: SsidOpt = None,
    key: KeyOpt = None,
) -> None:
    """Audit a fleet inventory: a KRACK verdict, CVEs, severity, reason and remediation per device."""
    if demo == (inventory is not None):
        raise fail("give exactly one of --inventory FILE and --demo", EXIT_USAGE)
    lazy = LazyFile(output) if output is not None else None
    out: IO[str] = lazy if lazy is not None else sys.stdout
    with ExitStack() as stack, _errors(lazy):
        if inventory is not None:
            path = inventory
            label = str(inventory)
        else:
            path = stack.enter_context(resources.as_file(resources.files("krackwatch") / "data" / "demo" /
                                                         DEMO_INVENTORY))
            label = "demo inventory"
        kb = KnowledgeBase(user_data_dir(os.environ)).load()
        captures = list(capture or [])
        if demo and not captures:
            captures.append(stack.enter_context(resources.as_file(
                resources.files("krackwatch") / "data" / "demo" / DEMO_CAPTURE)))
        keys = collect_keys(passphrase or [], ssid or [], [], [], [], key or [])
        evidence = _evidence(captures, keys) if captures else None
        history = _store(db, store)
        if history is not None:
            stack.callback(history.close)
        started = _dt.datetime.now(_dt.UTC)
        color = lazy is None and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        width = None if lazy is None and sys.stdout.isatty() else 200
        writer = writer_for(fmt, out, kb=kb, color=color, width=width)
        audit = Audit(kb, evidence)
        items = iter_inventory(path)
        inventory_format = _sniff_format(path)
        meta_args: dict[str, Any] = {"started_at": started, "tool_version": __version__, "inventory": label,
                                     "inventory_format": inventory_format, "kb_documents": _kb_documents(kb)}
        if history is not None:
            with history.record_run(started_at=started, inventory=label, inventory_format=inventory_format,
                                    tool_version=__version__, kb_documents=meta_args["kb_documents"]) as run:
                writer.begin(ReportMeta(**meta_args, run_id=run.id, database=history.url))
                for record in audit.records(items):
                    run.add(record)
                    writer.device(record)
                run.finish(audit.summary)
                tail = ReportTail(audit.summary, audit.invalid_rows, audit.warnings, audit.unlisted(),
                                  _dt.datetime.now(_dt.UTC))
                writer.end(tail)
            run_id: int | None = run.id
        else:
            writer.begin(ReportMeta(**meta_args))
            for record in audit.records(items):
                writer.device(record)
            tail = ReportTail(audit.summary, audit.invalid_rows, audit.warnings, audit.unlisted(),
                              _dt.datetime.now(_dt.UTC))
            writer.end(tail)
            run_id = None
        out.flush()
        if lazy is not None:
            lazy.close()
    summary = audit.summary
    counts = ", ".join(f"{n} {e.value}" for e, n in summary.by_verdict.items() if n) or "none"
    line = f"krackwatch: {summary.devices} devices: {counts}"
    if summary.invalid_rows:
        line += f"; {summary.invalid_rows} invalid rows"
    if evidence is not None:
        observed = sum(1 for mac in evidence.macs() if any(f.verdict == "vulnerable" for f in evidence.for_mac(mac)))
        line += f"; {len(evidence)} stations on the air ({observed} seen reinstalling keys)"
        if summary.unlisted:
            line += f", {summary.unlisted} not in the inventory"
    if run_id is not None:
        line += f"; stored as run #{run_id}"
    stderr_console().print(line, markup=False, highlight=False)
    if summary.devices == 0:
        raise fail(f"{printable(label)}: no valid device to audit", EXIT_INPUT)
    if fail_on is not FailOn.never and summary.findings_at_or_above(Severity.parse(fail_on.value)):
        raise typer.Exit(EXIT_FINDINGS)
    if fail_on_unknown and summary.by_verdict[Exposure.UNKNOWN]:
        raise typer.Exit(EXIT_INCONCLUSIVE)
    raise typer.Exit(EXIT_OK)


# ----------------------------------------------------------------------------------------------------------
# history
# ----------------------------------------------------------------------------------------------------------


def _run_json(run: RunInfo) -> dict[str, Any]:
    return {"id": run.id, "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "tool_version": run.tool_version, "inventory": run.inventory, "inventory_format": run.inventory_format,
            "knowledge_base": list(run.kb_documents), "devices": run.devices, "invalid_rows": run.invalid_rows,
            "by_verdict": {e.value: n for e, n in run.counts}}


def _change_json(change: Any) -> dict[str, Any]:
    return {"key": change.key, "name": change.name, "vendor": change.vendor, "model": change.model,
            "site": change.site, "before": change.before.value if change.before else None,
            "after": change.after.value if change.after else None, "severity": change.severity,
            "reason": change.reason}


_SECTIONS = (("newly_exposed", "Newly exposed"), ("newly_fixed", "Newly fixed"), ("changed", "Other changes"),
             ("added", "Added"), ("gone", "Gone"))


def _run_line(run: RunInfo) -> str:
    return (f"run #{run.id} ({run.started_at.isoformat(timespec='seconds')}, {terminal(run.inventory)}, "
            f"{run.devices} devices)")


def _print_diff(diff: HistoryDiff) -> None:
    out = stdout_console()
    out.print(f"From {_run_line(diff.old)} to {_run_line(diff.new)}")
    for attr, title in _SECTIONS:
        changes = getattr(diff, attr)
        if not changes:
            out.print(f"{title}: none")
            continue
        table = Table(title=f"{title}: {len(changes)}")
        for col in ("device", "vendor", "model", "site", "before", "after"):
            table.add_column(col)
        for c in changes:
            table.add_row(terminal(c.name), terminal(c.vendor), terminal(c.model), terminal(c.site),
                          VERDICT_LABELS[c.before] if c.before else "-", VERDICT_LABELS[c.after] if c.after else "-")
        out.print(table)


@app.command()
def history(
    db: Annotated[str | None, typer.Option(
        "--db", envvar="KRACKWATCH_DB", show_default=False,
        help="Audit history database (default: SQLite in krackwatch's data directory).")] = None,
    since: Annotated[int | None, typer.Option(
        "--since", metavar="RUN", show_default=False,
        help="Compare the latest run with this run (default: with the run before it).")] = None,
    list_runs: Annotated[bool, typer.Option("--list", help="List the stored runs instead.")] = False,
    fmt: Annotated[HistoryFormat, typer.Option("--format", "-f", help="Output format.")] = HistoryFormat.table,
) -> None:
    """What changed between assess runs: newly exposed, newly fixed, devices added or gone."""
    with _errors(None):
        from krackwatch.fleet.store import default_url, open_store

        history_db = open_store(db or default_url(user_data_dir(os.environ)))
        try:
            if list_runs:
                runs = history_db.runs()
                if fmt is HistoryFormat.json:
                    sys.stdout.write(json.dumps({"runs": [_run_json(r) for r in runs]}, indent=2) + "\n")
                    raise typer.Exit(EXIT_OK)
                table = Table(title=f"{len(runs)} assess runs in {terminal(history_db.url)}")
                for col in ("run", "started", "inventory", "devices", *(VERDICT_LABELS[e] for e in Exposure)):
                    table.add_column(col)
                for r in runs:
                    counts = dict(r.counts)
                    table.add_row(str(r.id), r.started_at.isoformat(timespec="seconds"), terminal(r.inventory),
                                  str(r.devices), *(str(counts.get(e, 0)) for e in Exposure))
                stdout_console().print(table)
                raise typer.Exit(EXIT_OK)
            diff = history_db.diff(since=since)
        finally:
            history_db.close()
    if diff is None:
        stderr_console().print(f"krackwatch: fewer than two assess runs stored in {printable(history_db.url)}; "
                               "nothing to compare", markup=False, highlight=False)
        if fmt is HistoryFormat.json:
            sys.stdout.write(json.dumps({"from": None, "to": None, **{k: [] for k, _ in _SECTIONS}}, indent=2) + "\n")
        raise typer.Exit(EXIT_OK)
    if fmt is HistoryFormat.json:
        obj: dict[str, Any] = {"from": _run_json(diff.old), "to": _run_json(diff.new)}
        for attr, _ in _SECTIONS:
            obj[attr] = [_change_json(c) for c in getattr(diff, attr)]
        sys.stdout.write(json.dumps(obj, indent=2) + "\n")
    else:
        _print_diff(diff)
    stderr_console().print(
        f"krackwatch: run #{diff.old.id} -> #{diff.new.id}: {len(diff.newly_exposed)} newly exposed, "
        f"{len(diff.newly_fixed)} newly fixed, {len(diff.changed)} other changes, {len(diff.added)} added, "
        f"{len(diff.gone)} gone", markup=False, highlight=False)
    raise typer.Exit(EXIT_OK)
