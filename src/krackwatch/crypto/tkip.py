"""TKIP (802.11-2020 12.5.2): key mixing, Michael, MPDU encapsulation, and Michael key recovery.

``body`` is everything after the MAC header: IV/ExtIV (8 octets), then the RC4-encrypted
MSDU (fragment), Michael MIC (8, only at the end of the MSDU) and ICV (4).
"""

from __future__ import annotations

import hmac
import struct
import zlib

from krackwatch.crypto._mpdu import FC1_MOREFRAG, frame_priority
from krackwatch.crypto.errors import CryptoError, DecryptionError
from krackwatch.crypto.rc4 import rc4

__all__ = [
    "TKIP",
    "michael",
    "michael_header",
    "michael_recover_key",
    "phase1",
    "phase2",
    "tkip_iv",
    "tkip_tsc",
]

_MASK16 = 0xFFFF
_MASK32 = 0xFFFFFFFF
_PHASE1_LOOP_COUNT = 8
_PHASE1_CACHE_MAX = 256


def _build_sbox() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """TKIP S-box (12.5.2.5.2): entry i = (2*S[i]) << 8 | 3*S[i] over GF(2^8), S the AES S-box.

    The second table is the first with its two octets swapped.
    """

    def xtime(a: int) -> int:
        a <<= 1
        return (a ^ 0x11B) if a & 0x100 else a

    # Multiplicative inverses via log/antilog tables with generator 3.
    exp = [0] * 255
    log = [0] * 256
    x = 1
    for i in range(255):
        exp[i] = x
        log[x] = i
        x ^= xtime(x)  # multiply by 3
    aes = [0] * 256
    for i in range(256):
        inv = exp[(255 - log[i]) % 255] if i else 0
        s = inv
        for shift in (1, 2, 3, 4):
            s ^= ((inv << shift) | (inv >> (8 - shift))) & 0xFF
        aes[i] = s ^ 0x63
    table0 = tuple((xtime(s) << 8) | (xtime(s) ^ s) for s in aes)
    table1 = tuple(((v & 0xFF) << 8) | (v >> 8) for v in table0)
    return table0, table1


_SBOX0, _SBOX1 = _build_sbox()


def _s(v: int) -> int:
    return _SBOX0[v & 0xFF] ^ _SBOX1[v >> 8]


def _tk_words(tk16: bytes) -> tuple[int, ...]:
    # Mk16(TK[2i+1], TK[2i]) for i = 0..7
    return struct.unpack("<8H", tk16)


def phase1(tk16: bytes, ta: bytes, iv32: int) -> tuple[int, ...]:
    """Phase-1 key mixing: TTAK/P1K (five 16-bit words) from TK, TA and the upper 32 TSC bits."""
    if len(tk16) != 16:
        raise CryptoError(f"TKIP temporal key must be 16 octets, not {len(tk16)}")
    if len(ta) != 6:
        raise CryptoError("TA must be a 6-octet MAC address")
    if not 0 <= iv32 <= _MASK32:
        raise CryptoError("IV32 out of range")
    tk = _tk_words(tk16)
    ta0, ta1, ta2 = struct.unpack("<3H", ta)
    p0, p1, p2, p3, p4 = iv32 & _MASK16, iv32 >> 16, ta0, ta1, ta2
    s = _s
    for i in range(_PHASE1_LOOP_COUNT):
        j = i & 1  # word offset: TK octet offset 2*(i&1)
        p0 = (p0 + s(p4 ^ tk[j])) & _MASK16
        p1 = (p1 + s(p0 ^ tk[2 + j])) & _MASK16
        p2 = (p2 + s(p1 ^ tk[4 + j])) & _MASK16
        p3 = (p3 + s(p2 ^ tk[6 + j])) & _MASK16
        p4 = (p4 + s(p3 ^ tk[j]) + i) & _MASK16
    return (p0, p1, p2, p3, p4)


def _rotr1(v: int) -> int:
    return ((v >> 1) | (v << 15)) & _MASK16


