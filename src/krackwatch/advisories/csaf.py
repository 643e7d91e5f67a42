"""CSAF 2.0 plumbing: schema validation (offline), a few mandatory tests, and reading products and statuses.

The knowledge base is stored as CSAF 2.0 documents; this module turns any schema-valid CSAF document into
flat per-product statements. Bundled documents add krackwatch "record lines" (``key: value`` lines after a
one-line summary in a threat's ``details``) for facts CSAF has no field for, such as a CERT/CC record id or
the dates a vendor was notified. CSAF forbids extra properties, so this is where they live.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from krackwatch.advisories.model import KRACK_CVES, KRACK_VU, ProductStatus, RemediationCategory
from krackwatch.errors import InputError

CSAF_SCHEMA = "csaf_json_schema.json"
CVSS_SCHEMAS = ("cvss-v2.0.json", "cvss-v3.0.json", "cvss-v3.1.json")

# CSAF product_status keys folded into the four groups krackwatch keeps (CSAF 2.0 section 3.2.3.9).
STATUS_GROUPS: dict[str, ProductStatus] = {
    "first_affected": ProductStatus.KNOWN_AFFECTED,
    "known_affected": ProductStatus.KNOWN_AFFECTED,
    "last_affected": ProductStatus.KNOWN_AFFECTED,
    "first_fixed": ProductStatus.FIXED,
    "fixed": ProductStatus.FIXED,
    "recommended": ProductStatus.FIXED,
    "known_not_affected": ProductStatus.KNOWN_NOT_AFFECTED,
    "under_investigation": ProductStatus.UNDER_INVESTIGATION,
}

_KRACK_IDS = frozenset(KRACK_CVES)
_MAX_MESSAGE = 160


def schema_dir() -> resources.abc.Traversable:
    return resources.files("krackwatch") / "data" / "advisories" / "schemas"


def _load_schema(name: str) -> dict[str, Any]:
    return json.loads((schema_dir() / name).read_text(encoding="utf-8"))


def parse_datetime(text: str) -> _dt.datetime:
    """An RFC 3339 date-time with seconds and an offset (what CSAF's ``date-time`` format means)."""
    if len(text) < 20 or text[10] not in "Tt" or text[13] != ":" or text[16] != ":":
        raise ValueError(f"not an RFC 3339 date-time: {text!r}")
    value = _dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"date-time without a time zone: {text!r}")
    return value


def _is_uri(text: object) -> bool:
    if not isinstance(text, str):
        return True
    parts = urlsplit(text)
    return bool(parts.scheme) and not any(c.isspace() for c in text)


@functools.cache
def validator():
    """The CSAF 2.0 JSON-schema validator, with the FIRST CVSS schemas from package data (no network)."""
    from jsonschema import Draft202012Validator, FormatChecker
    from referencing import Registry, Resource

    registry = Registry().with_resources(
        (f"https://www.first.org/cvss/{name}", Resource.from_contents(_load_schema(name))) for name in CVSS_SCHEMAS
    )
    checker = FormatChecker(formats=())
    checker.checks("date-time", raises=ValueError)(lambda v: not isinstance(v, str) or bool(parse_datetime(v)))
    checker.checks("uri")(_is_uri)
    return Draft202012Validator(_load_schema(CSAF_SCHEMA), registry=registry, format_checker=checker)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def schema_errors(doc: object) -> list[str]:
    """Every schema violation as ``$.json.path: message`` (empty list: valid)."""
    return [f"{e.json_path}: {_short(e.message)}" for e in validator().iter_errors(doc)]


def check_document(doc: object, path: str) -> None:
    """Raise InputError naming the JSON path of the most relevant problem, if `doc` is not usable CSAF.

    Runs the JSON schema and the CSAF 2.0 mandatory tests 6.1.1 (product ids defined), 6.1.2 (unique
    product ids), 6.1.4 (product group ids defined) and 6.1.6 (contradicting product status), which the
    schema cannot express.
    """
    try:
        _check(doc, path)
    except RecursionError:
        raise InputError("not usable CSAF: nested too deeply", path=path) from None


