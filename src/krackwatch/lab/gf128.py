"""GF(2^128) as GCM/GCMP uses it, polynomials over it, and the "forbidden attack" on a repeated nonce.

GCM multiplies in GF(2^128) modulo x^128 + x^7 + x^2 + x + 1 with a reflected bit order: the most
significant bit of octet 0 of a block is the coefficient of x^0 (NIST SP 800-38D 6.3). Internally an
element is a Python int whose bit k is the coefficient of x^k, so that carry-less multiplication is a
plain shift-and-xor; :func:`from_block` / :func:`to_block` convert at the edges.

When two GCMP frames share a nonce (A2 || PN) under one TK, the mask E_K(J0) cancels from their tags
and T1 + T2 = GHASH_H(A1, C1) + GHASH_H(A2, C2), a polynomial equation in the hash key H = E_K(0^128)
whose roots are found with the Cantor-Zassenhaus method (Joux, "Authentication failures in NIST
version of GCM", 2006). H authenticates both directions of the link, so it lets an attacker forge
frames (KRACK paper, CCS 2017, 6.1).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

__all__ = [
    "Poly",
    "forbidden_attack_poly",
    "from_block",
    "gf_inv",
    "gf_mul",
    "gf_pow",
    "ghash",
    "ghash_blocks",
    "poly_roots",
    "recover_hash_key",
    "to_block",
]

_MASK = (1 << 128) - 1
# x^128 = x^7 + x^2 + x + 1
_LOW = 0x87
_REVBITS = bytes(int(f"{b:08b}"[::-1], 2) for b in range(256))


def from_block(block: bytes) -> int:
    """The field element a 16-octet GCM block stands for."""
    return int.from_bytes(bytes(block).translate(_REVBITS), "little")


def to_block(x: int) -> bytes:
    """The 16-octet GCM block of a field element."""
    return x.to_bytes(16, "little").translate(_REVBITS)


def _reduce(r: int) -> int:
    hi = r >> 128
    while hi:
        r = (r & _MASK) ^ hi ^ (hi << 1) ^ (hi << 2) ^ (hi << 7)
        hi = r >> 128
    return r


def gf_mul(a: int, b: int) -> int:
    """Product in GF(2^128): carry-less multiplication with 4-bit windows, then reduction."""
    if not a or not b:
        return 0
    t = [0, a, a << 1, 0, a << 2, 0, 0, 0, a << 3, 0, 0, 0, 0, 0, 0, 0]
    t[3] = t[2] ^ a
    t[5] = t[4] ^ a
    t[6] = t[4] ^ t[2]
    t[7] = t[6] ^ a
    for k in range(9, 16):
        t[k] = t[8] ^ t[k - 8]
    r = 0
    for shift in range(124, -4, -4):
        r = (r << 4) ^ t[(b >> shift) & 15]
    return _reduce(r)


def gf_pow(a: int, e: int) -> int:
    result = 1
    while e:
        if e & 1:
            result = gf_mul(result, a)
        a = gf_mul(a, a)
        e >>= 1
    return result


def gf_inv(a: int) -> int:
    """Multiplicative inverse (extended Euclid over GF(2)[x]); ZeroDivisionError for 0."""
    if not a:
        raise ZeroDivisionError("0 has no inverse in GF(2^128)")
    r0, r1 = (1 << 128) | _LOW, a
    s0, s1 = 0, 1
    while r1:
        shift = r0.bit_length() - r1.bit_length()
        if shift < 0:
            r0, r1, s0, s1 = r1, r0, s1, s0
            continue
        r0 ^= r1 << shift
        s0 ^= s1 << shift
        if r0.bit_length() < r1.bit_length():
            r0, r1, s0, s1 = r1, r0, s1, s0
    # r0 == 1 now; s0 may exceed 128 bits before reduction
    return _reduce(s0)


def _blocks(data: bytes) -> Iterable[int]:
    for i in range(0, len(data), 16):
        yield from_block(data[i : i + 16].ljust(16, b"\x00"))


def ghash_blocks(aad: bytes, ciphertext: bytes) -> list[int]:
    """The GHASH input as field elements: AAD and ciphertext zero-padded, then the bit lengths."""
    blocks = list(_blocks(aad)) + list(_blocks(ciphertext))
    blocks.append(from_block((len(aad) * 8).to_bytes(8, "big") + (len(ciphertext) * 8).to_bytes(8, "big")))
    return blocks


def ghash(h: int, aad: bytes, ciphertext: bytes) -> int:
    """GHASH_H(A, C) (SP 800-38D 6.4) as a field element."""
    y = 0
    for b in ghash_blocks(aad, ciphertext):
        y = gf_mul(y ^ b, h)
    return y


# --------------------------------------------------------------------------- polynomials over GF(2^128)

Poly = list[int]  # coefficients, lowest degree first, no trailing zeros


def _trim(p: Poly) -> Poly:
    while p and not p[-1]:
        p.pop()
    return p


def _monic(p: Poly) -> Poly:
    inv = gf_inv(p[-1])
    return [gf_mul(c, inv) for c in p]


def _mod(a: Poly, m: Poly) -> Poly:
    """a mod m for monic m."""
    a = list(a)
    dm = len(m) - 1
    for i in range(len(a) - 1, dm - 1, -1):
        c = a[i]
        if c:
            base = i - dm
            for j in range(dm):
                if m[j]:
                    a[base + j] ^= gf_mul(c, m[j])
            a[i] = 0
    return _trim(a[:dm] if len(a) > dm else a)


def _mulmod(a: Poly, b: Poly, m: Poly) -> Poly:
    if not a or not b:
        return []
    out = [0] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        if x:
            for j, y in enumerate(b):
                if y:
                    out[i + j] ^= gf_mul(x, y)
    return _mod(out, m)


def _sqrmod(a: Poly, m: Poly) -> Poly:
    # Characteristic 2: (sum a_i X^i)^2 = sum a_i^2 X^2i.
    out = [0] * (2 * len(a) - 1) if a else []
    for i, x in enumerate(a):
        if x:
            out[2 * i] = gf_mul(x, x)
    return _mod(out, m)


def _gcd(a: Poly, b: Poly) -> Poly:
    a, b = _trim(list(a)), _trim(list(b))
    while b:
        b = _monic(b)
        a, b = b, _mod(a, b)
    return _monic(a) if a else a


def _frobenius_power(base: Poly, m: Poly, times: int) -> list[Poly]:
    """base^(2^i) mod m for i = 0 .. times (inclusive)."""
    out = [_mod(base, m)]
    for _ in range(times):
        out.append(_sqrmod(out[-1], m))
    return out


def _split(g: Poly, rng: random.Random, roots: list[int]) -> None:
    if len(g) == 2:
        roots.append(g[0])  # monic X + c has root c (characteristic 2)
        return
    while True:
        delta = rng.getrandbits(128) or 1
        # Trace map Tr(delta X) = sum_{i<128} (delta X)^(2^i): its values are 0 or 1 at the roots of g,
        # so gcd(g, Tr) separates the roots into two sets (equal-degree factorisation, degree 1).
        trace: Poly = []
        for term in _frobenius_power([0, delta], g, 127):
            n = max(len(trace), len(term))
            trace = _trim([(trace[i] if i < len(trace) else 0) ^ (term[i] if i < len(term) else 0)
                           for i in range(n)])
        h = _gcd(g, trace)
        if 1 < len(h) < len(g):
            _split(h, rng, roots)
            _split(_divexact(g, h), rng, roots)
            return


def _divexact(a: Poly, b: Poly) -> Poly:
    """a / b for monic b dividing a."""
    a = list(a)
    db = len(b) - 1
    q = [0] * (len(a) - db)
    for i in range(len(a) - 1, db - 1, -1):
        c = a[i]
        if c:
            q[i - db] = c
            for j in range(db + 1):
                if b[j]:
                    a[i - db + j] ^= gf_mul(c, b[j])
    return _trim(q)


def poly_roots(p: Sequence[int], *, seed: int = 0) -> list[int]:
    """Every root in GF(2^128) of the polynomial ``p`` (coefficients lowest degree first), sorted."""
    p = _trim(list(p))
    if len(p) < 2:
        return []
    m = _monic(p)
    # Roots are exactly the linear factors: gcd(p, X^(2^128) - X).
    x_q = _frobenius_power([0, 1], m, 128)[-1]
    diff = list(x_q) + [0] * max(0, 2 - len(x_q))
    diff[1] ^= 1
    g = _gcd(m, _trim(diff))
    roots: list[int] = []
    if len(g) >= 2:
        _split(g, random.Random(seed), roots)
    return sorted(roots)


def forbidden_attack_poly(aad1: bytes, c1: bytes, t1: bytes, aad2: bytes, c2: bytes, t2: bytes) -> Poly:
    """The polynomial in H whose roots contain the hash key of two GCM messages sharing a nonce.

    GHASH is a polynomial in H without constant term: sum B_i H^(n-i+1). The tag adds E_K(J0), which
    is the same for both messages because the nonce is, so the sum of both equations cancels it.
    """
    b1, b2 = ghash_blocks(aad1, c1), ghash_blocks(aad2, c2)
    n = max(len(b1), len(b2))
    poly = [0] * (n + 1)
    for blocks in (b1, b2):
        k = len(blocks)
        for i, b in enumerate(blocks):
            poly[k - i] ^= b
    poly[0] ^= from_block(t1) ^ from_block(t2)
    return _trim(poly)


def recover_hash_key(
    pairs: Sequence[tuple[bytes, bytes, bytes, bytes, bytes, bytes]], *, seed: int = 0
) -> int | None:
    """The GCM hash key H shared by every nonce-reusing pair, or None when it is not pinned down.

    Each pair is ``(aad1, c1, tag1, aad2, c2, tag2)``. The roots of the lowest-degree pair's polynomial
    are the candidates; the other pairs' polynomials must vanish at H too, which leaves one candidate
    with overwhelming probability.
    """
    polys = [forbidden_attack_poly(*p) for p in pairs]
    polys = [p for p in polys if len(p) > 1]
    if not polys:
        return None
    polys.sort(key=len)
    candidates = [h for h in poly_roots(polys[0], seed=seed) if h]
    for other in polys[1:]:
        candidates = [h for h in candidates if _eval(other, h) == 0]
        if len(candidates) <= 1:
            break
    return candidates[0] if len(candidates) == 1 else None


def _eval(p: Poly, x: int) -> int:
    y = 0
    for c in reversed(p):
        y = gf_mul(y, x) ^ c
    return y
