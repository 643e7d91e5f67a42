#!/usr/bin/env python3
"""Build the bundled CSAF 2.0 documents of `krackwatch.advisories` from the CSVs in tools/kb_sources/.

    python tools/build_kb.py            # writes src/krackwatch/data/advisories/*.json
    python tools/build_kb.py --check    # exit 1 if the committed documents differ from a fresh build

Output is deterministic: every date comes from the data (no build time), items keep the order of the CSV
rows, and every document is validated against the bundled CSAF 2.0 schema before it is written.
The CVE texts below are krackwatch's own words; the impact tables follow the per-cipher rules of the KRACK
paper (CCS 2017, section 6.1): nonce reuse lets frames the reinstalling device sends be decrypted and frames
sent to it be replayed; TKIP also yields the Michael key of the victim's transmit direction (forge that way);
GCMP yields the GHASH key, which protects both directions (forge both ways).
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SOURCES = Path(__file__).resolve().parent / "kb_sources"
OUTPUT = ROOT / "src" / "krackwatch" / "data" / "advisories"

sys.path.insert(0, str(ROOT / "src"))

from krackwatch.advisories.csaf import check_document, format_record
from krackwatch.advisories.model import (
    KRACK_CVES,
    KRACK_VU,
    Direction,
    Effect,
    Feature,
    Handshake,
    KeyKind,
    Role,
)
from krackwatch.advisories.store import (
    DOC_CATALOG,
    DOC_CERT,
    DOC_COMMUNITY,
    DOC_ENGENIUS,
    DOC_VENDOR_FIXES,
    KB_PUBLISHER,
)

CERT_ARCHIVE = (
    "https://github.com/CERTCC/Vulnerability-Data-Archive/blob/119cb3d0298fa3160d5bc3df61b91450dd8c9227/"
    "data/19/vu_228519/vu_228519.json"
)
CERT_NOTE = "https://www.kb.cert.org/vuls/id/228519"
KRACKINFO = "https://github.com/kristate/krackinfo/blob/1cc7d66974b7f9278a41d8b6abb6d3e5a6f8affc/README.md"
W1FI = "https://w1.fi/security/2017-1/"
PAPER = "https://papers.mathyvanhoef.com/ccs2017.pdf"
KRACK_SITE = "https://www.krackattacks.com/"
ENGENIUS_COPIES = (
    "https://www.engeniusnetworks.eu/faq",
    "http://engeniustech.com.au/EnGeniusV2/newsCnt.php?newsId=319",
)
ENGENIUS_CERT_URL = "https://www.engeniustech.com/engenius-advisory-wpa2-krack-vulnerability.html"
ENGENIUS_HELPCENTER = (
    "https://helpcenter.engeniustech.com/hc/en-us/articles/"
    "115002197872-EnGenius-Advisory-on-the-WPA2-KRACK-vulnerability"
)
HOSTAP_VENDOR = "hostap (w1.fi)"

TLP = {"label": "WHITE", "url": "https://www.first.org/tlp/"}
VU_IDS = [{"system_name": "CERT/CC Vulnerability Notes Database", "text": KRACK_VU}]
CWE_NAMES = {"CWE-330": "Use of Insufficiently Random Values", "CWE-323": "Reusing a Nonce, Key Pair in Encryption"}

# --- the CVE texts, in our own words ----------------------------------------------------------------------

CVE_TEXT: dict[str, tuple[str, str]] = {
    "CVE-2017-13077": (
        "Client reinstalls the pairwise key (PTK-TK) in the 4-way handshake",
        ("A client that processes a repeated message 3 of the 4-way handshake installs its pairwise key a "
        "second time, which restarts its transmit packet number and its receive replay counter. An attacker "
        "with a man-in-the-middle position on another channel can hold back and replay message 3, so the client "
        "encrypts new frames with nonces it already used: the attacker can decrypt what the client sends and "
        "replay frames towards it, and with TKIP or GCMP forge frames as well. wpa_supplicant 2.4 and 2.5 "
        "(and Android 6.0 built on them) install an all-zero key instead, which exposes all of the client's "
        "traffic."),
    ),
    "CVE-2017-13078": (
        "Client reinstalls the group key (GTK) in the 4-way handshake",
        ("The group key travels in message 3 of the 4-way handshake; a client that accepts a repeated message 3 "
        "installs the group key again and restarts its replay counter for group-addressed frames. Broadcast and "
        "multicast frames the access point sent earlier can then be replayed to the client. The group key is "
        "only used by the access point to send, so confidentiality is not affected."),
    ),
    "CVE-2017-13079": (
        "Client reinstalls the integrity group key (IGTK) in the 4-way handshake",
        ("With management frame protection (802.11w) in use, message 3 of the 4-way handshake also carries the "
        "integrity group key. Reinstalling it on a repeated message 3 restarts the client's replay counter for "
        "protected group-addressed management frames, so such frames (for example protected broadcast "
        "deauthentications) can be replayed to the client."),
    ),
    "CVE-2017-13080": (
        "Client reinstalls the group key (GTK) in the group key handshake",
        ("When the access point renews the group key, a client that processes a repeated group key message 1 "
        "installs the current group key again and accepts broadcast and multicast frames it already received. "
        "Almost every client tested in 2017 was affected, including ones that resisted the 4-way attacks."),
    ),
    "CVE-2017-13081": (
        "Client reinstalls the integrity group key (IGTK) in the group key handshake",
        ("The same flaw as CVE-2017-13080 for the integrity group key of 802.11w: a repeated group key message "
        "makes the client accept replayed protected group-addressed management frames."),
    ),
    "CVE-2017-13082": (
        "Access point reinstalls the pairwise key (PTK-TK) on a replayed FT Reassociation Request",
        ("An access point that supports fast BSS transition (802.11r) answers a retransmitted FT Reassociation "
        "Request by installing the pairwise key again, which restarts its own packet number. No "
        "man-in-the-middle position is needed: an attacker who captured one FT reassociation replays it. The "
        "attacker can then decrypt frames the access point sends to that client and replay frames from the "
        "client to the access point. This is the only KRACK CVE in access points, and only with 802.11r on."),
    ),
    "CVE-2017-13084": (
        "Station reinstalls the station-to-station link key (STK) in the PeerKey handshake",
        ("PeerKey sets up an encrypted direct link between two clients of the same access point. A station that "
        "processes a repeated PeerKey message installs the link key again, with the same consequences for that "
        "link as the pairwise key attack. PeerKey was rarely implemented or enabled."),
    ),
    "CVE-2017-13086": (
        "Station reinstalls the TDLS peer key (TPK) in the TDLS setup handshake",
        ("Tunneled direct-link setup (802.11z) lets two clients talk directly. A station that processes a "
        "repeated TDLS setup message installs the TDLS peer key again, so frames on the direct link can be "
        "decrypted and replayed."),
    ),
    "CVE-2017-13087": (
        "Client reinstalls the group key (GTK) from a WNM Sleep Mode Response",
        ("A client waking from WNM sleep mode (802.11v) receives the current group key in the WNM Sleep Mode "
        "Response. A client that processes a replayed response installs the group key again and accepts "
        "replayed broadcast and multicast frames."),
    ),
    "CVE-2017-13088": (
        "Client reinstalls the integrity group key (IGTK) from a WNM Sleep Mode Response",
        ("The same flaw as CVE-2017-13087 for the integrity group key of 802.11w, carried in the same response: "
        "protected group-addressed management frames can be replayed to the client."),
    ),
}

HANDSHAKE = {
    "4-way handshake": Handshake.FOUR_WAY,
    "Group Key handshake": Handshake.GROUP_KEY,
    "Fast BSS Transition (FT) handshake - retransmitted Reassociation Request": Handshake.FT,
    "PeerKey handshake": Handshake.PEERKEY,
    "TDLS handshake": Handshake.TDLS,
    "WNM Sleep Mode Response frame processing": Handshake.WNM_SLEEP,
}
KEYS = {
    "PTK-TK (pairwise)": KeyKind.PTK_TK,
    "GTK (group)": KeyKind.GTK,
    "IGTK (integrity group)": KeyKind.IGTK,
    "STK (Station-To-Station-Link transient key)": KeyKind.STK,
    "TPK (TDLS PeerKey)": KeyKind.TPK,
}
FEATURES = {
    "base WPA/WPA2": Feature.BASE,
    "802.11w (PMF)": Feature.PMF,
    "802.11r (FT)": Feature.FT,
    "PeerKey / STSL": Feature.PEERKEY,
    "802.11z (TDLS)": Feature.TDLS,
    "802.11v (WNM sleep mode)": Feature.WNM_SLEEP,
}

R, D, F = Effect.REPLAY, Effect.DECRYPT, Effect.FORGE


def impacts(key: KeyKind, role: Role) -> list[tuple[str, list[tuple[Direction, Effect]], str]]:
    """(cipher family, [(direction, effects)], sentence) for a reinstalled key, per the CCS 2017 rules."""
    if key is KeyKind.GTK:
        return [
            (c, [(Direction.AP_TO_GROUP, R)], (f"With {c} as group cipher, group-addressed frames can be replayed to "
             "the client; nothing can be decrypted or forged."))
            for c in ("CCMP", "TKIP", "GCMP")
        ]
    if key is KeyKind.IGTK:
        return [
            ("BIP", [(Direction.AP_TO_GROUP_MGMT, R)], ("BIP only authenticates: protected group-addressed "
             "management frames can be replayed to the client."))
        ]
    if key is KeyKind.PTK_TK and role is Role.ACCESS_POINT:
        out_dir, in_dir, who = Direction.AP_TO_CLIENT, Direction.CLIENT_TO_AP, "the access point"
    elif key is KeyKind.PTK_TK:
        out_dir, in_dir, who = Direction.CLIENT_TO_AP, Direction.AP_TO_CLIENT, "the client"
    else:
        out_dir, in_dir, who = Direction.VICTIM_TO_PEER, Direction.PEER_TO_VICTIM, "the station"
    return [
        ("CCMP", [(out_dir, D), (in_dir, R)],
         f"With CCMP, frames {who} sends can be decrypted and frames sent to it replayed; forging is not practical."),
        ("TKIP", [(out_dir, D | F), (in_dir, R)],
         (f"With TKIP, the Michael key of {who}'s transmit direction can also be recovered, so frames can be "
         "forged in that direction.")),
        ("GCMP", [(out_dir, D | F), (in_dir, R | F)],
         "With GCMP, the recovered authentication key protects both directions, so frames can be forged both ways."),
    ]


# --- helpers -------------------------------------------------------------------------------------------------


def read_csv(name: str) -> list[dict[str, str]]:
    with open(SOURCES / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def dt(day: str, time: str = "00:00:00") -> str:
    """A CSAF date-time from a YYYY-MM-DD date (UTC midnight unless a time is given)."""
    return f"{day}T{time}Z"


def split_urls(*fields: str) -> list[str]:
    urls: list[str] = []
    for field_ in fields:
        for part in field_.replace(" ; ", " ").split():
            if part.startswith(("http://", "https://")) and part not in urls:
                urls.append(part)
    return urls


def krack_cves(text: str) -> tuple[list[str], list[str]]:
    listed = [c.strip() for c in text.split(";") if c.strip()]
    return [c for c in listed if c in KRACK_CVES], [c for c in listed if c not in KRACK_CVES]


def document(doc_id: str, title: str, initial: str, current: str, summary: str, notes: list[dict],
             references: list[dict], revision: str) -> dict[str, Any]:
    return {
        "category": "csaf_security_advisory",
        "csaf_version": "2.0",
        "distribution": {"tlp": TLP},
        "lang": "en",
        "notes": [{"category": "summary", "title": "Summary", "text": summary}, *notes],
        "publisher": dict(KB_PUBLISHER),
        "references": references,
        "title": title,
        "tracking": {
            "current_release_date": current,
            "generator": {"engine": {"name": "krackwatch tools/build_kb.py"}},
            "id": doc_id,
            "initial_release_date": initial,
            "revision_history": [{"date": current, "number": "1", "summary": revision}],
            "status": "final",
            "version": "1",
        },
    }


def ref(url: str, summary: str) -> dict[str, str]:
    return {"category": "external", "summary": summary, "url": url}


def dedupe_refs(refs: Iterable[dict[str, str]]) -> list[dict[str, str]]:
    seen: set[str] = set()
    out = []
    for item in refs:
        if item["url"] not in seen:
            seen.add(item["url"])
            out.append(item)
    return out


def vendor_tree(entries: list[tuple[str, str, str | None, dict]]) -> dict[str, Any]:
    """Branches vendor -> product_name -> [product_version] -> product, in first-seen order."""
    vendors: dict[str, dict[str, list[tuple[str | None, dict]]]] = {}
    for vendor, product, version, leaf in entries:
        vendors.setdefault(vendor, {}).setdefault(product, []).append((version, leaf))
    branches = []
    for vendor, products in vendors.items():
        product_branches = []
        for product, leaves in products.items():
            children = [
                {"category": "product_version", "name": version, "product": leaf}
                for version, leaf in leaves if version is not None
            ]
            plain = [leaf for version, leaf in leaves if version is None]
            if len(plain) > 1 or (plain and children):
                raise ValueError(f"{vendor} / {product}: more than one product without a version")
            if plain:
                product_branches.append({"category": "product_name", "name": product, "product": plain[0]})
            else:
                product_branches.append({"category": "product_name", "name": product, "branches": children})
        branches.append({"category": "vendor", "name": vendor, "branches": product_branches})
    return {"branches": branches}


def status_lists(by_status: dict[str, list[str]]) -> dict[str, list[str]]:
    order = ("fixed", "known_affected", "known_not_affected", "under_investigation")
    return {k: by_status[k] for k in order if by_status.get(k)}


def umbrella(title: str, notes: list[dict], by_status: dict[str, list[str]], remediations: list[dict],
             threats: list[dict], references: list[dict] | None = None) -> dict[str, Any]:
    """The VU#228519 vulnerability item: for sources whose statements cover KRACK as a whole."""
    vuln: dict[str, Any] = {
        "ids": VU_IDS,
        "notes": [
            {
                "category": "summary",
                "title": "Scope",
                "text": f"{KRACK_VU} (KRACK) covers {', '.join(KRACK_CVES)}. Statements in this item are "
                "about KRACK as a whole, as the source gave them, not about one CVE.",
            },
            *notes,
        ],
        "product_status": status_lists(by_status),
        "references": references or [ref(CERT_NOTE, "CERT/CC Vulnerability Note VU#228519")],
        "title": title,
    }
    if remediations:
        vuln["remediations"] = remediations
    if threats:
        vuln["threats"] = threats
    return vuln