def _check(doc: object, path: str) -> None:
    from jsonschema.exceptions import best_match

    error = best_match(validator().iter_errors(doc))
    if error is not None:
        raise InputError(f"not a valid CSAF 2.0 document: at {error.json_path}: {_short(error.message)}", path=path)
    assert isinstance(doc, dict)
    defined = _defined_product_ids(doc, path)
    for where, pid in _referenced_product_ids(doc):
        if pid not in defined:
            raise InputError(f"CSAF 6.1.1: {where} refers to undefined product id {_short(pid)!r}", path=path)
    groups = _product_groups(doc)
    for i, vuln in enumerate(doc.get("vulnerabilities", ())):
        for field in ("remediations", "threats", "flags"):
            for j, item in enumerate(vuln.get(field, ())):
                for group in item.get("group_ids", ()):
                    if group not in groups:
                        raise InputError(f"CSAF 6.1.4: $.vulnerabilities[{i}].{field}[{j}] refers to undefined "
                                         f"product group {_short(group)!r}", path=path)
    for i, vuln in enumerate(doc.get("vulnerabilities", ())):
        seen: dict[str, ProductStatus] = {}
        for key, ids in known_statuses(vuln):
            if key == "recommended":  # may go with fixed or not affected (CSAF 3.2.3.9.6)
                continue
            group = STATUS_GROUPS[key]
            for pid in ids:
                if seen.setdefault(pid, group) is not group:
                    raise InputError(
                        f"CSAF 6.1.6: $.vulnerabilities[{i}].product_status puts {_short(pid)!r} in both "
                        f"{seen[pid].value} and {group.value}",
                        path=path,
                    )


def _defined_product_ids(doc: Mapping[str, Any], path: str) -> set[str]:
    defined: set[str] = set()
    for where, product in _product_definitions(doc):
        pid = product["product_id"]
        if pid in defined:
            raise InputError(f"CSAF 6.1.2: product id {_short(pid)!r} is defined twice ({where})", path=path)
        defined.add(pid)
    return defined