def phase2(tk16: bytes, p1k: tuple[int, ...], iv16: int) -> bytes:
    """Phase-2 key mixing: the 16-octet per-packet WEP seed (RC4 key) from TK, P1K and IV16."""
    if len(tk16) != 16:
        raise CryptoError(f"TKIP temporal key must be 16 octets, not {len(tk16)}")
    if len(p1k) != 5:
        raise CryptoError("P1K must have five 16-bit words")
    if not 0 <= iv16 <= _MASK16:
        raise CryptoError("IV16 out of range")
    tk = _tk_words(tk16)
    s = _s
    k0, k1, k2, k3, k4 = p1k
    k5 = (k4 + iv16) & _MASK16
    k0 = (k0 + s(k5 ^ tk[0])) & _MASK16
    k1 = (k1 + s(k0 ^ tk[1])) & _MASK16
    k2 = (k2 + s(k1 ^ tk[2])) & _MASK16
    k3 = (k3 + s(k2 ^ tk[3])) & _MASK16
    k4 = (k4 + s(k3 ^ tk[4])) & _MASK16
    k5 = (k5 + s(k4 ^ tk[5])) & _MASK16
    k0 = (k0 + _rotr1(k5 ^ tk[6])) & _MASK16
    k1 = (k1 + _rotr1(k0 ^ tk[7])) & _MASK16
    k2 = (k2 + _rotr1(k1)) & _MASK16
    k3 = (k3 + _rotr1(k2)) & _MASK16
    k4 = (k4 + _rotr1(k3)) & _MASK16
    k5 = (k5 + _rotr1(k4)) & _MASK16
    hi = iv16 >> 8
    lo = iv16 & 0xFF
    # WEPSeed[1] = (TSC1 | 0x20) & 0x7F avoids the FMS weak-key class (12.5.2.5.3).
    return bytes((hi, (hi | 0x20) & 0x7F, lo, ((k5 ^ tk[0]) >> 1) & 0xFF)) + struct.pack(
        "<6H", k0, k1, k2, k3, k4, k5
    )


# --- Michael (12.5.2.3) -------------------------------------------------------------------------


def _michael_words(data: bytes) -> tuple[int, ...]:
    # Padding: 0x5a, then 4..7 zero octets so that the length is a multiple of 4.
    pad = 4 + (-(len(data) + 5)) % 4
    return struct.unpack(f"<{(len(data) + 1 + pad) // 4}I", bytes(data) + b"\x5a" + bytes(pad))


def michael(key8: bytes, data: bytes) -> bytes:
    """Michael MIC (8 octets) of ``data`` (normally :func:`michael_header` || MSDU) under an 8-octet key."""
    if len(key8) != 8:
        raise CryptoError(f"Michael key must be 8 octets, not {len(key8)}")
    left, right = struct.unpack("<2I", key8)
    m = _MASK32
    for word in _michael_words(data):
        left ^= word
        right ^= ((left << 17) | (left >> 15)) & m
        left = (left + right) & m
        right ^= ((left & 0xFF00FF00) >> 8) | ((left & 0x00FF00FF) << 8)
        left = (left + right) & m
        right ^= ((left << 3) | (left >> 29)) & m
        left = (left + right) & m
        right ^= ((left >> 2) | (left << 30)) & m
        left = (left + right) & m
    return struct.pack("<2I", left, right)


def michael_recover_key(data: bytes, mic: bytes) -> bytes:
    """Recover the Michael key from a message and its MIC by running Michael backwards.

    Michael's block function is a bijection, so one known (data, MIC) pair yields the key: the
    reason a TKIP nonce reuse lets an attacker forge frames (KRACK paper 6.1).
    """
    if len(mic) != 8:
        raise CryptoError(f"Michael MIC must be 8 octets, not {len(mic)}")
    left, right = struct.unpack("<2I", mic)
    m = _MASK32
    for word in reversed(_michael_words(data)):
        left = (left - right) & m
        right ^= ((left >> 2) | (left << 30)) & m
        left = (left - right) & m
        right ^= ((left << 3) | (left >> 29)) & m
        left = (left - right) & m
        right ^= ((left & 0xFF00FF00) >> 8) | ((left & 0x00FF00FF) << 8)
        left = (left - right) & m
        right ^= ((left << 17) | (left >> 15)) & m
        left ^= word
    return struct.pack("<2I", left, right)


def michael_header(header: bytes) -> bytes:
    """DA || SA || Priority || 0 0 0, the Michael prefix of an MSDU (12.5.2.3.3)."""
    if len(header) < 24:
        raise DecryptionError("header", f"MAC header of {len(header)} octets is shorter than 24")
    ds = header[1] & 0x03
    if ds == 0:
        da, sa = header[4:10], header[10:16]
    elif ds == 1:  # ToDS: A1 = BSSID, A2 = SA, A3 = DA
        da, sa = header[16:22], header[10:16]
    elif ds == 2:  # FromDS: A1 = DA, A2 = BSSID, A3 = SA
        da, sa = header[4:10], header[16:22]
    else:
        if len(header) < 30:
            raise DecryptionError("header", "four-address header without A4")
        da, sa = header[16:22], header[24:30]
    return b"".join((da, sa, bytes((frame_priority(header), 0, 0, 0))))


# --- MPDU encapsulation (12.5.2.2) ----------------------------------------------------------------


