"""The `krackwatch` command line: the only layer that prints, reads the environment or exits."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from krackwatch import __version__
from krackwatch.errors import InputError, KrackwatchError

# Exit codes, one meaning each (DESIGN.md).
EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_INCONCLUSIVE = 4
EXIT_INTERNAL = 5
EXIT_INTERRUPTED = 130

app = typer.Typer(
    name="krackwatch",
    help="Find, prove and fix KRACK (WPA2 key reinstallation) exposure in Wi-Fi and IoT fleets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals hold passphrases and keys
    rich_markup_mode=None,
)


def _no_color() -> bool:
    return bool(os.environ.get("NO_COLOR"))


def stdout_console() -> Console:
    return Console(no_color=_no_color(), highlight=False, soft_wrap=False)


def stderr_console() -> Console:
    return Console(stderr=True, no_color=_no_color(), highlight=False, soft_wrap=True)  # one line per message


def fail(message: str, code: int = EXIT_INPUT) -> typer.Exit:
    """Print one clear line on stderr and return the Exit to raise."""
    stderr_console().print(f"krackwatch: error: {message}", markup=False, highlight=False)
    return typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn krackwatch's own errors into one line and exit code 3."""
    try:
        yield
    except InputError as exc:
        raise fail(exc.describe(), EXIT_INPUT) from None
    except KrackwatchError as exc:
        raise fail(str(exc), EXIT_INPUT) from None


class OutputFormat(str, Enum):
    table = "table"
    json = "json"


class FcsMode(str, Enum):
    auto = "auto"
    yes = "yes"
    no = "no"
    flag = "flag"


def version_callback(value: bool) -> None:
    if value:
        print(f"krackwatch {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=version_callback, is_eager=True, help="Show the version and exit."),
    ] = None,
) -> None:
    """krackwatch: WPA2 KRACK exposure for Wi-Fi and IoT fleets."""


def _emit_json(obj: dict, output: Path | None = None) -> None:
    text = json.dumps(obj, indent=2, ensure_ascii=False)
    if output is None:
        sys.stdout.write(text + "\n")
    else:
        output.write_text(text + "\n", encoding="utf-8")


@contextmanager
def progress_reporter(label: str, enabled: bool):
    """A byte-based progress bar on stderr for long reads (only on a terminal)."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=stderr_console(),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _report_damage(summary) -> None:
    if summary.error is not None:
        stderr_console().print(
            f"krackwatch: error: {summary.error.describe()} (the {summary.frames} frames before it were used)",
            markup=False,
            highlight=False,
        )
