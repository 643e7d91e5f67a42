"""Micro-benchmarks of the per-frame crypto hot paths.

Prints microseconds per decrypt of a whole MPDU (MAC header included in the size) for CCMP-128,
GCMP-128 and TKIP (with the Michael check and without it, phase-1 cached as in a real stream).
Run: python benchmarks/crypto_micro.py [--repeat N]
"""

from __future__ import annotations

import argparse
import timeit

from krackwatch.crypto import CCMP, GCMP, TKIP

QOS_HEADER = bytes.fromhex("8841000002000000000002000000010002000000000010000000")


def _bench(label: str, func, number: int, repeat: int) -> None:
    best = min(timeit.repeat(func, number=number, repeat=repeat)) / number
    print(f"{label:<44} {best * 1e6:8.2f} us")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    tk16, tk32 = bytes(range(16)), bytes(range(32))
    ccmp, gcmp, tkip = CCMP(tk16), GCMP(tk16), TKIP(tk32)
    header = QOS_HEADER
    for size in (100, 1500):
        ccmp_body = ccmp.encrypt(header, 42, 0, bytes(size - len(header) - 8 - 8))
        gcmp_body = gcmp.encrypt(header, 42, 0, bytes(size - len(header) - 8 - 16))
        tkip_body = tkip.encrypt(
            header, 42, 0, bytes(size - len(header) - 8 - 8 - 4), michael_key=tk32[24:32]
        )
        n = 20000 if size == 100 else 5000
        _bench(
            f"CCMP-128 decrypt, {size}-octet MPDU",
            lambda b=ccmp_body: ccmp.decrypt(header, b),
            n,
            args.repeat,
        )
        _bench(
            f"GCMP-128 decrypt, {size}-octet MPDU",
            lambda b=gcmp_body: gcmp.decrypt(header, b),
            n,
            args.repeat,
        )
        _bench(
            f"TKIP decrypt + Michael, {size}-octet MPDU",
            lambda b=tkip_body: tkip.decrypt(header, b, michael_key=tk32[24:32]),
            n // 10,
            args.repeat,
        )
        _bench(
            f"TKIP decrypt (ICV only), {size}-octet MPDU",
            lambda b=tkip_body: tkip.decrypt(header, b, michael_key=None),
            n // 4,
            args.repeat,
        )


if __name__ == "__main__":
    main()
