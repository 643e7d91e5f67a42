"""Entry point: assemble the command groups on the Typer app and map errors to exit codes."""

from __future__ import annotations

import os
import sys

import typer

from krackwatch.cli import analyze as _analyze  # noqa: F401 - registers analyze
from krackwatch.cli import assess as _assess  # noqa: F401 - registers assess and history
from krackwatch.cli import capture as _capture  # noqa: F401 - registers info and decrypt
from krackwatch.cli.advisories import app as advisories_app
from krackwatch.cli.lab import app as lab_app
from krackwatch.cli.app import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    app,
    stderr_console,
)

app.add_typer(advisories_app, name="advisories", help="The bundled KRACK advisory knowledge base.")
app.add_typer(lab_app, name="lab", help="Simulated KRACK lab: attack scenarios, the Table 1 matrix, active tests.")


# Typer may bundle its own copy of click; take the exception classes from the one it actually uses.
_ClickException = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
_Abort = typer.Abort


def main() -> None:
    """Console-script entry point: exit codes per DESIGN.md, never a traceback for user errors."""
    try:
        rc = app(standalone_mode=False)
    except (_Abort, KeyboardInterrupt):
        stderr_console().print("krackwatch: interrupted", markup=False)
        sys.exit(EXIT_INTERRUPTED)
    except _ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code if exc.exit_code else EXIT_USAGE)
    except BrokenPipeError:
        sys.exit(EXIT_OK)
    except Exception as exc:
        if os.environ.get("KRACKWATCH_DEBUG"):
            raise
        stderr_console().print(
            f"krackwatch: internal error: {type(exc).__name__}: {exc} (set KRACKWATCH_DEBUG=1 for a traceback)",
            markup=False,
            highlight=False,
        )
        sys.exit(EXIT_INTERNAL)
    sys.exit(rc if isinstance(rc, int) else EXIT_OK)
