"""Render capture summaries (`info`, `decrypt`) as JSON-ready dicts and rich tables."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from rich.console import Group
from rich.table import Table
from rich.text import Text

from krackwatch.decrypt.run import CaptureSummary, linktype_name
from krackwatch.report.text import printable

INFO_SCHEMA = "krackwatch.info/1"
DECRYPT_SCHEMA = "krackwatch.decrypt/1"


def _iso(ts_ns: int | None) -> str | None:
    if ts_ns is None:
        return None
    return datetime.fromtimestamp(ts_ns / 1e9, tz=UTC).isoformat(timespec="microseconds")


def _common(s: CaptureSummary) -> dict:
    return {
        "file": s.path,
        "format": s.format,
        "frames": s.frames,
        "linktypes": {linktype_name(k): v for k, v in sorted(s.linktypes.items())},
        "interfaces": s.interfaces,
        "first": _iso(s.first_ts_ns),
        "last": _iso(s.last_ts_ns),
        "duration_s": round(s.duration_s, 6),
        "error": s.error.describe() if s.error is not None else None,
    }


def _link_dict(link) -> dict:
    d = dataclasses.asdict(link)
    d["handshakes"] = [dataclasses.asdict(h) for h in link.handshakes]
    d["notes"] = list(link.notes)
    return d


def info_dict(s: CaptureSummary) -> dict:
    stations = sorted({(sta, n.bssid) for n in s.networks for sta in n.stations})
    return {
        "schema": INFO_SCHEMA,
        **_common(s),
        "networks": [dataclasses.asdict(n) for n in s.networks],
        "stations": [{"mac": sta, "bssid": bssid} for sta, bssid in stations],
        "handshakes": [
            {
                "bssid": link.bssid,
                "sta": link.sta,
                "messages": link.messages,
                "handshakes": [dataclasses.asdict(h) for h in link.handshakes],
            }
            for link in s.links
            if link.messages
        ],
    }


def decrypt_dict(s: CaptureSummary, output: str | None) -> dict:
    return {
        "schema": DECRYPT_SCHEMA,
        **_common(s),
        "decrypted_unicast": s.decrypted_unicast,
        "decrypted_group": s.decrypted_group,
        "outcomes": dict(sorted(s.outcomes.items())),
        "michael_failures": s.michael_failures,
        "links": [_link_dict(link) for link in s.links],
        "networks": [dataclasses.asdict(n) for n in s.networks],
        "output": output,
        "written": s.written,
    }


def _t(value) -> Text:
    """A table cell from untrusted text: Text objects never interpret markup."""
    if value is None or value == "":
        return Text("-", style="dim")
    return Text(printable(str(value)))


def _overview(s: CaptureSummary) -> Table:
    t = Table.grid(padding=(0, 2))
    t.add_column(style="bold")
    t.add_column()
    t.add_row("file", _t(s.path))
    t.add_row("format", _t(s.format))
    t.add_row("frames", str(s.frames))
    t.add_row("link types", ", ".join(f"{linktype_name(k)} ({v})" for k, v in sorted(s.linktypes.items())) or "-")
    t.add_row("interfaces", str(s.interfaces))
    if s.first_ts_ns is not None:
        t.add_row("time span", f"{_iso(s.first_ts_ns)} .. {_iso(s.last_ts_ns)} ({s.duration_s:.3f} s)")
    return t


def _networks_table(s: CaptureSummary) -> Table:
    t = Table(title="Networks", title_justify="left")
    for col in ("BSSID", "SSID", "Ch", "Security", "AKM", "Pairwise", "Group", "802.11r", "PMF", "Stations"):
        t.add_column(col)
    for n in s.networks:
        t.add_row(
            n.bssid,
            _t(n.ssid if n.ssid is not None else None),
            _t(n.channel),
            _t(n.security),
            _t(", ".join(n.akms)),
            _t(", ".join(n.pairwise)),
            _t(n.group),
            "yes" if n.ft else "no",
            _t(n.pmf),
            str(len(n.stations)),
        )
    return t


def _handshake_table(s: CaptureSummary, *, decrypting: bool) -> Table:
    t = Table(title="Handshakes and keys per (BSSID, STA)" if decrypting else "Handshakes per (BSSID, STA)",
              title_justify="left")
    for col in ("BSSID", "STA", "SSID", "Messages", "Handshakes"):
        t.add_column(col)
    if decrypting:
        t.add_column("MIC")
        t.add_column("Frames")
    for link in s.links:
        msgs = " ".join(f"{k}x{v}" for k, v in link.messages.items()) or "-"
        hs = "; ".join("+".join(h.messages) for h in link.handshakes) or "-"
        row = [link.bssid, link.sta, _t(link.ssid), _t(msgs), _t(hs)]
        if decrypting:
            style = {"verified": "green", "wrong passphrase": "red"}.get(link.mic, "yellow")
            row.append(Text(link.mic, style=style))
            row.append(_t(", ".join(f"{k} {v}" for k, v in link.counts.items())))
        t.add_row(*row)
    return t


def info_renderable(s: CaptureSummary) -> Group:
    parts = [_overview(s)]
    if s.networks:
        parts.append(_networks_table(s))
    if any(link.messages for link in s.links):
        parts.append(_handshake_table(s, decrypting=False))
    return Group(*parts)


def decrypt_renderable(s: CaptureSummary, output: str | None) -> Group:
    head = _overview(s)
    head.add_row("decrypted unicast", str(s.decrypted_unicast))
    head.add_row("decrypted group", str(s.decrypted_group))
    head.add_row("outcomes", ", ".join(f"{k} {v}" for k, v in sorted(s.outcomes.items())))
    if output:
        head.add_row("written", f"{s.written} frames to {printable(output)}")
    parts = [head]
    if s.links:
        parts.append(_handshake_table(s, decrypting=True))
    return Group(*parts)