def record_threat(pid: str, summary: str, pairs: list[tuple[str, str]], date: str | None) -> dict[str, Any]:
    threat: dict[str, Any] = {"category": "impact", "details": format_record(summary, pairs), "product_ids": [pid]}
    if date:
        threat["date"] = dt(date)
    return threat


# --- the five documents ----------------------------------------------------------------------------------------


def build_catalog() -> dict[str, Any]:
    rows = read_csv("cve_catalog.csv")
    if [r["cve"] for r in rows] != list(KRACK_CVES):
        raise ValueError("cve_catalog.csv must list exactly the 10 KRACK CVEs in order")
    products = []
    ids: dict[str, dict[str, str]] = {}
    for name, short in (("wpa_supplicant", "WPAS"), ("hostapd", "HAPD")):
        affected = f"HOSTAP-{short}-0.2.4-2.6"
        fixed = f"HOSTAP-{short}-2.7"
        ids[name] = {"affected": affected, "fixed": fixed}
        products.append((HOSTAP_VENDOR, name, "vers:generic/>=0.2.4|<=2.6",
                         {"name": f"hostap {name} 0.2.4 to 2.6", "product_id": affected}))
        products.append((HOSTAP_VENDOR, name, "2.7", {"name": f"hostap {name} 2.7", "product_id": fixed}))
    tree = vendor_tree(products)
    # The 0.2.4-2.6 leaves are version ranges, not single versions (CSAF 6.1.31).
    for product_branch in tree["branches"][0]["branches"]:
        product_branch["branches"][0]["category"] = "product_version_range"
    affected_ids = [i["affected"] for i in ids.values()]
    fixed_ids = [i["fixed"] for i in ids.values()]
    vulns = []
    for row in rows:
        cve = row["cve"]
        title, description = CVE_TEXT[cve]
        key = KEYS[row["key_reinstalled"]]
        role = Role.ACCESS_POINT if row["affected_role"].startswith("authenticator") else Role.CLIENT
        peerkey_na = row["hostap_fixed_in"].startswith("not applicable")
        facts = [
            ("handshake", HANDSHAKE[row["handshake"]].value),
            ("key", key.value),
            ("role", role.value),
            ("feature", FEATURES[row["feature_dependency"]].value),
            ("hostap fixed version", "" if peerkey_na else row["hostap_fixed_in"].split()[0]),
            ("hostap note", row["hostap_fixed_in"]),
            ("nvd published", row["nvd_published"]),
            ("cwe", row["cwe_nvd"]),
            ("cwe", row["cwe_certcc"]),
        ]
        threats = []
        for cipher, effects, sentence in impacts(key, role):
            pairs = [("cipher", cipher)] + [(d.value, e.label) for d, e in effects]
            threats.append({"category": "impact", "details": format_record(sentence, pairs)})
        score: dict[str, Any] = {
            "cvss_v3": {
                "baseScore": float(row["nvd_cvss3_score"]),
                "baseSeverity": row["nvd_cvss3_severity"],
                "vectorString": row["nvd_cvss3_vector"],
                "version": row["nvd_cvss3_vector"].split("/")[0].split(":")[1],
            },
            "products": affected_ids,
        }
        if row["nvd_cvss2_vector"]:
            score["cvss_v2"] = {
                "baseScore": float(row["nvd_cvss2_score"]),
                "vectorString": row["nvd_cvss2_vector"],
                "version": "2.0",
            }
        status: dict[str, list[str]] = {"known_affected": affected_ids}
        flags = []
        remediation_text = "Upgrade to hostap 2.7, or apply the w1.fi 2017-1 patches (published for 2.6 on 2017-10-16)."
        if peerkey_na:
            status["known_not_affected"] = fixed_ids
            flags.append({"label": "vulnerable_code_not_present", "product_ids": fixed_ids})
            threats.append({
                "category": "impact",
                "details": "hostap's advisory w1.fi 2017-1 rates this CVE not applicable to hostapd and "
                "wpa_supplicant, while NVD's configuration lists versions 0.2.4 to 2.6; hostap 2.7 removed "
                "PeerKey support altogether.",
                "product_ids": fixed_ids,
            })
            remediation_text = ("Upgrade to hostap 2.7, which removed PeerKey; w1.fi 2017-1 has no patch for this "
                                "CVE because it rates it not applicable.")
        else:
            status["fixed"] = fixed_ids
        vuln = {
            "cve": cve,
            "cwe": {"id": row["cwe_nvd"], "name": CWE_NAMES[row["cwe_nvd"]]},
            "ids": VU_IDS,
            "notes": [
                {"category": "summary", "title": "Summary", "text": title},
                {"category": "description", "title": "What goes wrong", "text": description},
                {"category": "details", "title": "krackwatch facts", "text": format_record(
                    f"{cve}: the {key.value} in the {HANDSHAKE[row['handshake']].value}; patch the {role.value}.",
                    facts)},
            ],
            "product_status": status_lists(status),
            "references": [
                ref(f"https://nvd.nist.gov/vuln/detail/{cve}", f"NVD record of {cve}"),
                *[ref(u, f"{cve} source record") for u in split_urls(row["source"])],
                ref(CERT_NOTE, "CERT/CC Vulnerability Note VU#228519"),
                ref(W1FI, "hostap (w1.fi) security advisory 2017-1"),
            ],
            "release_date": dt("2017-10-16"),
            "remediations": [{
                "category": "vendor_fix",
                "date": dt("2017-10-16"),
                "details": remediation_text,
                "product_ids": affected_ids,
                "url": W1FI,
            }],
            "scores": [score],
            "threats": threats,
            "title": title,
        }
        if flags:
            vuln["flags"] = flags
        vulns.append(vuln)
    doc = document(
        DOC_CATALOG,
        "KRACK CVE catalog: key reinstallation in WPA/WPA2 handshakes (CVE-2017-13077 to -13088)",
        dt("2017-10-16"),
        dt("2018-12-02"),
        "The ten CVEs of KRACK (key reinstallation attacks, CERT/CC VU#228519): which handshake and key each "
        "one concerns, which device must be patched, what feature it needs, and what an attacker gains per "
        "cipher and frame direction. Scores and CWE are NVD's; descriptions are krackwatch's own. The hostap "
        "products show where upstream wpa_supplicant/hostapd stand: NVD lists 0.2.4 to 2.6 as affected and "
        "release 2.7 (2018-12-02) carries the fixes. CVE-2017-13083 and CVE-2017-13085 are not KRACK CVEs.",
        [{"category": "general", "title": "Sources", "text": "NVD records (fkie-cad/nvd-json-data-feeds "
          "@1385350), CERT/CC VU#228519 (Vulnerability-Data-Archive @119cb3d), the hostap advisory w1.fi "
          "2017-1 and the hostap 2.7 ChangeLog, and the KRACK paper (CCS 2017) for the per-cipher impact."}],
        [ref(KRACK_SITE, "KRACK attacks website"), ref(PAPER, "Key Reinstallation Attacks (CCS 2017 paper)"),
         ref(CERT_NOTE, "CERT/CC Vulnerability Note VU#228519"), ref(CERT_ARCHIVE, "CERT/CC archive record"),
         ref(W1FI, "hostap (w1.fi) security advisory 2017-1")],
        "Built from cve_catalog.csv.",
    )
    return {"document": doc, "product_tree": tree, "vulnerabilities": vulns}


