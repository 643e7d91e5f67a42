"""MAC-header helpers shared by the frame ciphers (hot path: plain indexing, no objects)."""

from __future__ import annotations

from krackwatch.crypto.errors import CryptoError, DecryptionError

# Frame Control octet 1 bits (802.11-2020 9.2.4.1.1).
FC1_MOREFRAG = 0x04
FC1_PROTECTED = 0x40

_TYPE_MGMT = 0x00
_TYPE_DATA = 0x08


def aad_and_priority(header: bytes, force_protected: bool) -> tuple[bytes, int]:
    """AAD of CCMP/GCMP (802.11-2020 12.5.3.3.3) and the nonce flags octet of CCMP (12.5.3.3.4).

    Returns ``(aad, flags)`` where ``flags`` is the QoS TID for QoS Data frames, 0x10 (the
    Management bit) for management frames and 0 otherwise.
    """
    n = len(header)
    if n < 24:
        raise DecryptionError("header", f"MAC header of {n} octets is shorter than 24")
    fc0 = header[0]
    fc1 = header[1]
    prot = FC1_PROTECTED if force_protected else 0
    ftype = fc0 & 0x0C
    if ftype == _TYPE_DATA:
        # Data: subtype bits 4-6 masked; Retry/PwrMgt/MoreData masked; Order masked when QC present.
        # SC: sequence number masked, fragment number kept. QC: only the TID survives (no SPP A-MSDU).
        if fc0 & 0x80:
            if (fc1 & 0x03) == 0x03:
                if n < 32:
                    raise DecryptionError("header", f"QoS 4-address header needs 32 octets, has {n}")
                tid = header[30] & 0x0F
                aad = (
                    bytes((fc0 & 0x8F, (fc1 & 0x47) | prot))
                    + header[4:22]
                    + bytes((header[22] & 0x0F, 0))
                    + header[24:30]
                    + bytes((tid, 0))
                )
                return aad, tid
            if n < 26:
                raise DecryptionError("header", f"QoS Data header needs 26 octets, has {n}")
            tid = header[24] & 0x0F
            return bytes((fc0 & 0x8F, (fc1 & 0x47) | prot)) + header[4:22] + bytes(
                (header[22] & 0x0F, 0, tid, 0)
            ), tid
        if (fc1 & 0x03) == 0x03:
            if n < 30:
                raise DecryptionError("header", f"4-address Data header needs 30 octets, has {n}")
            aad = (
                bytes((fc0 & 0x8F, (fc1 & 0xC7) | prot))
                + header[4:22]
                + bytes((header[22] & 0x0F, 0))
                + header[24:30]
            )
            return aad, 0
        return bytes((fc0 & 0x8F, (fc1 & 0xC7) | prot)) + header[4:22] + bytes((header[22] & 0x0F, 0)), 0
    if ftype == _TYPE_MGMT:
        return bytes((fc0, (fc1 & 0xC7) | prot)) + header[4:22] + bytes((header[22] & 0x0F, 0)), 0x10
    raise DecryptionError("header", "only Data and Management frames are protected by CCMP/GCMP")


def pn_header(pn: int, key_id: int) -> bytes:
    """The 8-octet CCMP/GCMP header: PN0 PN1 0 KeyID-octet PN2 PN3 PN4 PN5 (12.5.3.2)."""
    if not 0 <= pn < 1 << 48:
        raise CryptoError(f"PN {pn} does not fit in 48 bits")
    if not 0 <= key_id <= 3:
        raise CryptoError(f"key ID {key_id} is not 0..3")
    return bytes(
        (
            pn & 0xFF,
            (pn >> 8) & 0xFF,
            0,
            0x20 | (key_id << 6),
            (pn >> 16) & 0xFF,
            (pn >> 24) & 0xFF,
            (pn >> 32) & 0xFF,
            (pn >> 40) & 0xFF,
        )
    )


def pn_from_body(body: bytes) -> int:
    """The PN carried in a CCMP/GCMP header."""
    if len(body) < 8:
        raise DecryptionError("short", "body shorter than the 8-octet CCMP/GCMP header")
    return body[0] | (body[1] << 8) | (body[4] << 16) | (body[5] << 24) | (body[6] << 32) | (body[7] << 40)


def pn_be(pn: int) -> bytes:
    """PN5..PN0, the order the nonces use."""
    return pn.to_bytes(6, "big")


def frame_priority(header: bytes) -> int:
    """QoS TID of a QoS Data frame, else 0."""
    fc0 = header[0]
    if fc0 & 0x8C != 0x88:
        return 0
    off = 30 if (header[1] & 0x03) == 0x03 else 24
    if len(header) <= off:
        raise DecryptionError("header", "QoS Data header without QoS Control")
    return header[off] & 0x0F
