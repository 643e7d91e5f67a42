"""Drive a :class:`Decryptor` over a capture file: summary figures and an optional decrypted pcapng."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from krackwatch.decrypt.engine import Decryptor, LinkSummary, Outcome, recompute_fcs
from krackwatch.decrypt.keys import KeyRing
from krackwatch.decrypt.state import mac_str
from krackwatch.errors import InputError
from krackwatch.wire.capture import CaptureError, PcapngWriter, open_capture
from krackwatch.wire.linklayer import LinkType

ProgressFn = Callable[[int, int | None], None]

_COMMENTED = frozenset((Outcome.NO_KEY, Outcome.FAILED, Outcome.MALFORMED, Outcome.FCS_BAD))

_LINKTYPE_NAMES = {lt.value: lt.name for lt in LinkType}
_OUT_SNAPLEN = 262144  # of the output interfaces; the compiled EPB path checks records against it


def linktype_name(value: int) -> str:
    return _LINKTYPE_NAMES.get(value, f"LINKTYPE_{value}")


@dataclass(frozen=True, slots=True)
class NetworkSummary:
    bssid: str
    ssid: str | None
    ssid_hex: str | None
    channel: int | None
    freq: int | None
    security: str | None
    akms: tuple[str, ...]
    pairwise: tuple[str, ...]
    group: str | None
    ft: bool
    pmf: str
    beacons: int
    stations: tuple[str, ...]


@dataclass(slots=True)
class CaptureSummary:
    """Everything `info` and `decrypt` report about one capture."""

    path: str
    format: str = ""
    frames: int = 0
    linktypes: Counter = field(default_factory=Counter)
    interfaces: int = 0
    first_ts_ns: int | None = None
    last_ts_ns: int | None = None
    outcomes: Counter = field(default_factory=Counter)
    decrypted_unicast: int = 0
    decrypted_group: int = 0
    michael_failures: int = 0
    networks: list[NetworkSummary] = field(default_factory=list)
    links: list[LinkSummary] = field(default_factory=list)
    error: CaptureError | None = None
    written: int = 0

    @property
    def duration_s(self) -> float:
        if self.first_ts_ns is None or self.last_ts_ns is None:
            return 0.0
        return (self.last_ts_ns - self.first_ts_ns) / 1e9


def _labels(suites) -> tuple[str, ...]:
    """Suite names in order, once each (an RSNE and a WPA IE often list the same cipher)."""
    out: list[str] = []
    for s in suites:
        label = s.label if hasattr(s, "label") else f"{s:08x}"
        if label not in out:
            out.append(label)
    return tuple(out)


def _networks(dec: Decryptor) -> list[NetworkSummary]:
    out = []
    for bssid, net in dec.networks.items():
        if bssid[0] & 1:
            continue
        if not (net.beacons or net.ssid or net.security or net.stations):
            continue
        out.append(
            NetworkSummary(
                bssid=mac_str(bssid),
                ssid=net.ssid.decode("utf-8", "replace") if net.ssid is not None else None,
                ssid_hex=net.ssid.hex() if net.ssid is not None else None,
                channel=net.channel,
                freq=net.freq,
                security=net.security,
                akms=_labels(net.akms),
                pairwise=_labels(net.pairwise),
                group=(net.group.label if hasattr(net.group, "label") else
                       (f"{net.group:08x}" if net.group is not None else None)),
                ft=net.ft,
                pmf=net.pmf,
                beacons=net.beacons,
                stations=tuple(sorted(mac_str(s) for s in net.stations)),
            )
        )
    out.sort(key=lambda n: n.bssid)
    return out


_U64 = 1 << 64
_I64 = 1 << 63


class _Bulk:
    """The compiled fast path as the reader's :class:`~krackwatch.wire.capture.BulkConsumer`: runs of
    records it can decrypt go from the reader's buffer to the output (or the counters) without a
    :class:`Record` or a Python call each. It takes exactly the records analyse_capture's loop would
    hand to ``Decryptor.fast_epb`` (or, without output, to the compiled decrypt) and writes the same
    blocks; everything else is yielded to that loop. Keeps its own tallies, folded in at the end."""

    def __init__(self, dec: Decryptor, write: Callable[[bytes], object] | None, out_if: dict[int, int]) -> None:
        c = dec._c
        assert c is not None
        self._pcap_run = c.pcap_run
        self._pcapng_run = c.pcapng_run
        self._write = write
        self._out_if = out_if
        self._layout_key: tuple[object, int] | None = None
        self._table: tuple[tuple[int, int, int, int, int], ...] = ()
        self.frames = 0
        self.per_iface: Counter[int] = Counter()
        self.iface_type: dict[int, int] = {}
        self.first_ts: int | None = None
        self.last_ts: int | None = None
        self.tick: Callable[[], None] | None = None  # progress, every 4096 records or so
        self._next_tick = 0

    def _taken(self, n: int, lo: int, hi: int, blob: bytes) -> None:
        if blob:
            self._write(blob)  # type: ignore[misc]
        self.frames += n
        if self.first_ts is None or lo < self.first_ts:
            self.first_ts = lo
        if self.last_ts is None or hi > self.last_ts:
            self.last_ts = hi
        if self.tick is not None and self.frames >= self._next_tick:
            self._next_tick = self.frames + 4096
            self.tick()

    def pcap(self, buf: bytes, pos: int, big_endian: bool, unit: int, header_size: int,
             linktype: int) -> tuple[int, int]:
        if self._write is None:
            out = -1
        elif (out := self._out_if.get(0)) is None:
            return pos, 0  # the first record registers the output interface on the Python path
        pos, n, lo, hi, blob = self._pcap_run(buf, pos, big_endian, unit, header_size, linktype, out)
        if n:
            self.per_iface[0] += n
            self.iface_type[0] = linktype
            self._taken(n, lo, hi, blob)
        return pos, n

    def pcapng(self, buf: bytes, pos: int, big_endian: bool,
               interfaces: tuple[tuple[int, int, int, int, int], ...]) -> tuple[int, int]:
        key = (interfaces, len(self._out_if))
        if key != self._layout_key:
            self._layout_key = key
            self._table = tuple(self._layout(*i) for i in interfaces)
        pos, n, lo, hi, blob, counts = self._pcapng_run(buf, pos, big_endian, self._table, self._write is not None)
        if n:
            for (gidx, linktype, *_), k in zip(interfaces, counts):
                if k:
                    self.per_iface[gidx] += k
                    self.iface_type[gidx] = linktype
            self._taken(n, lo, hi, blob)
        return pos, n

    def _layout(self, gidx: int, linktype: int, mul: int, div: int, off: int) -> tuple[int, int, int, int, int]:
        if self._write is None:
            out = 0
        else:
            out = self._out_if.get(gidx, -1)  # -1 until the Python path has registered the interface
        if not (0 <= mul < _U64 and 0 < div < _U64 and -_I64 <= off < _I64 and 0 <= linktype < 1 << 31):
            out = -1  # beyond 64-bit arithmetic: those records stay on the Python path
        return linktype, mul, div, off, out


def analyse_capture(
    source: str | os.PathLike | BinaryIO,
    keys: KeyRing | None = None,
    *,
    output: BinaryIO | None = None,
    fcs_mode: str = "auto",
    decrypt: bool = True,
    progress: ProgressFn | None = None,
    accelerate: bool = True,
) -> CaptureSummary:
    """Read a capture once; decrypt what the keys allow; write a decrypted pcapng to ``output``.

    ``accelerate=False`` keeps every frame on the pure-Python path (same results, slower).
    """
    dec = Decryptor(keys, fcs_mode=fcs_mode, decrypt=decrypt, accelerate=accelerate)
    path = os.fspath(source) if isinstance(source, (str, os.PathLike)) else getattr(source, "name", "<stream>")
    summary = CaptureSummary(path=str(path))
    writer = PcapngWriter(output, comment="decrypted by krackwatch") if output is not None else None
    out_if: dict[int, int] = {}
    process = dec.process
    fast_epb = dec.fast_epb if writer is not None else None
    write_block = output.write if output is not None else None
    frames = 0
    first_ts = last_ts = None
    per_iface: dict[int, int] = {}
    iface_type: dict[int, int] = {}
    with open_capture(source) as reader:
        summary.format = reader.format
        next_tick = 4096
        bulk = None
        if dec._c is not None and decrypt and dec.keys:
            bulk = reader.bulk = _Bulk(dec, write_block, out_if)
            if progress is not None:
                bulk.tick = lambda: progress(reader.position, reader.size)
        for rec in reader:
            frames += 1
            iface = rec.interface
            n = per_iface.get(iface)
            if n is None:
                per_iface[iface] = 1
                iface_type[iface] = rec.linktype
            else:
                per_iface[iface] = n + 1
            ts = rec.ts_ns
            if last_ts is None:
                first_ts = last_ts = ts
            elif ts > last_ts:
                last_ts = ts
            elif ts < first_ts:
                first_ts = ts
            if writer is None:
                process(rec.linktype, rec.data)
            else:
                out = out_if.get(iface)
                if out is None:
                    out = out_if[iface] = writer.add_interface(rec.linktype, snaplen=_OUT_SNAPLEN)
                if fast_epb is not None and not rec.comments and (
                        block := fast_epb(rec.linktype, rec.data, out, ts, rec.caplen, rec.origlen)) is not None:
                    write_block(block)  # the whole EPB, decrypted by the compiled path
                else:
                    result = process(rec.linktype, rec.data)
                    if result.frame is not None:
                        data = rec.data[: result.link_header] + result.frame
                        if result.fcs:
                            data += recompute_fcs(result.frame)
                        writer.write(out, ts, data, origlen=rec.origlen - rec.caplen + len(data),
                                     comments=rec.comments)
                    elif result.outcome in _COMMENTED:
                        writer.write(out, ts, rec.data, origlen=rec.origlen,
                                     comments=rec.comments + (f"krackwatch: not decrypted: {result.reason}",))
                    else:
                        writer.write(out, ts, rec.data, origlen=rec.origlen, comments=rec.comments)
            if progress is not None and frames >= next_tick:
                next_tick = frames + 4096
                progress(reader.position, reader.size)
        summary.error = reader.error
        summary.interfaces = len(reader.interfaces)
        if progress is not None:
            progress(reader.position, reader.size)
    if bulk is not None and bulk.frames:
        frames += bulk.frames
        for iface, n in bulk.per_iface.items():
            per_iface[iface] = per_iface.get(iface, 0) + n
            iface_type.setdefault(iface, bulk.iface_type[iface])
        first_ts = bulk.first_ts if first_ts is None else min(first_ts, bulk.first_ts)
        last_ts = bulk.last_ts if last_ts is None else max(last_ts, bulk.last_ts)
    summary.frames = frames
    summary.written = frames if writer is not None else 0
    summary.first_ts_ns, summary.last_ts_ns = first_ts, last_ts
    for iface, n in per_iface.items():
        summary.linktypes[iface_type[iface]] += n
    if writer is not None:
        writer.flush()
    dec.sync()
    summary.outcomes = Counter({str(k): v for k, v in dec.outcomes.items()})
    summary.decrypted_unicast = dec.decrypted_unicast
    summary.decrypted_group = dec.decrypted_group
    summary.michael_failures = dec.michael_failures
    summary.networks = _networks(dec)
    summary.links = dec.link_summaries()
    usable = {lt for lt in _LINKTYPE_NAMES if decrypt is False or lt != LinkType.ETHERNET}
    if summary.frames and not usable.intersection(summary.linktypes):
        names = ", ".join(linktype_name(lt) for lt in summary.linktypes)
        what = "for decryption" if decrypt else ""
        raise InputError(f"unsupported link type {what}: {names}".replace("  ", " "), path=summary.path)
    return summary
