"""Key strings in Wireshark's 80211_keys forms and the validation of raw keys."""

from __future__ import annotations

import pytest

from krackwatch.decrypt import keys
from krackwatch.errors import InputError


def test_wpa_pwd_with_ssid():
    k = keys.parse_wireshark_key("wpa-pwd:Induction:Coherer")
    assert k == keys.Passphrase(b"Induction", b"Coherer")


def test_wpa_pwd_percent_escapes_keep_colons():
    # Wireshark escapes ':' in the passphrase or SSID as %3a.
    k = keys.parse_wireshark_key("wpa-pwd:pass%3aword:my%3assid%20x")
    assert k == keys.Passphrase(b"pass:word", b"my:ssid x")


def test_wpa_pwd_without_ssid():
    assert keys.parse_wireshark_key("wpa-pwd:password1") == keys.Passphrase(b"password1", None)


def test_wpa_psk_and_tk():
    pmk = "ee51883793a6f68e9615fe73c80a3aa6f2dd0ea537bce627b929183cc6e57925"
    assert keys.parse_wireshark_key(f"wpa-psk:{pmk}") == keys.Pmk(bytes.fromhex(pmk))
    assert keys.parse_wireshark_key("tk:" + "00" * 16) == keys.TemporalKey(bytes(16))


@pytest.mark.parametrize(
    "text",
    ["wpa-pwd:short", "wpa-psk:zz", "wpa-psk:0011", "tk:00", "nonsense", "foo:bar", "wpa-pwd:" + "a" * 64],
)
def test_bad_key_strings_are_input_errors(text):
    with pytest.raises(InputError):
        keys.parse_wireshark_key(text)


def test_secrets_not_in_repr():
    k = keys.Passphrase(b"secret-passphrase", b"net")
    assert "secret" not in repr(k)
    assert "ab" * 16 not in repr(keys.Pmk(bytes.fromhex("ab" * 32)))
