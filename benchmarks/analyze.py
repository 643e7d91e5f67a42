#!/usr/bin/env python3
"""Passive analysis benchmark: `krackwatch analyze` vs `tshark -T fields` on the same large lab capture.

The capture starts with a real lab run (krackwatch.lab: the plaintext message 3 attack against
wpa_supplicant 2.3 through the channel man-in-the-middle, so there is a reinstallation to find), then many
stations associate with four APs on channel 6 -- authentication, association, a 4-way handshake with real
MICs and wrapped GTK -- and exchange CCMP-protected traffic both ways (sizes from 60 to 1400 octets, 1 % MAC
retransmissions, beacons every 102.4 ms, broadcast ARP under the GTK, a PTK rekey per station halfway),
every frame built with the lab's frame helpers and real encryption, until the file reaches the size asked.

tshark extracts the fields the detectors read (transmitter, receiver, sequence number, Retry, CCMP PN, TID,
EAPOL-Key message, replay counter, nonce, Key RSC, key info); krackwatch runs every default rule without keys.
Peak RSS is each child's own (wait4). Two sizes show whether memory stays flat as the file grows.

    python benchmarks/analyze.py [--sizes 100 1024] [--stations 256] [--workdir benchmarks/work]

This is a benchmark script, not a test: figures go to benchmarks/RESULTS.md by hand.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from krackwatch.crypto import AKM, Cipher, aes_key_wrap, derive_ptk, eapol_key_mic, pbkdf2_psk
from krackwatch.lab import run_scenario
from krackwatch.lab.frames import TxKey, beacon, data_frame, mgmt_frame
from krackwatch.lab.sim import EPOCH_NS, channel_freq
from krackwatch.wire import (
    RSNE,
    AssocReqBody,
    AuthBody,
    EapolKey,
    GtkKDE,
    KeyInfo,
    PcapngWriter,
    pad_key_data,
)
from krackwatch.wire.elements import ssid_element
from krackwatch.wire.radiotap import Channel, Radiotap, RadiotapBit, RadiotapItem, encode_radiotap

SSID = b"krackwatch-bench"
PASSPHRASE = "correct horse battery staple"
LLC_EAPOL = b"\xaa\xaa\x03\x00\x00\x00\x88\x8e"
LLC_IPV4 = b"\xaa\xaa\x03\x00\x00\x00\x08\x00"
LLC_ARP = b"\xaa\xaa\x03\x00\x00\x00\x08\x06"
SIZES = (60, 120, 400, 900, 1400, 200, 1400, 80)
TSHARK_FIELDS = ("frame.number", "frame.time_epoch", "wlan.ta", "wlan.ra", "wlan.bssid", "wlan.seq",
                 "wlan.fc.retry", "wlan.fc.protected", "wlan.ccmp.extiv", "wlan.qos.tid",
                 "wlan_rsna_eapol.keydes.msgnr", "wlan_rsna_eapol.keydes.key_info", "eapol.keydes.replay_counter",
                 "wlan_rsna_eapol.keydes.nonce", "wlan_rsna_eapol.keydes.rsc")


def _radiotap(channel: int) -> bytes:
    return encode_radiotap(Radiotap(0, 0, 0, (0x2E,), (
        RadiotapItem(RadiotapBit.FLAGS, 0), RadiotapItem(RadiotapBit.RATE, 108),
        RadiotapItem(RadiotapBit.CHANNEL, Channel(channel_freq(channel), 0x00C0)),
        RadiotapItem(RadiotapBit.DBM_ANTSIGNAL, -50))))


def _nonce(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def _eapol(info: int, rc: int, nonce: bytes, *, key_data: bytes = b"", kck: bytes | None = None,
           key_len: int = 0, version: int = 2) -> bytes:
    key = EapolKey(version, 2, info, key_len, rc, nonce, bytes(16), 0, bytes(8), bytes(16), key_data)
    if kck is not None:
        key = key.with_mic(eapol_key_mic(kck, key.mic_zeroed_bytes(), descriptor_version=2))
    return LLC_EAPOL + key.encode()


class Station:
    __slots__ = ("ap", "mac", "ptk", "rc", "seq_ap", "seq_sta", "tx_ap", "tx_sta")

    def __init__(self, mac: bytes, ap: bytes) -> None:
        self.mac, self.ap = mac, ap
        self.rc = 0
        self.seq_ap = self.seq_sta = 0


class Builder:
    def __init__(self, path: Path, stations: int) -> None:
        self.f = open(path, "wb")  # noqa: SIM115 - closed in finish()
        self.w = PcapngWriter(self.f, application="krackwatch benchmark")
        self.ifaces: dict[int, int] = {}
        self.heads = {ch: _radiotap(ch) for ch in (1, 6, 11)}
        self.t = 0.0
        self.frames = 0
        self.pmk = pbkdf2_psk(PASSPHRASE, SSID)
        self.aps = [bytes.fromhex(f"02bb0000000{i}") for i in range(4)]
        self.gtk = _nonce("GTK")[:16]
        self.group = TxKey(Cipher.CCMP128, self.gtk, 1)
        self.rsne = RSNE(1, Cipher.CCMP128, (Cipher.CCMP128,), (AKM.PSK,), 0).element()
        self.stas = [Station(bytes.fromhex(f"02cc{i:08x}"), self.aps[i % 4]) for i in range(stations)]
        self.ap_seq = dict.fromkeys(self.aps, 0)

    def emit(self, frame: bytes, channel: int = 6, dt: float = 0.00005) -> None:
        iface = self.ifaces.get(channel)
        if iface is None:
            iface = self.ifaces[channel] = self.w.add_interface(127, name=f"ch{channel}")
        self.t += dt
        self.w.write(iface, EPOCH_NS + round(self.t * 1e9), self.heads[channel] + frame)
        self.frames += 1

    def lab_prefix(self) -> None:
        r = run_scenario("fourway", "wpa_supplicant-2.3", seed=1)
        start = r.frames[0].time if r.frames else 0.0
        for fr in r.frames:
            self.emit(fr.data, fr.channel, dt=0.0)
            self.t = max(self.t, fr.time - start)
        self.t += 1.0

    def beacons(self) -> None:
        for ap in self.aps:
            self.ap_seq[ap] += 1
            self.emit(beacon(ap, SSID, 6, int(self.t * 1e6), self.ap_seq[ap], (self.rsne,)))

    def handshake(self, s: Station, tag: str) -> None:
        anonce, snonce = _nonce(f"A {s.mac.hex()} {tag}"), _nonce(f"S {s.mac.hex()} {tag}")
        ptk = derive_ptk(self.pmk, s.ap, s.mac, anonce, snonce, akm=AKM.PSK, cipher=Cipher.CCMP128)
        pair = 2 | KeyInfo.KEY_TYPE
        rsne = self.rsne.encode()
        protect = s.ptk is not None  # a rekey travels under the PTK in use

        def send(from_ap: bool, eapol: bytes) -> None:
            if from_ap:
                s.seq_ap += 1
                hdr = data_frame(0x0200, s.mac, s.ap, s.ap, s.seq_ap, b"")
                self.emit(s.tx_ap.protect(hdr, eapol) if protect else hdr + eapol)
            else:
                s.seq_sta += 1
                hdr = data_frame(0x0100, s.ap, s.mac, s.ap, s.seq_sta, b"")
                self.emit(s.tx_sta.protect(hdr, eapol) if protect else hdr + eapol)

        s.rc += 1
        send(True, _eapol(pair | KeyInfo.ACK, s.rc, anonce, key_len=16))
        send(False, _eapol(pair | KeyInfo.MIC, s.rc, snonce, key_data=rsne, kck=ptk.kck, version=1))
        s.rc += 1
        kd = aes_key_wrap(ptk.kek, pad_key_data(rsne + GtkKDE(1, False, self.gtk).encode()))
        info = pair | KeyInfo.INSTALL | KeyInfo.ACK | KeyInfo.MIC | KeyInfo.SECURE | KeyInfo.ENCRYPTED_KEY_DATA
        send(True, _eapol(info, s.rc, anonce, key_data=kd, kck=ptk.kck, key_len=16))
        send(False, _eapol(pair | KeyInfo.MIC | KeyInfo.SECURE, s.rc, bytes(32), kck=ptk.kck, version=1))
        s.ptk = ptk
        s.tx_ap = TxKey(Cipher.CCMP128, ptk.tk, 0)
        s.tx_sta = TxKey(Cipher.CCMP128, ptk.tk, 0)

    def associate(self, s: Station) -> None:
        s.ptk = None
        self.emit(mgmt_frame(11, s.ap, s.mac, s.ap, 1, AuthBody(0, 1, 0).encode()))
        self.emit(mgmt_frame(11, s.mac, s.ap, s.ap, 1, AuthBody(0, 2, 0).encode()))
        self.emit(mgmt_frame(0, s.ap, s.mac, s.ap, 2, AssocReqBody(0x0431, 10, None,
                                                                   (ssid_element(SSID), self.rsne)).encode()))
        self.emit(mgmt_frame(1, s.mac, s.ap, s.ap, 2, bytes.fromhex("31040000") + b"\x01\xc0"))
        self.handshake(s, "1")

    def traffic(self, target_bytes: int) -> None:
        i = 0
        rekeyed = False
        body = bytes(range(256)) * 6
        while self.f.tell() < target_bytes:
            for k, s in enumerate(self.stas):
                n = SIZES[(i + k) % len(SIZES)]
                s.seq_sta += 1
                frame = s.tx_sta.protect(data_frame(0x0100, s.ap, s.mac, s.ap, s.seq_sta, b""),
                                         LLC_IPV4 + body[:n])
                self.emit(frame)
                if (i + k) % 100 == 7:  # a MAC retransmission: Retry set, same sequence number and PN
                    self.emit(frame[:1] + bytes((frame[1] | 0x08,)) + frame[2:])
                s.seq_ap += 1
                self.emit(s.tx_ap.protect(data_frame(0x0200, s.mac, s.ap, s.ap, s.seq_ap, b""),
                                          LLC_IPV4 + body[:SIZES[(i + k + 3) % len(SIZES)]]))
            i += 1
            if i % 20 == 0:
                self.beacons()
                ap = self.aps[i % 4]
                self.ap_seq[ap] += 1
                self.emit(self.group.protect(data_frame(0x0200, b"\xff" * 6, ap, ap, self.ap_seq[ap], b""),
                                             LLC_ARP + body[:28]))
            if not rekeyed and self.f.tell() > target_bytes // 2:
                rekeyed = True
                for s in self.stas:
                    self.handshake(s, "rekey")

    def finish(self) -> None:
        self.w.flush()
        self.f.close()


def build(path: Path, size_mb: int, stations: int) -> int:
    b = Builder(path, stations)
    b.lab_prefix()
    b.beacons()
    for s in b.stas:
        b.associate(s)
    b.traffic(size_mb * 1024 * 1024)
    b.finish()
    return b.frames


def run_child(cmd: list[str]) -> tuple[float, int, bytes, bytes, int]:
    """(seconds, peak RSS of that child in KiB, stdout, stderr, exit code); stdout is drained, not kept whole
    when ``cmd`` is tshark (its output is counted line by line)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out: dict[str, bytes] = {}
    lines = [0]

    def drain_out() -> None:
        if cmd[0].endswith("tshark"):
            for _ in proc.stdout:
                lines[0] += 1
            out["out"] = str(lines[0]).encode()
        else:
            out["out"] = proc.stdout.read()

    def drain_err() -> None:
        out["err"] = proc.stderr.read()

    threads = [threading.Thread(target=drain_out), threading.Thread(target=drain_err)]
    for t in threads:
        t.start()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    for t in threads:
        t.join()
    return time.perf_counter() - t0, usage.ru_maxrss, out.get("out", b""), out.get("err", b""), proc.returncode