CERT_STATUS = {"Affected": "known_affected", "Not Affected": "known_not_affected", "Unknown": "under_investigation"}


def build_cert() -> dict[str, Any]:
    rows = read_csv("cert_vendors.csv")
    entries, threats, refs = [], [], []
    by_status: dict[str, list[str]] = {}
    for row in rows:
        rid = row["cert_vendor_record_id"]
        pid = f"CERT-{rid}"
        subject = f"products covered by CERT/CC vendor record {rid}"
        entries.append((row["vendor"], subject, None, {"name": f"{row['vendor']}: {subject}", "product_id": pid}))
        by_status.setdefault(CERT_STATUS[row["status"]], []).append(pid)
        urls = split_urls(row["cert_vendor_record_url"], row["url"], row["other_urls"])
        pairs = [("record", rid), ("status", row["status"]), ("date", row["date"]),
                 ("notified", row["date_notified"]), ("responded", row["date_responded"])]
        pairs += [("url", u) for u in urls] + [("source", row["source"]), ("note", row["notes"])]
        threats.append(record_threat(
            pid, f"CERT/CC status of {row['vendor']} for {KRACK_VU}: {row['status']} (record last updated "
            f"{row['date']}).", pairs, row["date"]))
        refs.append(ref(row["cert_vendor_record_url"], f"{rid} {row['vendor']}: CERT/CC vendor record"))
        refs += [ref(u, f"{rid} {row['vendor']}: vendor reference") for u in split_urls(row["url"], row["other_urls"])]
        refs.append(ref(row["source"], f"{rid} {row['vendor']}: archived record (JSON)"))
    counts = Counter(r["status"] for r in rows)
    doc = document(
        DOC_CERT,
        "CERT/CC vendor statuses for VU#228519 (KRACK)",
        dt("2017-10-16", "11:39:00"),
        dt("2018-03-21"),
        f"All {len(rows)} CERT/CC vendor records of VU#228519 as archived: {counts['Affected']} Affected, "
        f"{counts['Not Affected']} Not Affected, {counts['Unknown']} Unknown. Each record keeps its own "
        "last-updated date, notification and response dates, and the vendor references CERT/CC cited.",
        [{"category": "general", "title": "How to read these statuses",
          "text": "A CERT/CC status is a dated fact about the vendor, not a verdict about today. \"Affected\" "
          "means CERT/CC recorded the vendor's products as affected; it says nothing about whether patches "
          "shipped later (CERT/CC does not change the status when they do), so it is mapped to known_affected "
          "without a remediation. \"Not Affected\" is the vendor's own claim, accepted by CERT/CC "
          "(known_not_affected). \"Unknown\" is CERT/CC's default for vendors that never gave a processed "
          "answer (under_investigation). Fixed versions are in the vendor-fixes document."},
         {"category": "general", "title": "Source",
          "text": "CERTCC/Vulnerability-Data-Archive at commit 119cb3d (data release of 2020-06-03, now "
          "superseded by VINCE), data/19/vu_228519/. The note was first published 2017-10-16T07:39-04:00; its "
          "last archived revision (144) is dated 2018-03-21, the current release date of this document."}],
        dedupe_refs([ref(CERT_NOTE, "CERT/CC Vulnerability Note VU#228519"),
                     ref(CERT_ARCHIVE, "CERT/CC archive: vulnerability note record"), *refs]),
        "Built from cert_vendors.csv.",
    )
    return {"document": doc, "product_tree": vendor_tree(entries), "vulnerabilities": [umbrella(
        "KRACK: key reinstallation in WPA/WPA2 handshakes (CERT/CC vendor statuses)",
        [{"category": "general", "title": "Status per vendor record",
          "text": "Each product below stands for everything a CERT/CC vendor record covers; its threat entry "
          "carries the record id, the status as published, and its dates and references."}],
        by_status, [], threats,
        [ref(CERT_NOTE, "CERT/CC Vulnerability Note VU#228519"), ref(CERT_ARCHIVE, "CERT/CC archive record")],
    )]}


