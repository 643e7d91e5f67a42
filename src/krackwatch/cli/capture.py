"""`krackwatch info` and `krackwatch decrypt`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from krackwatch.cli.app import (
    EXIT_INPUT,
    FcsMode,
    OutputFormat,
    _emit_json,
    _report_damage,
    app,
    fail,
    progress_reporter,
    stderr_console,
    stdout_console,
    user_errors,
)
from krackwatch.cli.options import (
    CaptureArg,
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
from krackwatch.decrypt.run import analyse_capture
from krackwatch.errors import InputError
from krackwatch.report import capture as render

FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]


@app.command()
def info(
    capture: CaptureArg,
    fmt: FormatOpt = OutputFormat.table,
    fcs: FcsOpt = FcsMode.auto,
    progress: ProgressOpt = True,
) -> None:
    """Summarise a capture: frames, link types, time span, networks, stations and handshakes."""
    with user_errors(), progress_reporter("reading", progress) as bar:
        summary = analyse_capture(capture, None, fcs_mode=fcs.value, decrypt=False, progress=bar)
    if fmt == OutputFormat.json:
        _emit_json(render.info_dict(summary))
    else:
        stdout_console().print(render.info_renderable(summary))
    _report_damage(summary)
    if summary.error is not None:
        raise typer.Exit(EXIT_INPUT)


_collect_keys = collect_keys  # the name earlier code used


@app.command()
def decrypt(
    capture: CaptureArg,
    passphrase: PassphraseOpt = None,
    ssid: SsidOpt = None,
    pmk: PmkOpt = None,
    tk: TkOpt = None,
    wep_key: WepKeyOpt = None,
    key: KeyOpt = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the decrypted capture here (pcapng).")
    ] = None,
    fmt: FormatOpt = OutputFormat.table,
    fcs: FcsOpt = FcsMode.auto,
    progress: ProgressOpt = True,
) -> None:
    """Decrypt WPA/WPA2 (CCMP, GCMP, TKIP) and WEP traffic with the keys given."""
    with user_errors():
        keyring = collect_keys(passphrase or [], ssid or [], pmk or [], tk or [], wep_key or [], key or [])
        if not keyring:
            raise fail("no key given: use --passphrase (with --ssid), --pmk, --tk, --wep-key or --key", 2)
        out_file = None
        if output is not None:
            try:
                out_file = open(output, "wb", buffering=1 << 20)  # noqa: SIM115 - closed below, also on error
            except OSError as exc:
                raise InputError(f"cannot write: {exc.strerror}", path=str(output)) from None
        try:
            with progress_reporter("decrypting", progress) as bar:
                summary = analyse_capture(capture, keyring, output=out_file, fcs_mode=fcs.value, progress=bar)
        finally:
            if out_file is not None:
                out_file.close()
    out_name = str(output) if output is not None else None
    if fmt == OutputFormat.json:
        _emit_json(render.decrypt_dict(summary, out_name))
    else:
        stdout_console().print(render.decrypt_renderable(summary, out_name))
    _report_damage(summary)
    if summary.error is not None:
        raise typer.Exit(EXIT_INPUT)
    wrong = [link for link in summary.links if link.mic == "wrong passphrase"]
    if wrong and not summary.decrypted_unicast and not summary.decrypted_group:
        pairs = ", ".join(f"{link.bssid}/{link.sta}" for link in wrong[:3])
        raise fail(f"wrong passphrase or key: no handshake MIC verified ({pairs})", EXIT_INPUT)
    if summary.frames == 0:
        stderr_console().print("krackwatch: warning: the capture holds no frames", markup=False)
