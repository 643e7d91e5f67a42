"""Shared test helpers: where the bundled data lives and what the peers' MANIFEST says about it."""

from __future__ import annotations

import csv
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
CAPTURES = DATA / "captures"
VECTORS = DATA / "vectors"


@dataclass(frozen=True)
class ManifestEntry:
    filename: str
    ssid: str
    passphrase: str
    bssid: str
    oracle: str

    @property
    def path(self) -> Path:
        return CAPTURES / self.filename

    def tshark_frames(self) -> int:
        return int(re.search(r"tshark: (\d+) frames?", self.oracle).group(1))

    def wlantest_counts(self) -> tuple[int, int] | None:
        """(unicast TK, group GTK) decrypted per wlantest, the de-duplicated definition we match."""
        m = re.search(r"wlantest: (\d+) TK(?: \+ (\d+) GTK)?", self.oracle)
        if m is None:
            return None
        return int(m.group(1)), int(m.group(2) or 0)


    def airdecap_unicast(self) -> int | None:
        m = re.search(r"airdecap-ng[^:]*: (\d+) decrypted", self.oracle)
        return int(m.group(1)) if m else None

    def expected_counts(self) -> tuple[int, int] | None:
        """(unicast, group) under our definition: unique MPDUs, Retry copies of counted frames excluded.

        wlantest and airdecap-ng agree on every capture but wpa-psk-linksys.cap, where wlantest reports 52
        and airdecap-ng 53: frame 563 is a Retry copy (seq 498, TSC 23) whose original was never captured,
        so it is a unique MPDU and counts; we follow airdecap-ng there.
        """
        counts = self.wlantest_counts()
        if counts is None:
            return None
        air = self.airdecap_unicast()
        return (air if air is not None else counts[0]), counts[1]


def manifest() -> list[ManifestEntry]:
    with open(CAPTURES / "MANIFEST.tsv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [
        ManifestEntry(r["filename"], r["ssid"], r["passphrase"], r["bssid"], r["oracle_summary"]) for r in rows
    ]


def manifest_entry(name: str) -> ManifestEntry:
    return next(e for e in manifest() if e.filename == name)


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian package: apt-get install {'tshark' if name == 'tshark' else 'aircrack-ng'}); .ci/run installs it")
    return path
