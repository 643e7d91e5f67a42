"""Name and version normalisation shared by the advisory knowledge base and the fleet inventory.

Pure functions, no I/O. Three jobs:

* ``normalize_vendor`` turns any spelling of a company ("Cisco Systems, Inc", "TP-LINK TECHNOLOGIES CO.,LTD.",
  an IEEE OUI registrant, a CERT/CC vendor record) into one canonical key, so that a vendor derived from a MAC
  prefix and a vendor named in an advisory meet on the same key.
* ``model_key`` makes hardware model names comparable ("EAP350 v2" == "EAP350V2" == "EnGenius eap350-v2").
* ``parse_version`` / ``version_at_least`` compare firmware and package versions as versions, never as text.

Vendor keys are lower-case letters and digits with no separators ("tplink", "redhat", "hpe"; accents are
dropped, so Latin-script names give ASCII keys). Decisions that are not mechanical, each reflected in
``_VENDORS`` below:

* HP Inc. (``hp``: PCs, printers) and Hewlett Packard Enterprise (``hpe``: servers, networking) are different
  companies since the 2015 split and keep different keys. IEEE blocks registered to the pre-split
  "Hewlett Packard"/"Hewlett-Packard" get a third key, ``hewlettpackard``, whose family (``vendor_family``) is
  both successors: a MAC prefix alone cannot tell which of the two now answers for the device.
* Brands with their own KRACK advisories keep their own key and name their parent in ``vendor_family``:
  Aruba (HPE), Meraki (Cisco), Linksys (Belkin, its owner in 2017), Nest (Google), Xfinity (Comcast),
  Senao (the maker of EnGenius hardware, whose IEEE blocks many EnGenius devices carry).
* Acquired chipset makers fold into the acquirer, as their advisories did: Atheros -> ``qualcomm``,
  Ralink -> ``mediatek``. LEDE (merged back into OpenWrt in 2018) -> ``openwrt``. Raspbian -> ``raspberrypi``
  (the Raspberry Pi Foundation / Trading companies ship it; no separate advisory exists).
* "Android", "Android Open Source Project" and "Google (Android)" -> ``android`` (the AOSP bulletin);
  plain "Google" (Pixel/Nexus, Nest Wifi...) stays ``google``; ``vendor_family("android")`` includes google.
* Placeholders ("unknown", "n/a", "none", "-") give the empty key, meaning "vendor not known".

Model keys keep hardware-revision suffixes: EAP350 and EAP350 v2 are different boards with different patch
status in EnGenius's own table, so "EAP350 v2", "EAP350V2" and "eap350-rev2" all give ``EAP350V2`` while
plain "EAP350" stays ``EAP350``; ``split_hw_revision`` exposes the parts for a caller that wants a fallback.
"""

from __future__ import annotations

import html
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

__all__ = [
    "Version",
    "known_vendor_keys",
    "model_key",
    "normalize_vendor",
    "parse_version",
    "split_hw_revision",
    "vendor_display",
    "vendor_family",
    "version_at_least",
]

# ----------------------------------------------------------------------------------------------------------
# Vendor names
# ----------------------------------------------------------------------------------------------------------

# Legal-form words: the first one found after the first token ends the name ("Samsung Electronics Co.,
# Ltd., Memory Division" -> "samsung electronics"). "S.A.", "K.K." arrive as "sa", "kk" (initials merged).
_LEGAL_FORMS = frozenset(
    (
        "inc", "incorporated", "corp", "corporation", "co", "company", "ltd", "limited", "llc", "lp", "llp",
        "plc", "gmbh", "ag", "kg", "sa", "sas", "sarl", "srl", "spa", "ab", "oy", "oyj", "aps", "bv", "nv",
        "pty", "pte", "kk", "sdn", "bhd", "sia", "fzco", "fze", "private", "pvt"
    )
)

# Descriptive words stripped from the end of a name, one at a time, while more than one word is left
# ("Ubiquiti Networks" -> "ubiquiti", "Intel Corporate" -> "intel"). Not "wireless", "linux", "enterprise":
# "Sierra Wireless", "Arch Linux" and "Hewlett Packard Enterprise" would lose their identity.
_DESCRIPTIVE = frozenset(
    (
        "networks", "network", "networking", "technologies", "technology", "tech", "communications",
        "communication", "comm", "telecom", "systems", "system", "electronics", "electronic", "semiconductor",
        "semiconductors", "software", "solutions", "international", "intl", "group", "holdings", "holding",
        "industries", "labs", "laboratories", "computer", "computers", "device", "devices", "headquarters",
        "corporate", "mobile", "mobility", "project", "foundation", "trading", "components", "com"
    )
)