def community_status(matrix: str) -> tuple[str, str | None]:
    """(CSAF status, remediation category) for a krackinfo patch-matrix cell."""
    if "patch_available" in matrix:
        return "known_affected", "vendor_fix"
    if "in_development" in matrix:
        return "known_affected", "none_available"
    return "under_investigation", None


def build_community() -> dict[str, Any]:
    rows = read_csv("krackinfo_vendor_responses.csv")
    entries, threats, refs, remediations = [], [], [], []
    by_status: dict[str, list[str]] = {}
    for n, row in enumerate(rows, 1):
        rid = f"krackinfo-{n:03d}"
        pid = rid.upper()
        vendor = html.unescape(row["vendor"])
        subject = f"products covered by the krackinfo vendor response list (row {n})"
        entries.append((vendor, subject, None, {"name": f"{vendor}: {subject}", "product_id": pid}))
        status, remediation = community_status(row["patch_matrix"])
        by_status.setdefault(status, []).append(pid)
        published = row["patch_matrix"] or row["response_type"]
        urls = split_urls(row["response_url"], row["other_urls"])
        if remediation is not None:
            item = {
                "category": remediation,
                "date": dt(row["last_updated"]),
                "details": f"The community list classifies {vendor} as {row['patch_matrix']} "
                "(see the vendor's response for products and versions).",
                "product_ids": [pid],
            }
            if urls:
                item["url"] = urls[0]
            remediations.append(item)
        pairs = [("record", rid), ("status", published), ("date", row["last_updated"]),
                 ("last checked", row["last_checked"]),
                 ("cert notified (as recorded)", row["date_notified_by_cert_as_recorded"])]
        pairs += [("url", u) for u in urls] + [("source", row["source"])]
        if vendor != row["vendor"]:
            pairs.append(("note", f"listed as {row['vendor']}"))
        threats.append(record_threat(
            pid, f"Community list entry for {vendor}: {published.replace('_', ' ')} (updated {row['last_updated']}).",
            pairs, row["last_updated"]))
        refs += [ref(u, f"{rid} {vendor}: vendor response") for u in urls]
    linked = sum(1 for r in rows if r["response_type"] == "link")
    doc = document(
        DOC_COMMUNITY,
        "Community KRACK vendor-response list (kristate/krackinfo, 2018-01-16)",
        dt("2017-10-16"),
        dt("2018-01-16"),
        f"The {len(rows)} vendors of the community-maintained krackinfo list, {linked} of them with a linked "
        "response, with the list's last-updated and last-checked dates and its patch-matrix classification "
        "where it had one. The list's comment prose is not copied.",
        [{"category": "general", "title": "How to read these statuses",
          "text": "\"patch_available\" becomes known_affected with a vendor_fix remediation pointing at the "
          "vendor's response, \"in_development\" known_affected with none_available; every other entry, "
          "including \"no known official response\", is under_investigation. The column \"cert notified (as "
          "recorded)\" is copied as the list wrote it (2017-10-16, from the CERT/CC page)."}],
        dedupe_refs([ref(KRACKINFO, "kristate/krackinfo README at 1cc7d66 (2018-01-16)"), *refs]),
        "Built from krackinfo_vendor_responses.csv.",
    )
    return {"document": doc, "product_tree": vendor_tree(entries), "vulnerabilities": [umbrella(
        "KRACK: key reinstallation in WPA/WPA2 handshakes (community vendor responses)",
        [], by_status, remediations, threats)]}


