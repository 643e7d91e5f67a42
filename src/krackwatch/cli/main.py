"""Entry point: assemble the command groups on the Typer app and map errors to exit codes."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable

import typer

from krackwatch.cli.app import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    app,
    stderr_console,
)

# The module that registers each top-level command. main() imports only the one the command line names, so
# `krackwatch decrypt` does not pay for importing the lab, the detector or SQLAlchemy.
_COMMAND_MODULES = {
    "info": "capture",
    "decrypt": "capture",
    "analyze": "analyze",
    "assess": "assess",
    "history": "assess",
    "lab": "lab",
    "advisories": "advisories",
}
_GROUP_HELP = {
    "lab": "Simulated KRACK lab: attack scenarios, the Table 1 matrix, active tests.",
    "advisories": "The bundled KRACK advisory knowledge base.",
}
_loaded: list[str] = []


def register(commands: Iterable[str] | None = None) -> typer.Typer:
    """Register the given top-level commands (all of them by default) on the app and return it."""
    order = ("capture", "analyze", "assess", "lab", "advisories")
    wanted = set(order) if commands is None else {_COMMAND_MODULES[c] for c in commands if c in _COMMAND_MODULES}
    for name in order:
        if name in wanted and name not in _loaded:
            module = importlib.import_module(f"krackwatch.cli.{name}")
            if name in _GROUP_HELP:
                app.add_typer(module.app, name=name, help=_GROUP_HELP[name])
            _loaded.append(name)
    return app


def _command_named(argv: list[str]) -> str | None:
    """The subcommand on a command line (the first word that is not an option), if it is one we know."""
    first = next((a for a in argv if not a.startswith("-")), None)
    return first if first in _COMMAND_MODULES else None


# Typer may bundle its own copy of click; take the exception classes from the one it actually uses.
_ClickException = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
_Abort = typer.Abort


def main() -> None:
    """Console-script entry point: exit codes per DESIGN.md, never a traceback for user errors."""
    command = _command_named(sys.argv[1:])
    register([command] if command is not None else None)
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
