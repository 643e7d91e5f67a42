"""The attacker's toolkit on frames built with krackwatch.crypto: keystream reuse with known
plaintext, the all-zero TK check, TKIP Michael key recovery and forgery, GCMP forgery. The truth is the
cipher itself: a forgery counts only if the real key's decryption (ICV, Michael, GCM tag) accepts it."""

from __future__ import annotations

import os

from cryptography.hazmat.primitives.ciphers import Cipher as _C
from cryptography.hazmat.primitives.ciphers import algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from krackwatch.crypto import CCMP, GCMP, TKIP, Cipher, michael
from krackwatch.lab.crack import (
    Partial,
    Sniffed,
    Template,
    eapol_template,
    find_secret,
    forge_gcmp,
    forge_tkip,
    ipv6_templates,
    michael_key_from,
    recover_gcmp_hash_key,
    recover_plaintexts,
    reuse_groups,
    zero_tk_plaintext,
)
from krackwatch.lab.frames import data_frame
from krackwatch.lab.gf128 import to_block
from krackwatch.lab.packets import EtherType, icmp_echo, ip, ipv4, ipv6_dad_ns, ipv6_mld_report, llc, udp

AP = bytes.fromhex("024b57000001")
STA = bytes.fromhex("024b57001001")
GW = bytes.fromhex("024b5700fffe")


def header(seq: int, dst: bytes = GW) -> bytes:
    return data_frame(0x4100, AP, STA, dst, seq, b"")


def udp_msdu(payload: bytes) -> bytes:
    src, dst = ip("192.168.100.10"), ip("192.168.100.254")
    return llc(EtherType.IPV4, ipv4(src, dst, 17, udp(src, dst, 40000, 9, payload), ident=7))


def seal(cipher: Cipher, tk: bytes, seq: int, pn: int, msdu: bytes) -> bytes:
    h = header(seq)
    if cipher is Cipher.TKIP:
        return h + TKIP(tk).encrypt(h, pn, 0, msdu, michael_key=tk[24:32])
    engine = GCMP(tk) if cipher is Cipher.GCMP128 else CCMP(tk)
    return h + engine.encrypt(h, pn, 0, msdu)


def sniff(frames: list[tuple[int, bytes]], cipher: Cipher) -> list[Sniffed]:
    return [Sniffed(0.0, f, pn, cipher, delivered=False) for pn, f in frames]


def test_keystream_reuse_reveals_the_partner_of_a_known_frame():
    tk = os.urandom(16)
    known = llc(EtherType.IPV6, ipv6_mld_report(STA))
    secret = udp_msdu(b"user=alice&password=orchid-1234")
    frames = sniff([(1, seal(Cipher.CCMP128, tk, 1, 1, known)), (1, seal(Cipher.CCMP128, tk, 9, 1, secret))],
                   Cipher.CCMP128)
    assert reuse_groups(frames) == [[0, 1]]
    templates = {0: ipv6_templates(STA, tkip=False)}
    parts = recover_plaintexts(frames, templates)
    p = parts[1]
    n = min(len(known), len(secret))
    assert bytes(p.value[:n]) == secret[:n] and all(p.known[:n])
    assert find_secret(p, len(secret)) == "orchid-1234"


def test_a_different_key_is_not_a_reuse():
    known = llc(EtherType.IPV6, ipv6_dad_ns(STA))
    a = seal(Cipher.CCMP128, os.urandom(16), 1, 1, known)
    b = seal(Cipher.CCMP128, os.urandom(16), 2, 1, known + b"x")
    assert reuse_groups(sniff([(1, a), (1, b)], Cipher.CCMP128)) == []


def test_a_wrong_template_is_discarded():
    tk = os.urandom(16)
    real = udp_msdu(b"A" * 48)
    other = udp_msdu(b"B" * 48)
    frames = sniff([(1, seal(Cipher.CCMP128, tk, 1, 1, real)), (1, seal(Cipher.CCMP128, tk, 2, 1, other))],
                   Cipher.CCMP128)
    wrong = Template("wrong", b"\x00" * len(real), b"\x01" * len(real))
    parts = recover_plaintexts(frames, {0: [wrong]})
    assert 1 not in parts or not any(parts[1].known)