def tkip_tsc(body: bytes) -> int:
    """The 48-bit TSC of a TKIP body: TSC1 WEPSeed TSC0 KeyID TSC2 TSC3 TSC4 TSC5."""
    if len(body) < 8:
        raise DecryptionError("short", "body shorter than the 8-octet TKIP IV/ExtIV")
    return body[2] | (body[0] << 8) | (body[4] << 16) | (body[5] << 24) | (body[6] << 32) | (body[7] << 40)


def tkip_iv(tsc: int, key_id: int) -> bytes:
    """The 8-octet TKIP IV/ExtIV for a TSC and key ID."""
    if not 0 <= tsc < 1 << 48:
        raise CryptoError(f"TSC {tsc} does not fit in 48 bits")
    if not 0 <= key_id <= 3:
        raise CryptoError(f"key ID {key_id} is not 0..3")
    tsc1 = (tsc >> 8) & 0xFF
    return bytes((tsc1, (tsc1 | 0x20) & 0x7F, tsc & 0xFF, 0x20 | (key_id << 6))) + (tsc >> 16).to_bytes(
        4, "little"
    )


class TKIP:
    """A TKIP temporal key (32 octets: 16-octet encryption key, then the two Michael keys).

    Phase-1 output is cached per (TA, IV32), which changes only every 65536 frames.
    """

    __slots__ = ("_p1k_cache", "_tk16", "tk")

    def __init__(self, tk32: bytes) -> None:
        if len(tk32) != 32:
            raise CryptoError(f"TKIP TK must be 32 octets, not {len(tk32)}")
        self.tk = bytes(tk32)
        self._tk16 = self.tk[:16]
        self._p1k_cache: dict[tuple[bytes, int], tuple[int, ...]] = {}

    def __repr__(self) -> str:
        return "TKIP(<256-bit key>)"

    def _rc4_key(self, ta: bytes, tsc: int) -> bytes:
        iv32 = tsc >> 16
        cache_key = (ta, iv32)
        p1k = self._p1k_cache.get(cache_key)
        if p1k is None:
            if len(self._p1k_cache) >= _PHASE1_CACHE_MAX:
                self._p1k_cache.clear()
            p1k = self._p1k_cache[cache_key] = phase1(self._tk16, ta, iv32)
        return phase2(self._tk16, p1k, tsc & _MASK16)

    def decrypt(self, header: bytes, body: bytes, *, michael_key: bytes | None) -> bytes:
        """Plaintext of a TKIP MPDU without ICV, and without the Michael MIC when unfragmented.

        The ICV is always checked (reason "icv"). The Michael MIC is checked (reason "michael")
        when ``michael_key`` is given and the MPDU is a whole MSDU (MoreFrag 0, fragment number
        0); a fragment's payload is returned as is, Michael MIC included if it carries it.
        """
        if len(body) < 12:
            raise DecryptionError("short", f"TKIP body of {len(body)} octets")
        if not body[3] & 0x20:
            raise DecryptionError("ext-iv", "TKIP IV without the ExtIV bit")
        if len(header) < 24:
            raise DecryptionError("header", f"MAC header of {len(header)} octets is shorter than 24")
        ta = bytes(header[10:16])
        plain = rc4(self._rc4_key(ta, tkip_tsc(body)), body[8:])
        icv = zlib.crc32(plain[:-4]).to_bytes(4, "little")
        if not hmac.compare_digest(icv, plain[-4:]):
            raise DecryptionError("icv", "TKIP ICV does not verify")
        unfragmented = not (header[1] & FC1_MOREFRAG) and not (header[22] & 0x0F)
        if not unfragmented:
            return plain[:-4]
        if len(plain) < 12:
            raise DecryptionError("short", "TKIP MSDU shorter than its Michael MIC")
        msdu = plain[:-12]
        if michael_key is not None:
            expected = michael(michael_key, michael_header(header) + msdu)
            if not hmac.compare_digest(expected, plain[-12:-4]):
                raise DecryptionError("michael", "TKIP Michael MIC does not verify")
        return msdu

    def encrypt(self, header: bytes, tsc: int, key_id: int, plaintext: bytes, *, michael_key: bytes) -> bytes:
        """TKIP body for an unfragmented MSDU: IV/ExtIV || RC4(MSDU || Michael MIC || ICV)."""
        iv = tkip_iv(tsc, key_id)
        if len(header) < 24:
            raise DecryptionError("header", f"MAC header of {len(header)} octets is shorter than 24")
        data = bytes(plaintext) + michael(michael_key, michael_header(header) + bytes(plaintext))
        data += zlib.crc32(data).to_bytes(4, "little")
        return iv + rc4(self._rc4_key(bytes(header[10:16]), tsc), data)
