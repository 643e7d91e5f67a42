"""Every entry of every crypto vector file has a shape some test in this folder consumes.

The per-family tests select entries by their keys; this guards against an entry of a new shape
being added to a file and silently skipped.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

VECTORS = Path(__file__).resolve().parents[1] / "data" / "vectors"

# file -> (list keys holding entries, predicate naming the consuming test)
SHAPES = {
    "aes_keywrap_rfc3394.json": (
        ["vectors"],
        lambda v: {"kek_hex", "key_data_hex", "ciphertext_hex"} <= v.keys(),
    ),
    "bip_cmac.json": (["vectors"], lambda v: "tag_hex" in v or "igtk_hex" in v),
    "ccmp.json": (["vectors"], lambda v: {"tk_hex", "plaintext_mpdu_hex", "expected"} <= v.keys()),
    "eapol_key_mic.json": (
        ["vectors"],
        lambda v: (
            "ptk_prf80_hex" in v.get("expected", {})
            or "hccapx_hex" in v
            or v.get("hash_line", "").startswith("WPA*01*")
        ),
    ),
    "ft_key_hierarchy.json": (["vectors"], lambda v: v.get("hash_line", "").startswith("WPA*04*")),
    "gcmp.json": (["vectors"], lambda v: {"tk_hex", "plaintext_mpdu_hex", "expected"} <= v.keys()),
    "kdf_sha256.json": (["vectors"], lambda v: "output_hex" in v),
    "pbkdf2_passphrase_psk.json": (
        ["ieee80211_vectors", "rfc6070_vectors", "aircrack_ng_unit_test"],
        lambda v: "psk_hex" in v or "dk_hex" in v or "pmk_hex" in v,
    ),
    "prf_sha1.json": (["vectors"], lambda v: "output_hex" in v),
    "ptk_derivation.json": (["vectors"], lambda v: "pmk_hex" in v and "expected" in v),
    "tkip.json": (["vectors"], lambda v: "p1k" in v or "plaintext_mpdu_hex" in v),
    "wep.json": (["vectors"], lambda v: "key_hex" in v and "expected" in v),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_every_entry_is_consumed(name):
    doc = json.loads((VECTORS / name).read_text())
    lists, consumed = SHAPES[name]
    entries = [e for key in lists for e in doc[key]]
    assert entries, f"{name} has no entries"
    assert set(doc) - {"family", "definition", "notes", *lists} == set(), "unexpected top-level list"
    for entry in entries:
        assert consumed(entry), f"{name}: entry {entry.get('name', entry)!r} has a shape no test reads"
        assert "source" in entry, "every vector names its source"
