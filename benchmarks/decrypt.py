#!/usr/bin/env python3
"""Decryption benchmark: krackwatch vs tshark vs airdecap-ng on the same large capture.

Builds a large WPA2-CCMP capture from a real one (tests/data/captures/wpa2-psk-linksys.cap): its beacon and
first 4-way handshake, then the real decrypted data frames re-encrypted again and again under that
handshake's TK with rising PNs and sequence numbers, so every tool has real work on every frame. Then it
times each tool on the file and prints frames/s and peak RSS side by side.

    python benchmarks/decrypt.py [--size-mb 200] [--workdir benchmarks/work] [--repeat 3]

krackwatch runs on the pcap and on the same records converted to pcapng (airdecap-ng reads pcap only); both
krackwatch and airdecap-ng also run on the same frames behind a radiotap header as Linux mac80211 writes it
(three presence words, FCS kept), the form most monitor-mode captures take;
every tool runs --repeat times, interleaved; the median is reported with every run's time.

This is a benchmark script, not a test: figures go to benchmarks/RESULTS.md by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from krackwatch.crypto.ccmp import CCMP
from krackwatch.decrypt import keys
from krackwatch.decrypt.engine import Decryptor, Outcome
from krackwatch.wire import dot11
from krackwatch.wire.capture import PcapngWriter, PcapWriter, open_capture

SOURCE = ROOT / "tests" / "data" / "captures" / "wpa2-psk-linksys.cap"
SSID, PASSPHRASE = "linksys", "dictionary"


def build(path: Path, size_mb: int) -> int:
    """Write the big capture; return its frame count."""
    dec = Decryptor(keys.KeyRing.of([keys.passphrase(PASSPHRASE, SSID)]))
    with open_capture(SOURCE) as reader:
        records = list(reader)
    preamble: list[tuple[int, bytes]] = []
    templates: list[tuple[bytes, bytes]] = []  # (802.11 header, plaintext) of real unicast data frames
    tk = None
    for rec in records:
        res = dec.process(rec.linktype, rec.data)
        if tk is None:
            preamble.append((rec.ts_ns, rec.data))
            link = next((v for v in dec.links.values() if v.messages.get("M4")), None)
            if link is not None:
                tk = link.ptk_objs[0].tk  # the first handshake's TK
        if res.outcome == Outcome.DECRYPTED and res.frame is not None and not res.group:
            hlen = dot11.header_length(res.frame)
            templates.append((res.frame[:hlen], res.frame[hlen:]))
    ccmp = CCMP(tk)
    target = size_mb * 1024 * 1024
    n, pn, seq = 0, 1, 0
    ts = preamble[-1][0]
    with open(path, "wb") as f:
        w = PcapWriter(f, 105, nanosecond=False)
        for t, data in preamble:
            w.write(t, data)
            n += 1
        written = f.tell()
        while written < target:
            for header, plain in templates:
                h = bytearray(header)
                h[1] = (h[1] | 0x40) & ~0x08  # Protected set, Retry cleared
                h[22:24] = struct.pack("<H", (seq & 0xFFF) << 4)
                body = ccmp.encrypt(bytes(h), pn, 0, plain)
                ts += 1000
                w.write(ts, bytes(h) + body)
                pn += 1
                seq += 1
                n += 1
                written += 16 + len(h) + len(body)
    return n


def run_child(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, bytes, bytes, int]:
    """Run a command; return (seconds, peak RSS of that child in KiB, stdout, stderr, exit code)."""
    import threading

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    chunks: dict[str, bytes] = {}

    def drain(name: str, stream) -> None:
        chunks[name] = stream.read()

    threads = [threading.Thread(target=drain, args=(n, s)) for n, s in (("out", proc.stdout), ("err", proc.stderr))]
    for t in threads:
        t.start()
    _, status, usage = os.wait4(proc.pid, 0)  # reap it ourselves: wait4 gives this child's own rusage
    proc.returncode = os.waitstatus_to_exitcode(status)
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    return elapsed, usage.ru_maxrss, chunks.get("out", b""), chunks.get("err", b""), proc.returncode


def to_pcapng(src: Path, dst: Path) -> None:
    """The same records as a pcapng (one nanosecond interface): the format most captures come in today."""
    with open_capture(src) as reader, open(dst, "wb", buffering=1 << 20) as f:
        w = PcapngWriter(f, comment="krackwatch decrypt benchmark")
        iface = None
        for rec in reader:
            if iface is None:
                iface = w.add_interface(rec.linktype)
            w.write(iface, rec.ts_ns, rec.data, origlen=rec.origlen)
        w.flush()


# A radiotap header as Linux mac80211 writes it for a received frame: three presence words (radiotap
# namespace with TSFT, Flags, Rate, Channel, antenna signal, RX flags, then two per-antenna words), FCS kept.
_RT_WORDS = (0xA000482F, 0xA0000820, 0x00000820)


def _radiotap_header(ts_ns: int) -> bytes:
    head = struct.pack("<BBH3I", 0, 0, 0, *_RT_WORDS)
    head += bytes(-len(head) % 8)
    head += struct.pack("<QBBHHbxH", ts_ns // 1000, 0x10, 0x6C, 2437, 0x00C0, -42, 0)  # ... RX flags
    head += struct.pack("<bBbB", -42, 0, -44, 1)  # antenna 0 and 1 signal + index
    return head[:2] + struct.pack("<H", len(head)) + head[4:]


def to_radiotap(src: Path, dst: Path) -> None:
    """The same 802.11 frames behind a mac80211-style radiotap header with the FCS appended (pcap, 127)."""
    with open_capture(src) as reader, open(dst, "wb", buffering=1 << 20) as f:
        w = PcapWriter(f, 127, nanosecond=False)
        for rec in reader:
            frame = rec.data + struct.pack("<I", zlib.crc32(rec.data))
            w.write(rec.ts_ns, _radiotap_header(rec.ts_ns) + frame)


def krackwatch_command() -> str:
    """The installed console script next to this interpreter (not a version manager's shim in front of it)."""
    here = Path(sys.executable).with_name("krackwatch")
    return str(here) if here.exists() else (shutil.which("krackwatch") or "krackwatch")


def child_env() -> dict[str, str]:
    """Our environment minus PYTHONDONTWRITEBYTECODE: a user's installed krackwatch starts from .pyc files."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=200)
    ap.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "work")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved rounds of every tool (default 3)")
    ap.add_argument("--skip", nargs="*", default=[],
                    help="tools or inputs to skip: krackwatch krackwatch-pcapng radiotap tshark airdecap-ng")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    big = args.workdir / f"decrypt-{args.size_mb}mb.pcap"
    if not big.exists():
        t0 = time.perf_counter()
        frames = build(big, args.size_mb)
        print(f"built {big} ({big.stat().st_size / 1e6:.1f} MB, {frames} frames) in {time.perf_counter() - t0:.1f} s")
    big_ng = big.with_suffix(".pcapng")
    if "krackwatch-pcapng" not in args.skip and not big_ng.exists():
        to_pcapng(big, big_ng)
    big_rt = big.with_name(big.stem + "-radiotap.pcap")
    if "radiotap" not in args.skip and not big_rt.exists():
        to_radiotap(big, big_rt)
    with open_capture(big) as r:
        frames = sum(1 for _ in r)
    size = big.stat().st_size
    print(f"input: {big.name}: {size / 1e6:.1f} MB, {frames} frames\n")

    kw = krackwatch_command()
    env = child_env()
    out = args.workdir / "kw-out.pcapng"
    # Warm-up: the first start after an install or edit compiles .pyc files; time the steady state.
    run_child([kw, "decrypt", str(SOURCE), "-p", PASSPHRASE, "-s", SSID, "--no-progress"], env)

    def krackwatch(path: Path):
        el, rss, so, se, rc = run_child([kw, "decrypt", str(path), "-p", PASSPHRASE, "-s", SSID, "-o", str(out),
                                         "--format", "json", "--no-progress"], env)
        return el, rss, (json.loads(so)["decrypted_unicast"] if rc == 0 else f"rc={rc} {se[-200:]!r}")

    def tshark():
        el, rss, so, _se, rc = run_child(["tshark", "-r", str(big), "-n", "-o", "wlan.enable_decryption:TRUE",
                                         "-o", f'uat:80211_keys:"wpa-pwd","{PASSPHRASE}:{SSID}"',
                                         "-Y", "wlan.fc.protected == 1 && llc", "-T", "fields", "-e",
                                         "frame.number"], env)
        return el, rss, (len(so.splitlines()) if rc == 0 else f"rc={rc}")

    def airdecap(path: Path):
        el, rss, so, _se, rc = run_child(["airdecap-ng", "-e", SSID, "-p", PASSPHRASE, str(path)], env)
        m = re.search(r"Number of decrypted WPA\s+packets\s+(\d+)", so.decode(errors="replace"))
        dec_out = path.with_name(path.stem + "-dec.pcap")
        if dec_out.exists():
            dec_out.unlink()
        return el, rss, (int(m.group(1)) if m else f"rc={rc}")

    tools = []
    if "krackwatch" not in args.skip:
        tools.append(("krackwatch decrypt -o (pcap)", big, lambda: krackwatch(big)))
    if "krackwatch-pcapng" not in args.skip:
        tools.append(("krackwatch decrypt -o (pcapng)", big_ng, lambda: krackwatch(big_ng)))
    if "airdecap-ng" not in args.skip and shutil.which("airdecap-ng"):
        tools.append(("airdecap-ng (pcap)", big, lambda: airdecap(big)))
    if "radiotap" not in args.skip:
        if "krackwatch" not in args.skip:
            tools.append(("krackwatch decrypt -o (radiotap)", big_rt, lambda: krackwatch(big_rt)))
        if "airdecap-ng" not in args.skip and shutil.which("airdecap-ng"):
            tools.append(("airdecap-ng (radiotap)", big_rt, lambda: airdecap(big_rt)))
    if "tshark" not in args.skip and shutil.which("tshark"):
        tools.append(("tshark (decrypt, count)", big, tshark))
    results: dict[str, list[tuple[float, int, object]]] = {name: [] for name, _, _ in tools}
    for _ in range(args.repeat):  # interleaved, so a slow spell of the machine hits every tool alike
        for name, _, fn in tools:
            results[name].append(fn())

    print(f"{'tool':32} {'median s':>9} {'runs (s)':>24} {'frames/s':>10} {'MB/s':>7} {'peak RSS MB':>12}  decrypted")
    for name, path, _ in tools:
        runs = results[name]
        med = statistics.median(r[0] for r in runs)
        rss = max(r[1] for r in runs)
        each = " ".join(f"{r[0]:.2f}" for r in runs)
        print(f"{name:32} {med:9.2f} {each:>24} {frames / med:10,.0f} {path.stat().st_size / 1e6 / med:7.1f} {rss / 1024:12.1f}"
              f"  {runs[-1][2]}")


if __name__ == "__main__":
    main()