def count_frames(path: Path) -> int:
    from krackwatch.wire.capture import open_capture

    with open_capture(path) as r:
        return sum(1 for _ in r)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1024], help="capture sizes in MB")
    ap.add_argument("--stations", type=int, default=256)
    ap.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "work")
    ap.add_argument("--skip", nargs="*", default=[], help="tools to skip: krackwatch tshark keyed")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    kw = shutil.which("krackwatch") or "krackwatch"
    rows = []
    for size in args.sizes:
        path = args.workdir / f"analyze-{size}mb-{args.stations}sta.pcapng"
        if not path.exists():
            t0 = time.perf_counter()
            n = build(path, size, args.stations)
            print(f"built {path.name}: {path.stat().st_size / 1e6:.0f} MB, {n} frames, "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
        frames = count_frames(path)
        mb = path.stat().st_size / 1e6
        if "krackwatch" not in args.skip:
            el, rss, so, se, rc = run_child([kw, "analyze", str(path), "-f", "json", "--no-progress",
                                             "--fail-on", "never"])
            doc = json.loads(so) if rc == 0 else {}
            got = (f"{doc['preflight']['frames']} frames, {len(doc['findings'])} findings "
                   f"({', '.join(sorted({f['rule'] for f in doc['findings']}))})" if doc else f"rc={rc} {se[-300:]!r}")
            rows.append((f"{mb:.0f} MB", "krackwatch analyze", el, rss, frames, mb, got))
        if "keyed" not in args.skip:
            el, rss, so, se, rc = run_child([kw, "analyze", str(path), "-f", "json", "--no-progress", "--fail-on",
                                             "never", "-p", PASSPHRASE, "-s", SSID.decode()])
            doc = json.loads(so) if rc == 0 else {}
            got = f"{len(doc['findings'])} findings, {doc['counts']['decrypted']} decrypted" if doc else f"rc={rc}"
            rows.append((f"{mb:.0f} MB", "krackwatch analyze -p (keys)", el, rss, frames, mb, got))
        if "tshark" not in args.skip and shutil.which("tshark"):
            cmd = ["tshark", "-r", str(path), "-n", "-T", "fields"]
            for field in TSHARK_FIELDS:
                cmd += ["-e", field]
            el, rss, so, se, rc = run_child(cmd)
            rows.append((f"{mb:.0f} MB", "tshark -T fields", el, rss, frames, mb,
                         f"{so.decode()} lines" if rc == 0 else f"rc={rc}"))
    print(f"\n{'input':8} {'tool':30} {'seconds':>8} {'frames/s':>11} {'MB/s':>7} {'peak RSS MB':>12}  result")
    for size, name, el, rss, frames, mb, got in rows:
        print(f"{size:8} {name:30} {el:8.1f} {frames / el:11,.0f} {mb / el:7.1f} {rss / 1024:12.1f}  {got}")


if __name__ == "__main__":
    main()