_PLACEHOLDERS = frozenset({"unknown", "na", "none", "null", "nil", "tbd", "unspecified", "other", "generic"})

# (canonical key, display name, parent keys, other spellings). Each spelling is matched on its compact form
# (letters and digits only) against every intermediate form of an input name, so a spelling only needs the
# distinctive core ("Hangzhou Hikvision Digital"); corporate suffixes are removed mechanically. Spellings come
# from the vendor columns of the shared advisory CSVs (CERT/CC, krackinfo, vendor fixes) and from the IEEE
# MA-L registrant names of the same companies.
_VENDORS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("3com", "3Com", (), ()),
    ("9front", "9front", (), ()),
    ("access", "ACCESS", (), ()),
    ("acer", "Acer", (), ()),
    ("actiontec", "Actiontec", (), ()),
    ("adtran", "ADTRAN", (), ()),
    ("aerohive", "Aerohive", (), ()),
    ("alcatellucent", "Alcatel-Lucent Enterprise", (), ("Alcatel-Lucent Enterprise", "ALE")),
    ("alpinelinux", "Alpine Linux", (), ()),
    ("amazon", "Amazon", (), ("Amazon.com", "Amazon Technologies", "Blink by Amazon")),
    ("android", "Android (AOSP)", ("google",), ("Android Open Source Project", "AOSP", "Google (Android)")),
    ("apple", "Apple", (), ()),
    ("archlinux", "Arch Linux", (), ()),
    ("arduino", "Arduino", (), ()),
    ("arista", "Arista Networks", (), ()),
    ("arris", "ARRIS", (), ()),
    ("aruba", "Aruba Networks (HPE)", ("hpe",), ("Aruba Networks, an HPE company", "Aruba HPE")),
    ("asus", "ASUS", (), ("ASUSTeK", "ASUSTeK Computer")),
    ("att", "AT&T", (), ()),
    ("avaya", "Avaya", (), ()),
    ("avm", "AVM", (), ("AVM Audiovisuelles Marketing und Computersysteme", "AVM FRITZ!Box", "FRITZ!Box")),
    ("avmelectronics", "AVM Electronics", (), ("AVM Electronics",)),
    ("axis", "Axis Communications", (), ()),
    ("axon", "Axon (TASER)", (), ("TASER", "Taser International")),
    ("axonnetworks", "Axon Networks", (), ("Axon Networks",)),
    ("barnesandnoble", "Barnes & Noble", (), ("Barnes and Noble",)),
    ("barracuda", "Barracuda Networks", (), ()),
    ("bearextender", "BearExtender", (), ("Bearifi",)),
    ("belkin", "Belkin", (), ("Belkin, Linksys, and Wemo", "Wemo")),
    ("bintecelmeg", "bintec elmeg", (), ("Teldat",)),
    ("blackberry", "BlackBerry", (), ()),
    ("bluecoat", "Blue Coat", (), ()),
    ("broadcom", "Broadcom", (), ("Broadcom / Cypress",)),
    ("brocade", "Brocade", (), ("Brocade Communication Systems",)),
    ("brother", "Brother", (), ()),
    ("buffalo", "Buffalo (MELCO)", (), ("MELCO",)),
    ("ca", "CA Technologies", (), ()),
    ("cambium", "Cambium Networks", (), ()),
    ("canon", "Canon", (), ()),
    ("centos", "CentOS", ("redhat",), ()),
    ("certvde", "CERT@VDE", (), ()),
    ("checkpoint", "Check Point", (), ("Check Point Software",)),
    ("checkpointsystems", "Checkpoint Systems", (), ("Checkpoint Systems",)),
    ("cisco", "Cisco", (), ("Cisco Systems", "Cisco SPVTG")),
    ("cmx", "CMX Systems", (), ()),
    ("comcast", "Comcast", (), ()),
    ("connmann", "ConnMan", (), ("ConnMan",)),
    ("contikios", "Contiki OS", (), ("Contiki",)),
    ("coreos", "CoreOS", (), ()),
    ("cradlepoint", "Cradlepoint", (), ()),
    ("cypress", "Cypress Semiconductor", (), ("Cypress / Particle",)),
    ("cypresselectronics", "Cypress Electronics", (), ("Cypress Electronics",)),
    ("cypresssolutions", "Cypress Solutions", (), ("Cypress Solutions",)),
    ("cypresstechnology", "Cypress Technology", (), ("Cypress Technology",)),
    ("dahua", "Dahua", (), ("Zhejiang Dahua", "Zhejiang Dahua TechnologyCo")),
    ("ddwrt", "DD-WRT", (), ()),
    ("debian", "Debian", (), ("Debian GNU/Linux", "Debian LTS", "Debian Project")),
    ("dell", "Dell", (), ()),
    ("dellemc", "Dell EMC", (), ()),
    ("denon", "Denon", (), ()),
    ("desktopbsd", "DesktopBSD", (), ()),
    ("devicescape", "Devicescape", (), ()),
    ("devolo", "devolo", (), ()),
    ("digi", "Digi International", (), ()),
    ("dlink", "D-Link", (), ("D-Link Middle East",)),
    ("dnsmasq", "dnsmasq", (), ()),
    ("dragonflybsd", "DragonFly BSD", (), ()),
    ("draytek", "DrayTek", (), ()),
    ("ecobee", "ecobee", (), ()),
    ("edimax", "Edimax", (), ()),
    ("eero", "eero", (), ()),
    ("efficientip", "EfficientIP", (), ()),
    ("elecom", "ELECOM", (), ()),
    ("emc", "EMC", (), ()),
    ("endian", "Endian", (), ()),
    ("enea", "ENEA", (), ()),
    ("engenius", "EnGenius", (), ()),
    ("ericsson", "Ericsson", (), ()),
    ("esp8266arduino", "esp8266/Arduino core", (), ()),
    ("espressif", "Espressif Systems", (), ()),
    ("europeanregistryforinternetdomains", "EURid", (), ("EURid",)),
    ("extreme", "Extreme Networks", (), ()),
    ("f5", "F5 Networks", (), ()),
    ("fedora", "Fedora", ("redhat",), ()),
    ("force10", "Force10 Networks", (), ()),
    ("fortinet", "Fortinet", (), ()),
    ("foundrybrocade", "Foundry (Brocade)", (), ()),
    ("freebsd", "FreeBSD", (), ()),
    ("fsecure", "F-Secure", (), ()),
    ("gdnsd", "gdnsd", (), ()),
    ("gentoo", "Gentoo", (), ("Gentoo Linux",)),
    ("gnuadns", "GNU adns", (), ()),
    ("gnuglibc", "GNU C Library", (), ()),
    ("google", "Google", (), ()),
    ("hardenedbsd", "HardenedBSD", (), ()),
    ("hewlettpackard", "Hewlett-Packard (pre-2015)", ("hp", "hpe"), ("Hewlett Packard",)),
    ("hikvision", "Hikvision", (), ("Hangzhou Hikvision", "Hangzhou Hikvision Digital",
        "Prama Hikvision India")),
    ("hitachi", "Hitachi", (), ()),
    ("honeywell", "Honeywell", (), ()),
    ("hostap", "hostap (w1.fi)", (), ("w1.fi", "hostap (w1.fi)", "wpa_supplicant", "hostapd",
        "wpa supplicant")),
    ("hp", "HP Inc.", (), ("HP Inc", "HP Inc.")),
    ("hpe", "Hewlett Packard Enterprise", (), ("Hewlett Packard Enterprise", "HPN Supply Chain")),
    ("htc", "HTC", (), ()),
    ("huawei", "Huawei", (), ()),
    ("ibm", "IBM", (), ()),
    ("icotera", "Icotera", (), ()),
    ("icscert", "ICS-CERT", (), ()),
    ("infoblox", "Infoblox", (), ()),
    ("intel", "Intel", (), ()),
    ("iodata", "I-O DATA", (), ()),
    ("ipfire", "IPFire", (), ()),
    ("irobot", "iRobot", (), ()),
    ("isc", "Internet Systems Consortium", (), ("Internet Systems Consortium",
        "Internet Systems Consortium - DHCP", "ISC-DHCP")),
    ("jh", "JH Software", (), ()),
    ("jolla", "Jolla", (), ()),
    ("joyent", "Joyent", (), ()),
    ("juniper", "Juniper Networks", (), ()),
    ("junipersystems", "Juniper Systems", (), ("Juniper Systems",)),
    ("kpn", "KPN", (), ()),
    ("kyocera", "Kyocera", (), ()),
    ("lancom", "LANCOM Systems", (), ()),
    ("lantronix", "Lantronix", (), ()),
    ("lenovo", "Lenovo", (), ()),
    ("lg", "LG Electronics", (), ()),
    ("lifx", "LIFX", (), ()),
    ("lineageos", "LineageOS", (), ()),
    ("linksys", "Linksys", ("belkin",), ("Cisco-Linksys", "The Linksys Group")),
    ("linux", "Linux", (), ()),
    ("logitech", "Logitech", (), ()),
    ("luxul", "Luxul", (), ()),
    ("lynx", "Lynx Software Technologies", (), ()),
    ("m0n0wall", "m0n0wall", (), ()),
    ("marantz", "Marantz", (), ()),
    ("marvell", "Marvell", (), ()),
    ("mcafee", "McAfee", (), ()),
    ("mediatek", "MediaTek", (), ("Ralink", "Ralink Technology")),
    ("medtronic", "Medtronic", (), ()),
    ("meraki", "Cisco Meraki", ("cisco",), ("Cisco Meraki",)),
    ("microchip", "Microchip Technology", (), ()),
    ("microsoft", "Microsoft", (), ("Microsoft XCG",)),
    ("midnightbsd", "MidnightBSD", (), ()),
    ("mikrotik", "MikroTik", (), ("Mikrotikls", "Mikrotikls SIA", "Routerboard.com", "Routerboard")),
    ("mojo", "Mojo Networks", (), ()),
    ("motorola", "Motorola", (), ()),
    ("nec", "NEC", (), ("NEC ATERM",)),
    ("nest", "Nest Labs", ("google",), ()),
    ("netbsd", "NetBSD", (), ()),
    ("netgear", "NETGEAR", (), ()),
    ("nexenta", "Nexenta", (), ()),
    ("nikon", "Nikon", (), ()),
    ("nintendo", "Nintendo", (), ()),
    ("nlnet", "NLnet Labs", (), ()),
    ("nokia", "Nokia", (), ()),
    ("nominum", "Nominum", (), ()),
    ("nvidia", "NVIDIA", (), ()),
    ("omnirom", "OmniROM", (), ()),
    ("omniti", "OmniTI", (), ()),
    ("oneplus", "OnePlus", (), ()),
    ("onkyo", "Onkyo", (), ()),
    ("openbsd", "OpenBSD", (), ()),
    ("opendns", "OpenDNS", (), ()),
    ("openindiana", "OpenIndiana", (), ()),
    ("openmesh", "Open Mesh", (), ("Open-Mesh / CloudTrax", "CloudTrax")),
    ("openwall", "Openwall", (), ("Openwall GNU/*/Linux",)),
    ("openwrt", "OpenWrt (LEDE)", (), ("LEDE", "LEDE Project", "LEDE / OpenWrt")),
    ("opnsense", "OPNsense", (), ()),
    ("oracle", "Oracle", (), ()),
    ("oryxembedded", "Oryx Embedded", (), ()),
    ("pakedge", "Pakedge", (), ()),
    ("particle", "Particle", (), ()),
    ("peplink", "Peplink", (), ()),
    ("petnetelectricimp", "PetNet & Electric Imp", (), ()),
    ("pfsense", "pfSense (Netgate)", (), ("Netgate",)),
    ("philips", "Philips", (), ()),
    ("pioneer", "Pioneer", (), ()),
    ("planex", "PLANEX", (), ()),
    ("powerdns", "PowerDNS", (), ()),
    ("pulsesecure", "Pulse Secure", (), ()),
    ("qnx", "QNX", (), ()),
    ("quadros", "Quadros Systems", (), ()),
    ("qualcomm", "Qualcomm", (), ("Qualcomm Atheros", "Atheros", "QCA")),
    ("quantenna", "Quantenna", (), ()),
    ("rachio", "Rachio", (), ()),
    ("raspberrypi", "Raspberry Pi", (), ("Raspbian", "Raspbian (Raspberry Pi)", "Raspberry Pi Raspbian")),
    ("reactos", "ReactOS", (), ()),
    ("realtek", "Realtek", (), ()),
    ("redhat", "Red Hat", (), ()),
    ("redpinesignals", "Redpine Signals", (), ()),
    ("ring", "Ring", (), ()),
    ("ringsolutions", "Ring Solutions", (), ("Ring Solutions",)),
    ("riverbed", "Riverbed", (), ()),
    ("rocketrtos", "Rocket RTOS", (), ()),
    ("rockwellautomation", "Rockwell Automation", (), ()),
    ("rosewill", "Rosewill", (), ()),
    ("ruckus", "Ruckus Wireless", (), ("Ruckus Wireless",)),
    ("safenet", "SafeNet", (), ()),
    ("sagemcom", "Sagemcom", (), ("Sagemcom Broadband",)),
    ("samsung", "Samsung", (), ()),
    ("secure64", "Secure64", (), ()),
    ("senao", "Senao", ("engenius",), ()),
    ("sharp", "Sharp", (), ()),
    ("siemens", "Siemens", (), ()),
    ("sierrawireless", "Sierra Wireless", (), ()),
    ("slackware", "Slackware", (), ("Slackware Linux",)),
    ("smoothwall", "Smoothwall", (), ()),
    ("snapav", "SnapAV", (), ()),
    ("snort", "Snort", (), ()),
    ("sonicwall", "SonicWall", (), ()),
    ("sonos", "Sonos", (), ()),
    ("sony", "Sony", (), ("Sony Interactive Entertainment", "Sony Computer Entertainment America",
        "Sony Home Entertainment&Sound Products", "Sony Video & Sound Products", "Sony Imaging Products",
        "SONY Visual Products")),
    ("sophos", "Sophos", (), ("Sophos AP",)),
    ("sourcefire", "Sourcefire", (), ()),
    ("stryker", "Stryker", (), ()),
    ("suse", "SUSE", (), ("SUSE Linux", "openSUSE", "SUSE / openSUSE")),
    ("swisscom", "Swisscom", (), ()),
    ("symantec", "Symantec", (), ()),
    ("synology", "Synology", (), ()),
    ("tcpwave", "TCPWave", (), ()),
    ("technicolor", "Technicolor", (), ("Technicolor Delivery Technologies Belgium", "Technicolor CH USA")),
    ("tesco", "Tesco", (), ()),
    ("texasinstruments", "Texas Instruments", (), ()),
    ("tippingpoint", "TippingPoint", (), ()),
    ("tizen", "Tizen", (), ()),
    ("toshibacommerce", "Toshiba Commerce Solutions", (), ()),
    ("toshibaelectronicdevicesstorage", "Toshiba Electronic Devices & Storage", (), ()),
    ("toshibamemory", "Toshiba Memory", (), ()),
    ("tplink", "TP-Link", (), ()),
    ("trueos", "TrueOS", (), ()),
    ("turbolinux", "Turbolinux", (), ()),
    ("turris", "Turris (CZ.NIC)", (), ("CZ.NIC Turris", "Turris Omnia", "CZ.NIC")),
    ("ubiquiti", "Ubiquiti", (), ("Ubiquiti Networks", "UBNT")),
    ("ubuntu", "Ubuntu (Canonical)", (), ("Canonical", "Ubuntu (Canonical)")),
    ("unisys", "Unisys", (), ()),
    ("vmware", "VMware", (), ()),
    ("volumio", "Volumio", (), ()),
    ("watchguard", "WatchGuard", (), ()),
    ("webos", "webOS", (), ()),
    ("welchallyn", "Welch Allyn", (), ()),
    ("wifialliance", "Wi-Fi Alliance", (), ()),
    ("windriver", "Wind River", (), ()),
    ("wiznet", "WIZnet", (), ()),
    ("xfinity", "Xfinity (Comcast)", ("comcast",), ()),
    ("xiaomi", "Xiaomi", (), ("Beijing Xiaomi",)),
    ("xilinx", "Xilinx", (), ()),
    ("xirrus", "Xirrus", (), ()),
    ("yamaha", "Yamaha", (), ()),
    ("yi", "YI Technology (Xiaomi)", ("xiaomi",), ()),
    ("zebra", "Zebra Technologies", (), ()),
    ("zephyr", "Zephyr Project", (), ()),
    ("zoomtelephonics", "Zoom Telephonics", (), ()),
    ("zte", "ZTE", (), ()),
    ("zyxel", "Zyxel", (), ()),
)