_NOT_A_VERSION = ("see ", "not captured", "after", "before", ">", "<", "planned", "several", "patched",
                  "github", "pending")

FIX_STATUS = {
    "fixed": ("known_affected", "vendor_fix"),  # "fixed" when the fixed version is a version (see below)
    "fixed_or_planned": ("known_affected", "vendor_fix"),
    "partially_fixed": ("known_affected", "vendor_fix"),
    "mixed": ("known_affected", "vendor_fix"),
    "planned": ("known_affected", "none_available"),
    "in_progress": ("known_affected", "none_available"),
    "affected": ("known_affected", "none_available"),
    "advisory_reference_only": ("under_investigation", None),
}


def version_like(text: str) -> bool:
    lowered = text.lower()
    return any(c.isdigit() for c in text) and not any(word in lowered for word in _NOT_A_VERSION)


def build_vendor_fixes() -> dict[str, Any]:
    rows = read_csv("vendor_fixes.csv")
    entries, threats, refs, remediations = [], [], [], []
    by_status: dict[str, list[str]] = {}
    per_cve: dict[str, dict[str, list[str]]] = {c: {} for c in KRACK_CVES}
    per_cve_rem: dict[str, list[dict]] = {c: [] for c in KRACK_CVES}
    for n, row in enumerate(rows, 1):
        rid = f"fix-{n:03d}"
        pid = rid.upper()
        status, remediation = FIX_STATUS[row["status"]]
        fixed = row["fixed_version"]
        version = fixed if row["status"] == "fixed" and version_like(fixed) else None
        if version is not None:
            status = "fixed"
        name = f"{row['vendor']} {row['product']}" + (f" {version}" if version else "")
        entries.append((row["vendor"], row["product"], version, {"name": name, "product_id": pid}))
        by_status.setdefault(status, []).append(pid)
        cves, others = krack_cves(row["cves"])
        for cve in cves:
            per_cve[cve].setdefault(status, []).append(pid)
        urls = split_urls(row["url"])
        if remediation is not None:
            details = {
                "vendor_fix": f"Fixed in {fixed}." if fixed else "Fixed; the version is not recorded.",
                "none_available": f"No fix released when recorded: {fixed}." if fixed else "No fix released when recorded.",
            }[remediation]
            if row["status"] in ("fixed_or_planned", "partially_fixed", "mixed"):
                details = f"Fix announced or partial ({row['status'].replace('_', ' ')}): {fixed}."
            if row["advisory_id"]:
                details += f" Advisory: {row['advisory_id']}."
            item: dict[str, Any] = {"category": remediation, "details": details, "product_ids": [pid]}
            if row["date"]:
                item["date"] = dt(row["date"])
            if urls:
                item["url"] = urls[0]
            remediations.append(item)
            for cve in cves:
                per_cve_rem[cve].append(item)
        pairs = [("record", rid), ("status", row["status"]), ("fixed version", fixed),
                 ("advisory", row["advisory_id"]), ("date", row["date"] or "not stated")]
        pairs += [("url", u) for u in urls] + [("source", u) for u in split_urls(row["source"])]
        pairs += [("cves", " ".join(cves)), ("other cves", " ".join(others)),
                  ("confidence", row["confidence"]), ("note", row["notes"])]
        threats.append(record_threat(
            pid, f"{row['vendor']}, {row['product']}: {row['status'].replace('_', ' ')}"
            + (f" ({fixed})" if fixed else "") + ".", pairs, row["date"] or None))
        refs += [ref(u, f"{rid} {row['vendor']}: advisory or fix") for u in urls]
        refs += [ref(u, f"{rid} {row['vendor']}: source of the record") for u in split_urls(row["source"])]
    dates = sorted(r["date"] for r in rows if r["date"])
    vulns = [umbrella(
        "KRACK: key reinstallation in WPA/WPA2 handshakes (vendor fixes)",
        [{"category": "general", "title": "Per-CVE items",
          "text": "Records whose source lists CVEs appear again under each CVE below; the rest only here."}],
        by_status, remediations, threats)]
    for cve in KRACK_CVES:
        if not per_cve[cve]:
            continue
        vuln: dict[str, Any] = {
            "cve": cve,
            "notes": [{"category": "summary", "title": "Summary", "text": CVE_TEXT[cve][0]}],
            "product_status": status_lists(per_cve[cve]),
            "title": CVE_TEXT[cve][0],
        }
        if per_cve_rem[cve]:
            vuln["remediations"] = per_cve_rem[cve]
        vulns.append(vuln)
    doc = document(
        DOC_VENDOR_FIXES,
        "KRACK fixes by vendor and product",
        dt(dates[0]),
        dt(dates[-1]),
        f"{len(rows)} records of fixed versions (or of fixes still missing) for "
        f"{len({r['vendor'] for r in rows})} vendors, each with its advisory, date, source and a confidence "
        "grade (high: primary or scanner-plugin source; medium: secondary or partial; low: user report or "
        "details not captured).",
        [{"category": "general", "title": "How to read these records",
          "text": "A product appears as fixed only when its record names a fixed version; then the product is "
          "that version. Records that say a fix exists without a usable version, or that a fix is announced, "
          "partial or planned, are known_affected with a vendor_fix or none_available remediation. Records "
          "that only point to an advisory are under_investigation. CVE-2017-9417 (Broadpwn), listed by two "
          "Apple records, is not a KRACK CVE and is kept only as a record line."}],
        dedupe_refs(refs),
        "Built from vendor_fixes.csv.",
    )
    return {"document": doc, "product_tree": vendor_tree(entries), "vulnerabilities": vulns}


