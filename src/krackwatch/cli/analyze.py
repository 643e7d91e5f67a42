"""`krackwatch analyze`: tell from captures, passively, which devices reinstall keys and whether an attack is on.

The report goes to stdout (or ``--output``, created on the first byte written and removed again if the run
fails); a one-line summary and the progress bar go to stderr. Exit codes (DESIGN.md): 0 clean, 1 a finding at
or above ``--fail-on`` (a vulnerable verdict, or an attack seen), 2 usage, 3 input error (unreadable or
damaged capture, no 802.11 frames, bad key), 4 inconclusive findings with ``--fail-on-inconclusive``, 5 internal
error, 130 interrupted.
"""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import IO, Annotated

import typer
from rich.table import Table

from krackwatch import __version__
from krackwatch.cli.app import (
    EXIT_FINDINGS,
    EXIT_INCONCLUSIVE,
    EXIT_INPUT,
    EXIT_OK,
    EXIT_USAGE,
    FcsMode,
    app,
    fail,
    progress_reporter,
    stderr_console,
    stdout_console,
)
from krackwatch.cli.assess import LazyFile
from krackwatch.cli.options import (
    FcsOpt,
    KeyOpt,
    PassphraseOpt,
    PmkOpt,
    ProgressOpt,
    SsidOpt,
    TkOpt,
    WepKeyOpt,
    collect_keys,
)
from krackwatch.detect import RULES, Severity, Verdict, analyse, select_rules
from krackwatch.errors import InputError, KrackwatchError
from krackwatch.report.findings import AnalyzeFormat, render, summary_counts
from krackwatch.report.text import printable

__all__ = ["FailOn", "analyze"]


class FailOn(str, Enum):
    """Lowest severity of a vulnerable verdict (or of an attack seen) that makes ``analyze`` exit 1."""

    info = "info"
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"
    never = "never"


def _list_rules(value: bool) -> None:
    if not value:
        return
    table = Table(title=f"{len(RULES)} rules")
    for col in ("rule", "kind", "severity", "default", "CVEs", "title"):
        table.add_column(col, overflow="fold")
    for r in RULES.values():
        table.add_row(r.id, r.kind.value, r.severity.label, "on" if r.default_on else "off",
                      " ".join(c.removeprefix("CVE-") for c in r.cves) or "-", r.title)
    stdout_console().print(table)
    raise typer.Exit(EXIT_OK)


@app.command()
def analyze(
    captures: Annotated[list[Path], typer.Argument(metavar="CAPTURE",
        help="pcap or pcapng captures (gzip/bzip2/xz allowed), analysed in order as one.", show_default=False)],
    passphrase: PassphraseOpt = None,
    ssid: SsidOpt = None,
    pmk: PmkOpt = None,
    tk: TkOpt = None,
    wep_key: WepKeyOpt = None,
    key: KeyOpt = None,
    fmt: Annotated[AnalyzeFormat, typer.Option("--format", "-f", envvar="KRACKWATCH_FORMAT",
                                               help="Report format.")] = AnalyzeFormat.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", show_default=False,
                                                help="Write the report to this file instead of stdout.")] = None,
    fail_on: Annotated[FailOn, typer.Option(
        "--fail-on", envvar="KRACKWATCH_FAIL_ON",
        help="Exit 1 when a vulnerable verdict, or an attack seen on the air, has at least this severity.")
    ] = FailOn.low,
    fail_on_inconclusive: Annotated[bool, typer.Option(
        "--fail-on-inconclusive", help="Exit 4 when nothing fails the run but some verdict is inconclusive.")
    ] = False,
    enable: Annotated[list[str] | None, typer.Option(
        "--enable", metavar="RULE", help="Run a rule that is off by default (repeatable; 'all').")] = None,
    disable: Annotated[list[str] | None, typer.Option(
        "--disable", metavar="RULE", help="Skip a rule (repeatable; 'all').")] = None,
    list_rules: Annotated[bool, typer.Option(
        "--list-rules", is_eager=True, callback=_list_rules, help="List the rules and exit.")] = False,
    fcs: FcsOpt = FcsMode.auto,
    progress: ProgressOpt = True,
) -> None:
    """Passive KRACK analysis: key reinstallations, attacks under way, weak configurations (no attack sent)."""
    try:
        rules = select_rules(enable or [], disable or [])
    except InputError as exc:
        raise fail(exc.describe(), EXIT_USAGE) from None
    lazy = LazyFile(output) if output is not None else None
    out: IO[str] = lazy if lazy is not None else sys.stdout
    try:
        keyring = collect_keys(passphrase or [], ssid or [], pmk or [], tk or [], wep_key or [], key or [])
        with progress_reporter("analysing", progress) as bar:
            analysis = analyse([os.fspath(c) for c in captures], keyring or None, rules=rules,
                               fcs_mode=fcs.value, progress=bar)
        color = lazy is None and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        width = None if lazy is None and sys.stdout.isatty() else 160
        render(fmt, analysis, out, tool_version=__version__, color=color, width=width)
        out.flush()
        if lazy is not None:
            lazy.close()
    except (InputError, KrackwatchError) as exc:
        if lazy is not None:
            lazy.discard()
        message = exc.describe() if isinstance(exc, InputError) else str(exc)
        raise fail(printable(message), EXIT_INPUT) from None
    except BaseException:
        if lazy is not None:
            lazy.discard()
        raise
    counts = summary_counts(analysis)
    line = (f"krackwatch: {analysis.frames} frames, {counts['findings']} findings: {counts['vulnerable']} vulnerable, "
            f"{counts['not_vulnerable']} not vulnerable, {counts['inconclusive']} inconclusive "
            f"({counts['attacks']} attack observations)")
    stderr_console().print(line, markup=False, highlight=False, soft_wrap=True)
    for check in analysis.preflight.checks:
        if check.status.value == "fail":
            stderr_console().print(f"krackwatch: warning: preflight {check.name}: {printable(check.summary)}",
                                   markup=False, highlight=False, soft_wrap=True)
    for err in analysis.errors:
        stderr_console().print(f"krackwatch: error: {printable(err)} (the frames before it were analysed)",
                               markup=False, highlight=False, soft_wrap=True)
    if analysis.errors:
        raise typer.Exit(EXIT_INPUT)
    if fail_on is not FailOn.never:
        level = Severity.parse(fail_on.value)
        if any(f.at_or_above(level) for f in analysis.findings):
            raise typer.Exit(EXIT_FINDINGS)
    if fail_on_inconclusive and any(f.verdict == Verdict.INCONCLUSIVE for f in analysis.findings):
        raise typer.Exit(EXIT_INCONCLUSIVE)
    raise typer.Exit(EXIT_OK)