def _fold_once(text: str) -> str:
    if "&" in text:
        text = html.unescape(text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.casefold()


def _fold(text: str) -> str:
    """Compatibility-decompose, drop accents, case-fold; repeated until stable so keys are fixed points."""
    for _ in range(4):
        folded = _fold_once(text)
        if folded == text:
            break
        text = folded
    return text


def _compact(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


def _strip_qualifiers(text: str) -> str:
    """Drop bracketed asides, ", a(n) ... company" clauses and all but the first of " / " alternatives."""
    for clause in (", a ", ", an "):
        cut = text.find(clause)
        if cut > 0:
            text = text[:cut]
    slash = text.find(" / ")
    if slash > 0:
        text = text[:slash]
    out: list[str] = []
    depth = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            out.append(" ")
        elif ch in ")]}":
            depth = max(0, depth - 1)
            out.append(" ")
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def _tokens(text: str) -> list[str]:
    raw: list[str] = []
    word: list[str] = []
    for ch in text:
        if ch.isalnum():
            word.append(ch)
        elif word:
            raw.append("".join(word))
            word = []
    if word:
        raw.append("".join(word))
    # Runs of single letters are initials: "S.A." -> "sa", "I-O DATA" -> "io data".
    merged: list[str] = []
    run: list[str] = []
    for tok in raw:
        if len(tok) == 1:
            run.append(tok)
            continue
        if run:
            merged.append("".join(run))
            run = []
        merged.append(tok)
    if run:
        merged.append("".join(run))
    return merged


def _candidates(folded: str) -> list[str]:
    """Compact forms of a folded name, from the whole text to the fully reduced core."""
    out = [_compact(folded)]
    tokens = _tokens(_strip_qualifiers(folded))
    if not tokens:
        tokens = _tokens(folded)
    out.append("".join(tokens))
    for i in range(1, len(tokens)):
        if tokens[i] in _LEGAL_FORMS:
            tokens = tokens[:i]
            out.append("".join(tokens))
            break
    while len(tokens) > 1 and tokens[-1] in _DESCRIPTIVE:
        tokens = tokens[:-1]
        out.append("".join(tokens))
    if len(tokens) > 1 and tokens[0] == "the":
        tokens = tokens[1:]
        out.append("".join(tokens))
    return out


def _build_tables() -> tuple[dict[str, str], dict[str, str], dict[str, tuple[str, ...]]]:
    aliases: dict[str, str] = {}
    display: dict[str, str] = {}
    family: dict[str, tuple[str, ...]] = {}
    for key, shown, parents, spellings in _VENDORS:
        display[key] = shown
        family[key] = (key, *parents)
        for spelling in (key, shown, *spellings):
            compact = _compact(_fold(spelling))
            owner = aliases.setdefault(compact, key)
            if owner != key:
                raise AssertionError(f"vendor spelling {spelling!r} claimed by {owner!r} and {key!r}")
    return aliases, display, family


_ALIASES, _DISPLAY, _FAMILY = _build_tables()


@lru_cache(maxsize=16384)
def normalize_vendor(name: str) -> str:
    """Canonical vendor key for any spelling of a company name; "" when the name carries no vendor.

    Idempotent: ``normalize_vendor(normalize_vendor(x)) == normalize_vendor(x)``.
    """
    folded = _fold(name)
    candidates = _candidates(folded)
    for compact in candidates:
        hit = _ALIASES.get(compact)
        if hit is not None:
            return hit
    result = candidates[-1]
    if result in _PLACEHOLDERS:
        return ""
    return result


def vendor_display(key: str) -> str:
    """Human-readable name for a vendor key (the key itself when the vendor is not in the alias table)."""
    return _DISPLAY.get(key, key)


def vendor_family(key: str) -> tuple[str, ...]:
    """The key followed by the keys of companies whose advisories also cover it (e.g. meraki -> cisco)."""
    return _FAMILY.get(key, (key,) if key else ())


def known_vendor_keys() -> frozenset[str]:
    """Every canonical key of the alias table."""
    return frozenset(_DISPLAY)


# ----------------------------------------------------------------------------------------------------------
# Models
# ----------------------------------------------------------------------------------------------------------

_REVISION_WORDS = ("REV", "VER", "VERSION", "HWV", "HW", "V", "R")


def _revision_token(token: str) -> str | None:
    """'V2', 'REV2', 'HWV3' -> the revision number as text; None when the token is not a revision."""
    for word in _REVISION_WORDS:
        if token.startswith(word) and len(token) > len(word) and token[len(word):].isdigit():
            if word == "R" or (word == "V" and len(token) > 4):
                return None  # "R7000" and "V10000" are model numbers, not revisions
            return token[len(word):].lstrip("0") or "0"
    return None


@lru_cache(maxsize=65536)
def model_key(model: str, vendor: str | None = None) -> str:
    """Comparable model key: upper case, letters and digits only, vendor prefix and noise removed.

    Hardware revisions are kept but written one way: "EAP350 v2", "EAP350-Rev.2", "EAP350 hw v2.0" all give
    "EAP350V2".
    A leading vendor name ("EnGenius ENS620EXT", "TP-Link Archer C7") is dropped when what follows contains a
    digit; ``vendor`` adds that vendor's own spelling to the names recognised.
    """
    folded = unicodedata.normalize("NFKD", model)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).upper()
    words: list[str] = []
    word: list[str] = []
    for ch in folded:
        if ch.isascii() and ch.isalnum():
            word.append(ch)
        elif word:
            words.append("".join(word))
            word = []
    if word:
        words.append("".join(word))
    if not words:
        return ""
    vendor_keys = known_vendor_keys()
    own = normalize_vendor(vendor) if vendor else ""
    for n in (3, 2, 1):
        if len(words) > n and any(ch.isdigit() for w in words[n:] for ch in w):
            prefix = normalize_vendor(" ".join(words[:n]))
            if prefix and (prefix == own or prefix in vendor_keys):
                words = words[n:]
                break
    # Hardware revision at the end: "V2", "V2 0", "REV 2", "HW V2", glued "EAP350V2" is already one token.
    rev: str | None = None
    if len(words) >= 2 and words[-1].isdigit() and _revision_token(words[-2]) is not None:
        # "v2.1" was split on the dot into "V2", "1"; ".0" adds nothing.
        major = _revision_token(words[-2])
        minor = words[-1].lstrip("0")
        rev = f"{major}.{minor}" if minor else major
        words = words[:-2]
    elif len(words) >= 2 and words[-2] in _REVISION_WORDS and words[-1].isdigit() and words[-2] != "R":
        rev = words[-1].lstrip("0") or "0"
        words = words[:-2]
    elif len(words) >= 2 and _revision_token(words[-1]) is not None:
        rev = _revision_token(words[-1])
        words = words[:-1]
    if len(words) >= 2 and words[-1] in ("HW", "HWV"):
        words = words[:-1]
    base = "".join(words)
    if rev is None:
        return base
    if not base:
        return "V" + rev
    return f"{base}V{rev}"


def split_hw_revision(key: str) -> tuple[str, str | None]:
    """Split a model key into (base model, hardware revision): "EAP350V2" -> ("EAP350", "2")."""
    i = key.rfind("V")
    if i >= 3:
        rev = key[i + 1:]
        major, _, minor = rev.partition(".")
        if major.isdigit() and len(major) <= 2 and (not minor or minor.isdigit()) and any(
            ch.isdigit() for ch in key[:i]
        ):
            return key[:i], rev
    return key, None


# ----------------------------------------------------------------------------------------------------------
# Versions
# ----------------------------------------------------------------------------------------------------------

_DIGITS = frozenset("0123456789")
_SEPARATORS = frozenset(" \t-_/(:,;=[{#@+")
_MAX_VERSION_TEXT = 512
_MAX_NUMBER_DIGITS = 18
# Pre-release words and their rank below the final release (PEP 440 / semver / Debian practice).
_PRE_RELEASE = {"dev": -5, "snapshot": -5, "alpha": -4, "beta": -3, "pre": -2, "preview": -2, "rc": -1,
                "cr": -1}
_PRE_RELEASE_SHORT = {"a": -4, "b": -3}  # only when a number follows: "1.0b2" (but "1.0.2b" is a post letter)
# Words in front of a version that name nothing: "firmware 7.7.9" and "7.7.9" are the same product.
_GENERIC_PRODUCT_WORDS = frozenset(
    ("v", "ver", "version", "firmware", "fw", "release", "rel", "build", "software", "sw", "revision", "rev",
     "patch", "level")
)


@dataclass(frozen=True, slots=True, eq=False)
class Version:
    """A parsed version. Ordering and equality use the numbers only (``sort_key``): "v2.4" == "2.4".

    ``known`` is False when the text held no version at all; unknown versions sort before every known one
    (so the order stays total) but ``version_at_least`` answers None for them.
    """

    text: str
    product: str = ""
    epoch: int = 0
    release: tuple[int, ...] = ()
    pre: tuple[str, int] | None = None
    suffix: str = ""
    sort_key: tuple[object, ...] = field(default=(0, ""), repr=False)

    @property
    def known(self) -> bool:
        return self.sort_key[0] == 1

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.sort_key == other.sort_key

    def __hash__(self) -> int:
        return hash(self.sort_key)

    def __lt__(self, other: Version) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.sort_key < other.sort_key  # type: ignore[operator]

    def __le__(self, other: Version) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.sort_key <= other.sort_key  # type: ignore[operator]

    def __gt__(self, other: Version) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.sort_key > other.sort_key  # type: ignore[operator]

    def __ge__(self, other: Version) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.sort_key >= other.sort_key  # type: ignore[operator]

    def __str__(self) -> str:
        return self.text


def _unknown(text: str) -> Version:
    return Version(text=text, sort_key=(0, text))


def _product_key(prefix: str) -> str:
    words = [_compact(w) for w in _fold(prefix).replace("_", " ").replace("-", " ").split()]
    return "".join(w for w in words if w and w not in _GENERIC_PRODUCT_WORDS)


def _read_number(s: str, i: int) -> tuple[int, int] | None:
    j = i
    n = len(s)
    while j < n and s[j] in _DIGITS:
        j += 1
    if j - i > _MAX_NUMBER_DIGITS:
        return None
    return int(s[i:j]), j


_Pieces = tuple[tuple[tuple[int, ...], int], ...]
_NO_PIECES: _Pieces = (((0,), 0),)  # just the end marker


def _pieces(text: str) -> _Pieces | None:
    """Text as alternating (non-digit run, number) pieces ordered like dpkg's verrevcmp.

    Characters rank '~' < end of run < letters (case-insensitive) < anything else, so "1.0~rc1" < "1.0" <
    "1.0a" < "1.0+b1" (Debian Policy 5.6.12). The trailing ((0,), 0) piece stands for the end of the text;
    empty trailing pieces are dropped first so "2.4-0" == "2.4".
    """
    out: list[tuple[tuple[int, ...], int]] = []
    i = 0
    n = len(text)
    while i < n:
        chars: list[int] = []
        while i < n and text[i] not in _DIGITS:
            ch = text[i]
            if ch == "~":
                chars.append(-1)
            elif ch.isascii() and ch.isalpha():
                chars.append(ord(ch.lower()))
            else:
                chars.append(ord(ch) + 256)
            i += 1
        chars.append(0)
        number = 0
        if i < n:
            num = _read_number(text, i)
            if num is None:
                return None
            number, i = num
        out.append((tuple(chars), number))
    while out and out[-1] == ((0,), 0):
        out.pop()
    out.append(((0,), 0))
    return tuple(out)


@lru_cache(maxsize=65536)
def parse_version(text: str) -> Version:
    """Parse firmware/package version text; never raises. Unparseable text gives an unknown Version.

    Understands "2.4", "v1.2.3", "wpa_supplicant 2.4" (product + version), "RouterOS 6.40.4",
    "1.0.0.1234", "V5.4.5 build 170721", "2.0.0_rc1", "6.41rc", "10.12.6 (16G1036)",
    Debian/RPM forms "2:2.4-1+deb9u1" and "wpa_supplicant-2.6-5.el7_4.1".
    """
    if not isinstance(text, str):
        return _unknown("" if text is None else str(text))
    s = text.strip()
    if not s or len(s) > _MAX_VERSION_TEXT:
        return _unknown(text)
    epoch = 0
    # Debian/RPM epoch "2:2.4-1" (only a short number directly followed by ':').
    colon = s.find(":")
    if 0 < colon <= 4 and s[:colon].isascii() and s[:colon].isdigit() and colon + 1 < len(s):
        epoch = int(s[:colon])
        s = s[colon + 1:]
    start = -1
    prefix_end = -1
    n = len(s)
    for i in range(n):
        if s[i] not in _DIGITS:
            continue
        prev = s[i - 1] if i else " "
        if prev in _SEPARATORS:
            start, prefix_end = i, i
            break
        if prev in "vV" and (i == 1 or s[i - 2] in _SEPARATORS):
            start, prefix_end = i, i - 1
            break
    if start < 0:
        for i in range(n):
            if s[i] in _DIGITS:
                start, prefix_end = i, i
                break
    if start < 0:
        return _unknown(text)
    release: list[int] = []
    i = start
    while True:
        num = _read_number(s, i)
        if num is None:
            return _unknown(text)
        release.append(num[0])
        i = num[1]
        if i + 1 < n and s[i] == "." and s[i + 1] in _DIGITS:
            i += 1
            continue
        break
    rest = " ".join(s[i:].split())
    pre: tuple[str, int] | None = None
    phase = 0
    pre_number = 0
    j = 0
    while j < len(rest) and j < 2 and rest[j] in "-_.~ ":
        j += 1
    k = j
    while k < len(rest) and rest[k].isascii() and rest[k].isalpha():
        k += 1
    word = rest[j:k].lower()
    has_number = k < len(rest) and (rest[k] in _DIGITS or (rest[k] in ".-_" and rest[k + 1:k + 2] in _DIGITS))
    if word in _PRE_RELEASE or (word in _PRE_RELEASE_SHORT and k < len(rest) and rest[k] in _DIGITS):
        phase = _PRE_RELEASE.get(word, _PRE_RELEASE_SHORT.get(word, 0))
        m = k
        if has_number:
            if rest[m] in ".-_":
                m += 1
            num = _read_number(rest, m)
            if num is None:
                return _unknown(text)
            pre_number, m = num
        pre = (word, pre_number)
        tail = rest[m:]
    else:
        tail = rest
    # Debian/RPM style: what follows the last '-' is the packaging revision, compared after the upstream part.
    dash = tail.rfind("-")
    upstream, revision = (tail[:dash], tail[dash + 1:]) if dash >= 0 else (tail, "")
    upstream_pieces = _pieces(upstream)
    revision_pieces = _pieces(revision)
    if upstream_pieces is None or revision_pieces is None:
        return _unknown(text)
    trimmed = list(release)
    while trimmed and trimmed[-1] == 0:
        trimmed.pop()
    product = _product_key(s[:prefix_end])
    key = (1, epoch, tuple(trimmed), phase, pre_number, upstream_pieces, revision_pieces)
    return Version(
        text=text,
        product=product,
        epoch=epoch,
        release=tuple(release),
        pre=pre,
        suffix=rest,
        sort_key=key,
    )


def version_at_least(v: Version | str, fixed: Version | str) -> bool | None:
    """True when ``v`` is ``fixed`` or later; None when either is unknown or they name different products."""
    if isinstance(v, str):
        v = parse_version(v)
    if isinstance(fixed, str):
        fixed = parse_version(fixed)
    if not v.known or not fixed.known:
        return None
    if v.product and fixed.product and v.product != fixed.product:
        return None
    return v >= fixed
