"""The lab matrix against Table 1 of Vanhoef & Piessens, "Key Reinstallation Attacks: Forcing Nonce
Reuse in WPA2", CCS 2017 (research/protocol.md 2.1, from the stored translation H3LL0WORLD/KRACK-Paper
krack.md "Tabla 1"). The verdicts are computed by running the attacks against the profiles' behaviour
knobs; the table below is the independent truth they must reproduce."""

from __future__ import annotations

import time

import pytest

from krackwatch.lab import SCENARIOS, Verdict, run_matrix
from krackwatch.protocol import PRESETS

# Table 1, columns "4-way" and "Group" (True = check mark: vulnerable to key reinstallation).
# Footnotes: a = all-zero TK installed; b = only the group key is reinstalled in the 4-way handshake;
# c = msg 3 retransmissions not accepted.
TABLE_1 = {
    "osx-10.9.5": (True, True),
    "macos-10.12": (True, True),
    "ios-10.3.1": (False, True),  # c
    "wpa_supplicant-2.3": (True, True),
    "wpa_supplicant-2.4": (True, True),  # a (row "v2.4-5")
    "wpa_supplicant-2.5": (True, True),  # a
    "wpa_supplicant-2.6": (True, True),  # b
    "android-6.0.1": (True, True),  # a
    "openbsd-6.1-rum": (False, True),
    "openbsd-6.1-iwn": (True, True),
    "windows-7": (False, True),  # c
    "windows-10": (False, True),  # c
    "mediatek": (True, True),
}


@pytest.fixture(scope="module")
def matrix():
    t0 = time.perf_counter()
    rows = run_matrix()
    elapsed = time.perf_counter() - t0
    return {(r.profile, r.scenario): r.verdict for r in rows}, elapsed, rows


def test_every_scenario_against_every_profile(matrix):
    cells, _, rows = matrix
    assert len(rows) == len(PRESETS) * len(SCENARIOS)
    assert set(cells) == {(p, s) for p in PRESETS for s in SCENARIOS}


@pytest.mark.parametrize("profile", sorted(TABLE_1))
def test_fourway_and_group_columns_equal_table_1(matrix, profile):
    cells, _, _ = matrix
    four, group = TABLE_1[profile]
    want = {True: Verdict.VULNERABLE, False: Verdict.NOT_VULNERABLE}
    assert cells[(profile, "fourway")] is want[four]
    assert cells[(profile, "group")] is want[group]


def test_patched_survives_every_scenario(matrix):
    cells, _, _ = matrix
    assert all(cells[("patched", s)] is Verdict.NOT_VULNERABLE for s in SCENARIOS)


def test_not_applicable_only_where_the_scenario_has_no_target(matrix):
    cells, _, _ = matrix
    for (p, s), v in cells.items():
        role = PRESETS[p].role.name
        target = SCENARIOS[s].target.name
        expected_na = role != "BOTH" and role != target
        assert (v is Verdict.NOT_APPLICABLE) == expected_na, (p, s, v)


def test_ft_column_follows_the_hostapd_fix(matrix):
    """hostapd before 0e3bd7ac6 (2.6) reinstalls the PTK on a replayed FT Reassociation Request; 2.7 has
    the fix (research 3.1; paper 5)."""
    cells, _, _ = matrix
    assert cells[("hostapd-2.6", "ft")] is Verdict.VULNERABLE
    assert cells[("hostapd-2.7", "ft")] is Verdict.NOT_VULNERABLE


def test_matrix_is_fast(matrix):
    _, elapsed, _ = matrix
    assert elapsed < 30, f"the full matrix took {elapsed:.1f} s"
