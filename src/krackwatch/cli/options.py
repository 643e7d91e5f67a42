"""Option types shared by the capture commands (`info`, `decrypt`, `analyze`), and turning key options into
a :class:`~krackwatch.decrypt.keys.KeyRing`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from krackwatch.cli.app import FcsMode
from krackwatch.decrypt import keys as keymod
from krackwatch.errors import InputError

__all__ = [
    "CaptureArg",
    "FcsOpt",
    "KeyOpt",
    "PassphraseOpt",
    "PmkOpt",
    "ProgressOpt",
    "SsidOpt",
    "TkOpt",
    "WepKeyOpt",
    "collect_keys",
]

CaptureArg = Annotated[Path, typer.Argument(help="A pcap or pcapng capture (gzip-compressed allowed).",
                                            show_default=False)]
FcsOpt = Annotated[
    FcsMode,
    typer.Option("--fcs", help="FCS handling: auto checks the CRC; yes/no force it; flag trusts the header."),
]
ProgressOpt = Annotated[bool, typer.Option("--progress/--no-progress", help="Progress bar on stderr.")]
PassphraseOpt = Annotated[
    list[str] | None,
    typer.Option("--passphrase", "-p", envvar="KRACKWATCH_PASSPHRASE", show_envvar=True,
                 help="WPA passphrase (repeatable; pairs with --ssid in order)."),
]
SsidOpt = Annotated[
    list[str] | None,
    typer.Option("--ssid", "-s", envvar="KRACKWATCH_SSID", show_envvar=True,
                 help="SSID of the passphrase; learnt from beacons and probe responses when omitted."),
]
PmkOpt = Annotated[list[str] | None, typer.Option("--pmk", help="PMK in hex (repeatable).")]
TkOpt = Annotated[list[str] | None, typer.Option("--tk", help="Temporal key in hex (repeatable).")]
WepKeyOpt = Annotated[list[str] | None, typer.Option("--wep-key", help="WEP key in hex (repeatable).")]
KeyOpt = Annotated[
    list[str] | None,
    typer.Option("--key", "-k", help="Wireshark key string: wpa-pwd:PASS:SSID, wpa-psk:HEX or tk:HEX."),
]


def collect_keys(
    passphrases: list[str],
    ssids: list[str],
    pmks: list[str],
    tks: list[str],
    wep_keys: list[str],
    key_strings: list[str],
) -> keymod.KeyRing:
    """The key ring of the key options; InputError for an unusable combination or value."""
    specs: list[keymod.KeySpec] = []
    if ssids and not passphrases:
        raise InputError("--ssid needs a --passphrase")
    if ssids and len(ssids) not in (1, len(passphrases)):
        raise InputError("give one --ssid for all passphrases, or one per --passphrase")
    for i, p in enumerate(passphrases):
        ssid = ssids[i] if len(ssids) == len(passphrases) else (ssids[0] if ssids else None)
        specs.append(keymod.passphrase(p, ssid))
    specs += [keymod.pmk(v) for v in pmks]
    specs += [keymod.temporal_key(v) for v in tks]
    specs += [keymod.wep_key(v) for v in wep_keys]
    specs += [keymod.parse_wireshark_key(v) for v in key_strings]
    return keymod.KeyRing.of(specs)