ENGENIUS_STATUS = {
    "available_now": ("vendor_fix", "EnGenius lists fixed firmware as available now (version not stated)."),
    "automatic_update": ("vendor_fix", "EnGenius delivers the fix through automatic update (version not stated)."),
    "in_progress": ("none_available", "EnGenius lists the fix as in progress."),
}


def build_engenius() -> dict[str, Any]:
    rows = read_csv("engenius_models.csv")
    modes = read_csv("engenius_mode_impact.csv")
    date = rows[0]["advisory_date"]
    latest: dict[str, dict[str, str]] = {}
    earlier: dict[str, dict[str, str]] = {}
    for row in rows:  # the table's trailing block repeats five models with a newer status: last row wins
        key = row["model_key"]
        if key in latest:
            earlier[key] = latest[key]
        latest[key] = row
    entries, threats, remediations = [], [], []
    pids = []
    for key, row in latest.items():
        pid = f"ENGENIUS-{key}"
        pids.append(pid)
        model = row["model"]
        entries.append(("EnGenius", model, None, {
            "name": f"EnGenius {model}", "product_id": pid,
            "product_identification_helper": {"model_numbers": [model]}}))
        category, details = ENGENIUS_STATUS[row["status_normalized"]]
        remediations.append({"category": category, "date": dt(date), "details": details,
                             "product_ids": [pid], "url": row["source_url"]})
        pairs = [("record", f"engenius-row-{int(row['row_order']):02d}"), ("status", row["status_raw"]),
                 ("normalized", row["status_normalized"]), ("date", row["advisory_date"]),
                 ("row", row["row_order"])]
        if key in earlier:
            old = earlier[key]
            pairs += [("earlier row", old["row_order"]), ("earlier status", old["status_raw"])]
            if old["model"] != model:
                pairs.append(("earlier spelling", old["model"]))
        pairs += [("url", u) for u in ENGENIUS_COPIES] + [("source", row["source"])]
        threats.append(record_threat(
            pid, f"EnGenius {model}: {row['status_raw']} (EnGenius advisory of {date}).", pairs, date))
    remediations.append({
        "category": "mitigation", "date": dt(date),
        "details": "Until clients are patched, turn off 802.11r fast roaming; keep WPA2-AES (Personal or "
        "Enterprise) and do not use WEP or WPA-TKIP.",
        "product_ids": pids, "url": ENGENIUS_COPIES[0]})
    for mode in modes:
        threats.append({"category": "impact", "details": format_record(
            f"EnGenius, {mode['mode_as_in_advisory']}: {mode['engenius_statement'].replace('_', ' ')}.",
            [("mode", mode["mode_key"]), ("as in advisory", mode["mode_as_in_advisory"]),
             ("statement", mode["engenius_statement"]), ("role (inferred)", mode["device_role_in_handshake_inferred"]),
             ("cves (inferred)", mode["relevant_cves_inferred"]), ("action", mode["advised_action"]),
             ("note", mode["note"])])})
    counts = Counter(r["status_raw"] for r in latest.values())
    doc = document(
        DOC_ENGENIUS,
        f"EnGenius per-model KRACK patch status (advisory of {date})",
        dt(date),
        dt(date),
        f"The per-model table of EnGenius's KRACK advisory: {len(rows)} rows for {len(latest)} models. Five "
        "models appear twice, first as In Progress and again in a trailing block as Available Now; the later "
        f"row is taken as the newer status, giving {counts['Available Now']} Available Now, "
        f"{counts['In Progress']} In Progress and {counts['Available through automatic update']} available "
        "through automatic update. The advisory names no firmware versions.",
        [{"category": "general", "title": "How to read these statuses",
          "text": "Without firmware versions a model cannot be marked fixed: every model is known_affected, "
          "with a vendor_fix remediation where EnGenius lists fixed firmware and none_available where the fix "
          "is in progress. EnGenius states that access points in AP mode are not directly affected; client "
          "bridge, WDS bridge/station, mesh and 802.11r fast roaming may be. The CVEs per mode are krackwatch's "
          "inference."}],
        [ref(u, "EnGenius KRACK advisory (2017-10-17)") for u in ENGENIUS_COPIES]
        + [ref(ENGENIUS_CERT_URL, "EnGenius advisory as cited by CERT/CC record JLAD-ASAPQ6"),
           ref(ENGENIUS_HELPCENTER, "EnGenius advisory as cited by the krackinfo list")],
        "Built from engenius_models.csv and engenius_mode_impact.csv.",
    )
    return {"document": doc, "product_tree": vendor_tree(entries), "vulnerabilities": [umbrella(
        "KRACK: key reinstallation in WPA/WPA2 handshakes (EnGenius models)",
        [], {"known_affected": pids}, remediations, threats,
        [ref(CERT_NOTE, "CERT/CC Vulnerability Note VU#228519"), ref(ENGENIUS_COPIES[0], "EnGenius advisory")])]}


BUILDERS = (build_catalog, build_cert, build_community, build_vendor_fixes, build_engenius)


def render(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def build_all() -> dict[str, bytes]:
    out = {}
    for builder in BUILDERS:
        doc = builder()
        name = doc["document"]["tracking"]["id"]
        check_document(doc, f"{name}.json")
        out[f"{name}.json"] = render(doc)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed documents, write nothing")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="output directory")
    args = parser.parse_args(argv)
    built = build_all()
    if args.check:
        stale = [n for n, data in built.items() if not (args.output / n).is_file()
                 or (args.output / n).read_bytes() != data]
        for name in stale:
            print(f"out of date: {name}", file=sys.stderr)
        return 1 if stale else 0
    args.output.mkdir(parents=True, exist_ok=True)
    for name, data in built.items():
        (args.output / name).write_bytes(data)
        print(f"wrote {args.output / name} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