def test_find_secret_needs_every_octet():
    raw = b"user=a&password=hunter2"
    p = Partial(bytearray(raw), bytearray(b"\x01" * len(raw)))
    assert find_secret(p, len(raw)) == "hunter2"
    p.known[-1] = 0
    assert find_secret(p, len(raw)) is None


def test_zero_tk_is_detected_only_for_zero_keys():
    msdu = udp_msdu(b"hello")
    for cipher, tk_len in ((Cipher.CCMP128, 16), (Cipher.GCMP128, 16), (Cipher.TKIP, 32)):
        assert zero_tk_plaintext(seal(cipher, bytes(tk_len), 1, 1, msdu), cipher) == msdu
        assert zero_tk_plaintext(seal(cipher, os.urandom(tk_len), 1, 1, msdu), cipher) is None


def _forged_msdu() -> bytes:
    return llc(EtherType.IPV4, ipv4(ip("192.168.100.10"), ip("192.168.100.254"), 1,
                                    icmp_echo(1, 1, b"forged-by-KRACK!"), ident=1))


def test_tkip_michael_recovery_and_forgery_pass_the_real_key():
    tk = os.urandom(32)
    mld = llc(EtherType.IPV6, ipv6_mld_report(STA))
    data = udp_msdu(bytes(range(120)))
    carrier_plain = eapol_template("m4", bytes(99), tkip=True)
    m4 = llc(EtherType.EAPOL, bytes(99))
    frames = sniff([(5, seal(Cipher.TKIP, tk, 1, 5, mld)), (5, seal(Cipher.TKIP, tk, 2, 5, data)),
                    (9, seal(Cipher.TKIP, tk, 3, 9, m4))], Cipher.TKIP)
    # The UDP frame's leading octets are "known" through a template of the UDP frame itself: the MLD
    # report's MIC and ICV lie under octets the attacker knows in the UDP frame.
    known_udp = Template("udp", data + bytes(12), b"\x01" * len(data) + bytes(12))
    templates = {0: ipv6_templates(STA, tkip=True), 1: [known_udp], 2: [carrier_plain]}
    parts = recover_plaintexts(frames, templates)
    key = michael_key_from(frames[0], parts[0])
    assert key == tk[24:32]
    forged = forge_tkip(frames[2], carrier_plain.partial(), key, header(77), _forged_msdu())
    assert forged is not None
    assert TKIP(tk).decrypt(forged[:24], forged[24:], michael_key=tk[24:32]) == _forged_msdu()
    assert michael(key, b"x") == michael(tk[24:32], b"x")


def test_gcmp_hash_key_recovery_and_forgery_pass_the_real_key():
    tk = os.urandom(16)
    pairs = []
    for pn in (1, 2):
        pairs += [(pn, seal(Cipher.GCMP128, tk, pn, pn, udp_msdu(os.urandom(30)))),
                  (pn, seal(Cipher.GCMP128, tk, 10 + pn, pn, udp_msdu(os.urandom(30))))]
    m4 = llc(EtherType.EAPOL, bytes(99))
    pairs.append((7, seal(Cipher.GCMP128, tk, 20, 7, m4)))
    frames = sniff(pairs, Cipher.GCMP128)
    h = recover_gcmp_hash_key(frames)
    enc = _C(algorithms.AES(tk), modes.ECB()).encryptor()
    assert to_block(h) == enc.update(bytes(16))
    carrier = eapol_template("m4", bytes(99), tkip=False)
    forged = forge_gcmp(frames[-1], carrier.partial(), h, header(99), _forged_msdu())
    assert GCMP(tk).decrypt(forged[:24], forged[24:]) == _forged_msdu()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 4), st.binary(min_size=40, max_size=120)), min_size=1, max_size=6))
def test_recovery_never_raises_and_never_invents_octets(items):
    """Random frames (random keys): whatever is recovered is consistent with the real plaintexts."""
    tk = os.urandom(16)
    plains = [llc(EtherType.IPV4, p) for _, p in items]
    frames = sniff([(pn, seal(Cipher.CCMP128, tk, i, pn, plains[i])) for i, (pn, _) in enumerate(items)],
                   Cipher.CCMP128)
    templates = {0: [Template("truth", plains[0], b"\x01" * len(plains[0]))]}
    for k, p in recover_plaintexts(frames, templates).items():
        for j, known in enumerate(p.known):
            if known:
                assert p.value[j] == plains[k][j]