def _product_definitions(doc: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    tree = doc.get("product_tree", {})

    def walk(branches: list, where: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for i, branch in enumerate(branches):
            here = f"{where}[{i}]"
            if "product" in branch:
                yield here + ".product", branch["product"]
            if "branches" in branch:
                yield from walk(branch["branches"], here + ".branches")

    yield from walk(tree.get("branches", ()), "$.product_tree.branches")
    for i, product in enumerate(tree.get("full_product_names", ())):
        yield f"$.product_tree.full_product_names[{i}]", product
    for i, rel in enumerate(tree.get("relationships", ())):
        yield f"$.product_tree.relationships[{i}].full_product_name", rel["full_product_name"]


def _product_groups(doc: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    return {g["group_id"]: tuple(g["product_ids"]) for g in doc.get("product_tree", {}).get("product_groups", ())}


def _referenced_product_ids(doc: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    tree = doc.get("product_tree", {})
    for i, group in enumerate(tree.get("product_groups", ())):
        for pid in group["product_ids"]:
            yield f"$.product_tree.product_groups[{i}]", pid
    for i, rel in enumerate(tree.get("relationships", ())):
        yield f"$.product_tree.relationships[{i}]", rel["product_reference"]
        yield f"$.product_tree.relationships[{i}]", rel["relates_to_product_reference"]
    for i, vuln in enumerate(doc.get("vulnerabilities", ())):
        base = f"$.vulnerabilities[{i}]"
        for key, ids in known_statuses(vuln):
            for pid in ids:
                yield f"{base}.product_status.{key}", pid
        for field, ids_key in (("remediations", "product_ids"), ("threats", "product_ids"), ("scores", "products"),
                               ("flags", "product_ids")):
            for j, item in enumerate(vuln.get(field, ())):
                for pid in item.get(ids_key, ()):
                    yield f"{base}.{field}[{j}]", pid


def known_statuses(vuln: Mapping[str, Any]) -> Iterator[tuple[str, list[str]]]:
    """The product_status lists CSAF defines (the schema lets other keys through; they mean nothing)."""
    for key, ids in vuln.get("product_status", {}).items():
        if key in STATUS_GROUPS:
            yield key, ids


def vulnerability_statuses(vuln: Mapping[str, Any]) -> dict[str, ProductStatus]:
    """Product id -> status group in one vulnerability item; "recommended" counts as fixed only for products
    the item lists nowhere else."""
    out: dict[str, ProductStatus] = {}
    recommended: list[str] = []
    for key, ids in known_statuses(vuln):
        if key == "recommended":
            recommended.extend(ids)
            continue
        for pid in ids:
            out.setdefault(pid, STATUS_GROUPS[key])
    for pid in recommended:
        out.setdefault(pid, ProductStatus.FIXED)
    return out


# --- record lines ----------------------------------------------------------------------------------------


def format_record(summary: str, pairs: Iterable[tuple[str, str]]) -> str:
    """A threat/note text: one summary line, then ``key: value`` lines (empty values left out)."""
    lines = [summary.strip()]
    for key, value in pairs:
        value = " ".join(str(value).split())
        if value:
            lines.append(f"{key}: {value}")
    return "\n".join(lines)


def parse_record(text: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Inverse of `format_record`: (summary, ((key, value), ...)); lines without ``": "`` are skipped."""
    summary, _, rest = text.partition("\n")
    pairs = []
    for line in rest.split("\n"):
        key, sep, value = line.partition(": ")
        if sep:
            pairs.append((key.strip(), value.strip()))
    return summary.strip(), tuple(pairs)


def record_values(pairs: Iterable[tuple[str, str]], key: str) -> tuple[str, ...]:
    return tuple(v for k, v in pairs if k == key)


def record_value(pairs: Iterable[tuple[str, str]], key: str, default: str = "") -> str:
    for k, v in pairs:
        if k == key:
            return v
    return default


# --- reading products and statements ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CsafProduct:
    """A product a CSAF document defines, with the vendor/product/version its branch path names."""

    product_id: str
    name: str  # full product name
    vendor: str | None
    product: str | None  # product_name (or product_family) branch; the full name when there is none
    version: str | None  # product_version or product_version_range branch
    version_is_range: bool
    model_numbers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Remediation:
    category: RemediationCategory
    details: str
    url: str | None
    date: _dt.date | None


@dataclass(frozen=True, slots=True)
class ProductStatements:
    """Everything one document says about one product (of the KRACK vulnerabilities it covers)."""

    product: CsafProduct
    statuses: tuple[tuple[ProductStatus, tuple[str, ...]], ...]  # status -> vulnerability keys
    remediations: tuple[Remediation, ...]
    summary: str  # first line of the product's record threat (bundled documents)
    record: tuple[tuple[str, str], ...]  # record lines (bundled documents)
    date: _dt.date | None  # threat or remediation date, when the document dates the statement


def vulnerability_key(vuln: Mapping[str, Any]) -> str | None:
    """The KRACK CVE or the VU#228519 umbrella a CSAF vulnerability item is about, else None."""
    cve = vuln.get("cve")
    if cve is not None:
        cve = cve.upper()
        return cve if cve in _KRACK_IDS else None
    for ident in vuln.get("ids", ()):
        if ident.get("text", "").replace(" ", "").upper() == KRACK_VU:
            return KRACK_VU
    return None


def iter_products(doc: Mapping[str, Any]) -> Iterator[CsafProduct]:
    """Every product of the product tree: branch leaves, full_product_names and relationships."""
    tree = doc.get("product_tree", {})
    base: dict[str, CsafProduct] = {}

    def helper_models(product: Mapping[str, Any]) -> tuple[str, ...]:
        return tuple(product.get("product_identification_helper", {}).get("model_numbers", ()))

    def walk(branches: list, path: tuple[tuple[str, str], ...]) -> Iterator[CsafProduct]:
        for branch in branches:
            here = path + ((branch["category"], branch["name"]),)
            if "product" in branch:
                yield _from_path(branch["product"], here, helper_models(branch["product"]))
            if "branches" in branch:
                yield from walk(branch["branches"], here)

    for product in walk(tree.get("branches", ()), ()):
        base[product.product_id] = product
        yield product
    for item in tree.get("full_product_names", ()):
        product = CsafProduct(item["product_id"], item["name"], None, item["name"], None, False, helper_models(item))
        base[product.product_id] = product
        yield product
    for rel in tree.get("relationships", ()):
        item = rel["full_product_name"]
        component = base.get(rel["product_reference"])
        platform = base.get(rel["relates_to_product_reference"])
        if component is None or platform is None:
            continue
        # e.g. firmware 5.5 installed_on camera model X: match as (vendor, X, 5.5).
        yield CsafProduct(
            item["product_id"],
            item["name"],
            platform.vendor or component.vendor,
            platform.product,
            component.version,
            component.version_is_range,
            platform.model_numbers + helper_models(item),
        )


def _from_path(product: Mapping[str, Any], path: tuple[tuple[str, str], ...], models: tuple[str, ...]) -> CsafProduct:
    found: dict[str, str] = {}
    for category, name in path:
        found[category] = name
    version = found.get("product_version")
    is_range = version is None and "product_version_range" in found
    if is_range:
        version = found["product_version_range"]
    return CsafProduct(
        product["product_id"],
        product["name"],
        found.get("vendor"),
        found.get("product_name", found.get("product_family", product["name"])),
        version,
        is_range,
        models,
    )


def _date_of(text: str | None) -> _dt.date | None:
    return parse_datetime(text).date() if text else None


def product_statements(doc: Mapping[str, Any], *, read_records: bool) -> list[ProductStatements]:
    """Per product, the statuses the document gives it for KRACK vulnerabilities (others are ignored)."""
    groups = _product_groups(doc)
    products = {p.product_id: p for p in iter_products(doc)}
    statuses: dict[str, dict[ProductStatus, list[str]]] = {}
    remediations: dict[str, list[Remediation]] = {}
    records: dict[str, tuple[str, tuple[tuple[str, str], ...], _dt.date | None]] = {}

    def expand(item: Mapping[str, Any]) -> list[str]:
        ids = list(item.get("product_ids", ()))
        for group in item.get("group_ids", ()):
            ids.extend(groups.get(group, ()))
        return ids

    for vuln in doc.get("vulnerabilities", ()):
        key = vulnerability_key(vuln)
        if key is None:
            continue
        for pid, group in vulnerability_statuses(vuln).items():
            vulns = statuses.setdefault(pid, {}).setdefault(group, [])
            if key not in vulns:
                vulns.append(key)
        for item in vuln.get("remediations", ()):
            rem = Remediation(
                RemediationCategory(item["category"]), item["details"], item.get("url"), _date_of(item.get("date"))
            )
            for pid in expand(item):
                bucket = remediations.setdefault(pid, [])
                if rem not in bucket:
                    bucket.append(rem)
        if read_records:
            for item in vuln.get("threats", ()):
                ids = expand(item)
                if len(ids) != 1 or ids[0] in records:
                    continue
                summary, pairs = parse_record(item["details"])
                records[ids[0]] = (summary, pairs, _date_of(item.get("date")))

    out = []
    for pid, by_status in statuses.items():
        product = products.get(pid)
        if product is None:
            continue
        summary, pairs, threat_date = records.get(pid, ("", (), None))
        rems = tuple(remediations.get(pid, ()))
        date = threat_date or next((r.date for r in rems if r.date is not None), None)
        out.append(
            ProductStatements(
                product,
                tuple((status, tuple(vulns)) for status, vulns in by_status.items()),
                rems,
                summary,
                pairs,
                date,
            )
        )
    return out


def load_json(data: bytes, path: str) -> Any:
    """Parse JSON, naming the line and column of a syntax error."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError("not UTF-8 text", path=path, offset=exc.start) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", path=path) from None
    except RecursionError:
        raise InputError("not usable JSON: nested too deeply", path=path) from None
