"""Fleet inventory import and export: CSV, JSON and CycloneDX 1.6 ``device`` components.

Reading never stops at a bad entry: every good entry becomes a ``Device``, every bad one an ``InvalidRow``
that names the line and the field. Only a file that is not an inventory at all (unreadable, binary, not JSON,
no ``name`` column) raises one ``InputError`` naming the file.

CSV: the first non-blank line is the header, matched case-insensitively (``_FIELD_SYNONYMS``); other columns
are kept as ``Device.attributes``. The delimiter is whichever of ``,`` ``;`` TAB occurs most in the header.
Line numbers are physical lines where the record starts (quoted fields may span lines). Text is UTF-8 (with or
without BOM) or UTF-16 with BOM; a line that is not valid UTF-8 is read as latin-1 and a warning says so.
A cell that starts with an apostrophe followed by ``= + - @`` TAB or CR is unescaped (the writer's
CSV-injection guard, which is also how spreadsheets mark "text, not formula").

JSON: a list of objects, or an object with a ``devices`` list; keys as the CSV columns. Values may be strings,
numbers, booleans (``ft``/``pmf``) or a list of strings (``ciphers``).

CycloneDX (``bomFormat`` "CycloneDX", 1.4 to 1.7 read; 1.6 written): every component of type ``device`` at
any depth (and ``metadata.component``). ``name`` -> name; ``manufacturer.name``, else ``supplier.name``, else
``publisher`` -> vendor; ``version`` -> firmware (else the version of a nested ``firmware`` or
``operating-system`` component). Properties: ``krackwatch:model`` (else the product of a hardware ``cpe``),
``krackwatch:mac``, ``krackwatch:site``, ``krackwatch:role``, ``krackwatch:ft``, ``krackwatch:ciphers``,
``krackwatch:pmf``, ``krackwatch:firmware`` (only when the version does not fit the schema), and
``krackwatch:attribute:<column>`` for the other attributes; any other property is kept as an attribute
under its own name.
"""

from __future__ import annotations

import bisect
import csv
import hashlib
import io
import json
import json.decoder
import json.scanner
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from krackwatch import __version__
from krackwatch.advisories.normalize import model_key, normalize_vendor
from krackwatch.errors import InputError
from krackwatch.fleet import oui
from krackwatch.fleet.model import CIPHERS, Device, Role, VendorSource, make_device, parse_role
from krackwatch.fleet.oui import is_group, normalize_mac, vendor_key_for

__all__ = [
    "FIELDS",
    "InvalidRow",
    "InventoryFormat",
    "InventoryItem",
    "InventoryResult",
    "InventoryWarning",
    "iter_inventory",
    "load_inventory",
    "to_cyclonedx",
    "write_inventory_csv",
]

FIELDS = ("name", "vendor", "model", "firmware", "mac", "site", "role", "ft", "ciphers", "pmf")
PROPERTY_PREFIX = "krackwatch:"
ATTRIBUTE_PREFIX = "krackwatch:attribute:"


class InventoryFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    CYCLONEDX = "cyclonedx"


@dataclass(frozen=True, slots=True)
class InvalidRow:
    """An entry that could not become a Device: where it is and every reason why."""

    line: int
    reason: str
    where: str = ""  # JSON path of the entry ("devices[3]", "components[0].components[2]")

    def describe(self) -> str:
        return f"{_location(self.line, self.where)}: {self.reason}"


@dataclass(frozen=True, slots=True)
class InventoryWarning:
    """Something worth telling the user that did not cost an entry (duplicates, encoding fallback...)."""

    line: int
    message: str
    where: str = ""

    def describe(self) -> str:
        return f"{_location(self.line, self.where)}: {self.message}"


InventoryItem = Device | InvalidRow | InventoryWarning


@dataclass(frozen=True, slots=True)
class InventoryResult:
    """Everything read from one inventory file."""

    devices: list[Device]
    invalid_rows: list[InvalidRow]
    format: InventoryFormat
    warnings: list[InventoryWarning] = field(default_factory=list)


def _location(line: int, where: str) -> str:
    if line and where:
        return f"line {line} ({where})"
    if line:
        return f"line {line}"
    return where or "file"


# ----------------------------------------------------------------------------------------------------------
# Field values
# ----------------------------------------------------------------------------------------------------------

# Header/key spellings, compared after lower-casing and turning '_', '-' and blank runs into one space.
_FIELD_SYNONYMS: dict[str, str] = {
    "name": "name", "device": "name", "device name": "name", "hostname": "name", "host": "name",
    "vendor": "vendor", "manufacturer": "vendor", "make": "vendor", "brand": "vendor",
    "model": "model", "model number": "model", "product": "model", "hardware": "model",
    "firmware": "firmware", "firmware version": "firmware", "fw": "firmware", "fw version": "firmware",
    "version": "firmware", "software version": "firmware", "os version": "firmware",
    "mac": "mac", "mac address": "mac", "macaddress": "mac", "mac addr": "mac", "hwaddr": "mac",
    "site": "site", "location": "site",
    "role": "role", "device role": "role", "type": "role", "device type": "role", "mode": "role",
    "ft": "ft", "802.11r": "ft", "80211r": "ft", "fast transition": "ft", "fast roaming": "ft",
    "ciphers": "ciphers", "cipher": "ciphers", "cipher suites": "ciphers", "encryption": "ciphers",
    "pmf": "pmf", "802.11w": "pmf", "80211w": "pmf", "mfp": "pmf", "management frame protection": "pmf",
}

_ROLE_LIST = ", ".join(r.value for r in Role)
_BOOL_WORDS: dict[str, bool | None] = {
    "": None, "yes": True, "y": True, "true": True, "t": True, "1": True, "on": True, "enabled": True,
    "enable": True, "no": False, "n": False, "false": False, "f": False, "0": False, "off": False,
    "disabled": False, "disable": False, "unknown": None, "?": None, "n/a": None, "na": None,
}
# PMF (802.11w) has three settings; "optional"/"capable" still negotiates MFP with capable peers.
_PMF_WORDS: dict[str, bool | None] = {
    **_BOOL_WORDS, "optional": True, "capable": True, "required": True, "mandatory": True,
}
_CIPHER_WORDS = {
    "ccmp": "CCMP", "ccmp128": "CCMP", "ccmp256": "CCMP", "aes": "CCMP", "aesccmp": "CCMP",
    "gcmp": "GCMP", "gcmp128": "GCMP", "gcmp256": "GCMP",
    "tkip": "TKIP", "wep": "WEP", "wep40": "WEP", "wep104": "WEP", "wep64": "WEP", "wep128": "WEP",
}
_CIPHER_SEPARATORS = str.maketrans({",": ";", "/": ";", "+": ";", "|": ";", " ": ";", "\t": ";"})
_EMPTY_CIPHERS: frozenset[str] = frozenset()
_BAD: Any = object()  # "not in the table" marker (None is a valid answer: not stated)
_GROUP_DIGITS = frozenset("13579bdf")  # second hex digit of a group (I/G bit set) address


def _with_cases(table: dict[str, Any]) -> dict[str, Any]:
    out = dict(table)
    for word, value in table.items():
        out.setdefault(word.upper(), value)
        out.setdefault(word.title(), value)
    return out


_BOOL_FAST = _with_cases(_BOOL_WORDS)
_PMF_FAST = _with_cases(_PMF_WORDS)
_ROLE_FAST: dict[str, Role] = {r.value: r for r in Role}
_CACHE_LIMIT = 4096
_SHARED_LIMIT = 1 << 16

# CSV injection (OWASP): a cell starting with one of these is a formula to a spreadsheet.
_FORMULA_STARTS = frozenset("=+-@\t\r")


def _field_name(header: str) -> str:
    return " ".join(header.strip().lstrip("\ufeff").lower().replace("_", " ").replace("-", " ").split())


def _quote(value: str) -> str:
    return repr(value if len(value) <= 60 else value[:57] + "...")


def _escape_cell(value: str) -> str:
    """Neutralise a spreadsheet formula with a leading apostrophe (bijective with ``_unescape_cell``)."""
    if value:
        i = 0
        while i < len(value) and value[i] == "'":
            i += 1
        if i < len(value) and value[i] in _FORMULA_STARTS:
            return "'" + value
    return value


def _unescape_cell(value: str) -> str:
    i = 0
    while i < len(value) and value[i] == "'":
        i += 1
    if 0 < i < len(value) and value[i] in _FORMULA_STARTS:
        return value[1:]
    return value


class _Builder:
    """Turns raw field text into a Device or an InvalidRow; holds the per-file caches and the OUI switch."""

    __slots__ = ("_cipher_cache", "_resolve_oui", "_shared", "pending")

    def __init__(self, resolve_oui: bool) -> None:
        self._resolve_oui = resolve_oui
        self._cipher_cache: dict[str, frozenset[str] | str] = {}
        # One copy of each repeated value (vendor, model, site, attribute pairs...): a fleet repeats them on
        # thousands of rows, and a loaded inventory would otherwise hold a copy per row. Bounded.
        self._shared: dict[Any, Any] = {}
        self.pending: list[InventoryWarning] = []

    def share(self, value: Any) -> Any:
        shared = self._shared.get(value)
        if shared is None:
            if len(self._shared) < _SHARED_LIMIT:
                self._shared[value] = value
            return value
        return shared

    def _ciphers(self, text: str) -> frozenset[str] | str:
        cached = self._cipher_cache.get(text)
        if cached is not None:
            return cached
        out: set[str] = set()
        result: frozenset[str] | str
        for part in text.translate(_CIPHER_SEPARATORS).split(";"):
            if not part:
                continue
            canon = _CIPHER_WORDS.get(part.lower().replace("-", "").replace("_", ""))
            if canon is None:
                result = f"ciphers: {_quote(part)} is not one of {', '.join(CIPHERS)}"
                break
            out.add(canon)
        else:
            result = frozenset(out) if out else _EMPTY_CIPHERS
        if len(self._cipher_cache) < _CACHE_LIMIT:
            self._cipher_cache[text] = result
        return result

    def build(
        self,
        name: str,
        vendor: str,
        model: str,
        firmware: str,
        mac: str,
        site: str,
        role: str,
        ft: str,
        ciphers: str,
        pmf: str,
        attributes: tuple[tuple[str, str], ...],
        line: int,
        where: str = "",
    ) -> Device | InvalidRow:
        # Happy path first, with exact-text table lookups; any miss goes to _invalid for the reasons.
        role_value = _ROLE_FAST.get(role) or (parse_role(role) if role else None)
        mac_value = normalize_mac(mac) if mac else None
        ft_value = _BOOL_FAST.get(ft, _BAD)
        pmf_value = _PMF_FAST.get(pmf, _BAD)
        cipher_value = (
            (self._cipher_cache.get(ciphers) or self._ciphers(ciphers)) if ciphers else _EMPTY_CIPHERS
        )
        if ft_value is _BAD:
            ft_value = _BOOL_WORDS.get(ft.lower(), _BAD)
        if pmf_value is _BAD:
            pmf_value = _PMF_WORDS.get(pmf.lower(), _BAD)
        if (
            not name
            or role_value is None
            or (mac and (mac_value is None or mac_value[1] in _GROUP_DIGITS))
            or ft_value is _BAD
            or pmf_value is _BAD
            or cipher_value.__class__ is str
        ):
            return self._invalid(name, mac, role, ft, pmf, cipher_value, line, where)
        if vendor:
            vendor_key = normalize_vendor(vendor)
            source = VendorSource.INVENTORY
            self.share(vendor)
        elif mac_value is not None and self._resolve_oui:
            vendor_key = self._oui_vendor(mac_value, line)
            source = VendorSource.OUI if vendor_key else VendorSource.UNKNOWN
        else:
            vendor_key = ""
            source = VendorSource.UNKNOWN
        shared = self._shared
        return make_device(
            name, shared.get(vendor, vendor), vendor_key, shared.get(model) or self.share(model),
            model_key(model, vendor or None) if model else "", shared.get(firmware) or self.share(firmware),
            mac_value, shared.get(site) or self.share(site), role_value, ft_value, cipher_value,  # type: ignore[arg-type]
            pmf_value, attributes, line, source,  # type: ignore[arg-type]
        )

    @staticmethod
    def _invalid(name: str, mac: str, role: str, ft: str, pmf: str, cipher_value: frozenset[str] | str,
                 line: int, where: str) -> InvalidRow:
        problems: list[str] = []
        if not name:
            problems.append("missing name")
        if not role:
            problems.append(f"missing role (one of {_ROLE_LIST})")
        elif parse_role(role) is None:
            problems.append(f"role {_quote(role)} is not one of {_ROLE_LIST}")
        if mac:
            norm = normalize_mac(mac)
            if norm is None:
                problems.append(f"mac {_quote(mac)} is not a MAC address")
            elif is_group(norm):
                problems.append(f"mac {_quote(mac)} is a group (multicast) address, not a device's")
        if ft and _BOOL_WORDS.get(ft.lower(), _BAD) is _BAD:
            problems.append(f"ft {_quote(ft)} is not yes/no")
        if pmf and _PMF_WORDS.get(pmf.lower(), _BAD) is _BAD:
            problems.append(f"pmf {_quote(pmf)} is not yes/no/optional/required")
        if isinstance(cipher_value, str):
            problems.append(cipher_value)
        return InvalidRow(line, "; ".join(problems), where)

    def _oui_vendor(self, mac: str, line: int) -> str:
        try:
            return vendor_key_for(mac)
        except oui.OuiDatabaseUnavailable as exc:
            self._resolve_oui = False
            self.pending.append(InventoryWarning(line, f"vendor lookup by MAC prefix disabled: {exc}"))
            return ""


# ----------------------------------------------------------------------------------------------------------
# Opening and sniffing
# ----------------------------------------------------------------------------------------------------------

_SNIFF_BYTES = 65536


def _open_binary(path: Path) -> IO[bytes]:
    try:
        return open(path, "rb")  # closed by the generator that reads it
    except OSError as exc:
        raise InputError(f"cannot read inventory: {exc.strerror or exc}", path=str(path)) from exc


def _sniff(path: Path, raw: IO[bytes]) -> tuple[InventoryFormat | None, str]:
    """(JSON or CSV-or-None, encoding) from the first bytes; raises InputError for non-text files."""
    try:
        head = raw.read(_SNIFF_BYTES)
        raw.seek(0)
    except OSError as exc:
        raise InputError(f"cannot read inventory: {exc.strerror or exc}", path=str(path)) from exc
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
        text = head.decode("utf-16", errors="replace")
    else:
        encoding = "utf-8"
        if b"\x00" in head:
            raise InputError("binary data (NUL bytes), not an inventory", path=str(path))
        text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    stripped = text.lstrip()
    if not stripped:
        raise InputError("empty file, not an inventory", path=str(path))
    if stripped[0] in "[{":
        return InventoryFormat.JSON, encoding
    return None, encoding


def _read_text(path: Path, raw: IO[bytes], encoding: str, warnings: list[InventoryWarning]) -> str:
    try:
        data = raw.read()
    except OSError as exc:
        raise InputError(f"cannot read inventory: {exc.strerror or exc}", path=str(path)) from exc
    if encoding == "utf-16":
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        warnings.append(InventoryWarning(line, "not valid UTF-8; the whole file was read as latin-1"))
        return data.decode("latin-1")


# ----------------------------------------------------------------------------------------------------------
# CSV
# ----------------------------------------------------------------------------------------------------------


def _utf8_lines(raw: IO[bytes], warnings: list[InventoryWarning]) -> Iterator[str]:
    """Decode line by line so one bad byte costs one line's encoding, not the file."""
    warned = False
    for lineno, chunk in enumerate(raw, 1):
        if lineno == 1 and chunk.startswith(b"\xef\xbb\xbf"):
            chunk = chunk[3:]
        try:
            yield chunk.decode("utf-8")
        except UnicodeDecodeError:
            if not warned:
                warned = True
                warnings.append(InventoryWarning(
                    lineno, "not valid UTF-8; read as latin-1 (also any later such lines)"))
            yield chunk.decode("latin-1")


def _iter_csv(path: Path, raw: IO[bytes], encoding: str, builder: _Builder) -> Iterator[InventoryItem]:
    warnings: list[InventoryWarning] = []
    if encoding == "utf-16":
        lines: Iterator[str] = iter(io.TextIOWrapper(raw, encoding="utf-16", errors="replace", newline=""))
    else:
        lines = _utf8_lines(raw, warnings)
    # Header: first non-blank line; its delimiter decides the file's.
    header_text = ""
    header_line = 0
    for text in lines:
        header_line += 1
        if text.strip():
            header_text = text
            break
    if not header_text:
        raise InputError("no header line, not an inventory", path=str(path))
    delimiter = max((",", ";", "\t"), key=header_text.count)
    try:
        header = next(csv.reader([header_text], delimiter=delimiter, strict=False))
    except (csv.Error, StopIteration) as exc:
        raise InputError(f"unreadable CSV header on line {header_line}: {exc}", path=str(path)) from exc
    width = len(header)
    index = dict.fromkeys(FIELDS, width)  # missing field -> the "" sentinel at row[width]
    extras: list[tuple[int, str]] = []
    for i, cell in enumerate(header):
        shown = _unescape_cell(cell.strip().lstrip("\ufeff"))
        canon = _FIELD_SYNONYMS.get(_field_name(cell))
        if canon is not None and index[canon] == width:
            index[canon] = i
        elif canon is not None:
            warnings.append(InventoryWarning(
                header_line, f"column {shown!r} repeats the {canon!r} column; its values are ignored"))
        else:
            extras.append((i, shown or f"column{i + 1}"))
    if index["name"] == width:
        columns = ", ".join(_quote(c.strip()) for c in header[:12])
        raise InputError(
            f"not an inventory: the header (line {header_line}) has no 'name' column (found {columns})",
            path=str(path),
        )
    yield from warnings
    warnings.clear()

    reader = csv.reader(lines, delimiter=delimiter, strict=False)
    i_name, i_vendor, i_model, i_firmware, i_mac, i_site, i_role, i_ft, i_ciphers, i_pmf = (
        index[f] for f in FIELDS
    )
    build = builder.build
    share = builder.share
    pad = [""] * (width + 1)
    previous = 0
    while True:
        try:
            for row in reader:
                start = header_line + previous + 1
                previous = reader.line_num
                if warnings:
                    yield from warnings
                    warnings.clear()
                n = len(row)
                if n == width:
                    row.append("")
                elif n < width:
                    if n == 0 or (n == 1 and not row[0].strip()):
                        continue  # blank line
                    row.extend(pad[n:])
                elif any(c.strip() for c in row[width:]):
                    yield InvalidRow(start, f"{n} cells but the header has {width} columns{_hint(delimiter)}")
                    continue
                else:
                    del row[width + 1:]
                    row[width] = ""
                if "'" in "".join(row):
                    row = [_unescape_cell(c.strip()) for c in row]
                attributes = tuple(
                    [share((label, v)) for j, label in extras if (v := row[j].strip())]
                ) if extras else ()
                item = build(
                    row[i_name].strip(), row[i_vendor].strip(), row[i_model].strip(), row[i_firmware].strip(),
                    row[i_mac].strip(), row[i_site].strip(), row[i_role].strip(), row[i_ft].strip(),
                    row[i_ciphers].strip(), row[i_pmf].strip(), attributes, start,
                )
                if n > width and item.__class__ is InvalidRow:
                    # Trailing empty cells are common; if the row is also invalid, a split value is likely.
                    item = InvalidRow(
                        start, f"{item.reason} ({n} cells but the header has {width}{_hint(delimiter)})"
                    )
                yield item
                if builder.pending:
                    yield from builder.pending
                    builder.pending.clear()
        except csv.Error as exc:
            start = header_line + previous + 1
            previous = reader.line_num
            yield InvalidRow(start, f"unreadable CSV: {exc}")
            continue
        break
    yield from warnings


def _hint(delimiter: str) -> str:
    shown = "TAB" if delimiter == "\t" else repr(delimiter)
    return f"; is a value with {shown} in it missing its quotes?"


# ----------------------------------------------------------------------------------------------------------
# JSON and CycloneDX
# ----------------------------------------------------------------------------------------------------------


class _LineDict(dict[str, Any]):
    """A JSON object that remembers the line its '{' is on."""

    __slots__ = ("line",)


def _parse_json_with_lines(text: str) -> Any:
    newlines: list[int] = []
    pos = text.find("\n")
    while pos >= 0:
        newlines.append(pos)
        pos = text.find("\n", pos + 1)
    decoder = json.JSONDecoder()

    def parse_object(s_and_end: tuple[str, int], strict: bool, scan_once: Any, object_hook: Any,
                     object_pairs_hook: Any, memo: Any = None) -> tuple[_LineDict, int]:
        start = s_and_end[1] - 1
        obj, end = json.decoder.JSONObject(s_and_end, strict, scan_once, None, None, memo)
        out = _LineDict(obj)
        out.line = bisect.bisect_left(newlines, start) + 1
        return out, end

    decoder.parse_object = parse_object  # type: ignore[assignment]
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    return decoder.decode(text)


def _scalar_text(value: Any, field_name: str) -> str | None:
    """JSON value as field text; None when the value cannot be text (a list or object)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float):
        return str(value)
    if field_name == "ciphers" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ";".join(v.strip() for v in value)
    return None


# Valid stand-ins for fields whose JSON value had the wrong type (the entry is reported for that already).
_STAND_IN = {"name": "?", "role": Role.STATION.value}


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return type(value).__name__


def _attribute_text(value: Any) -> str:
    text = _scalar_text(value, "")
    if text is not None:
        return text
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _build_from_mapping(
    builder: _Builder,
    values: dict[str, str],
    problems: list[str],
    attributes: tuple[tuple[str, str], ...],
    line: int,
    where: str,
) -> Device | InvalidRow:
    get = values.get
    item = builder.build(
        get("name", ""), get("vendor", ""), get("model", ""), get("firmware", ""), get("mac", ""),
        get("site", ""), get("role", ""), get("ft", ""), get("ciphers", ""), get("pmf", ""),
        attributes, line, where,
    )
    if problems:
        reasons = "; ".join(problems)
        if isinstance(item, InvalidRow):
            reasons = f"{reasons}; {item.reason}"
        return InvalidRow(line, reasons, where)
    return item


def _iter_json_devices(items: list[Any], prefix: str, builder: _Builder) -> Iterator[InventoryItem]:
    for i, obj in enumerate(items):
        where = f"{prefix}[{i}]"
        line = getattr(obj, "line", 0)
        if not isinstance(obj, dict):
            yield InvalidRow(line, f"expected an object, got {_json_type(obj)}", where)
            continue
        values: dict[str, str] = {}
        problems: list[str] = []
        attributes: list[tuple[str, str]] = []
        for key, value in obj.items():
            canon = _FIELD_SYNONYMS.get(_field_name(key))
            if canon is None:
                text = _attribute_text(value)
                if text:
                    attributes.append((key, text))
                continue
            if canon in values:
                continue
            text = _scalar_text(value, canon)
            if text is None:
                problems.append(f"{canon}: expected text, got {_json_type(value)}")
                text = _STAND_IN.get(canon, "")  # the entry is invalid already; avoid a second "missing"
            values[canon] = text
        yield _build_from_mapping(builder, values, problems, tuple(attributes), line, where)
        if builder.pending:
            yield from builder.pending
            builder.pending.clear()


_FIRMWARE_TYPES = ("firmware", "operating-system")


def _cpe_product(cpe: Any) -> str:
    """Product of a hardware CPE (2.3 formatted string or 2.2 URI), "" otherwise."""
    if not isinstance(cpe, str):
        return ""
    parts = cpe.split(":")
    if cpe.startswith("cpe:2.3:") and len(parts) > 4 and parts[2] == "h":
        product = parts[4]
    elif cpe.startswith("cpe:/h:") and len(parts) > 3:
        product = parts[3]
    else:
        return ""
    product = product.replace("\\", "")
    return "" if product in ("*", "-") else product.replace("_", " ")


def _cyclonedx_device(comp: dict[str, Any], where: str, builder: _Builder) -> Device | InvalidRow:
    line = getattr(comp, "line", 0)
    problems: list[str] = []
    values: dict[str, str] = {}
    name = comp.get("name")
    if isinstance(name, str):
        values["name"] = name.strip()
    elif name is not None:
        problems.append(f"name: expected text, got {_json_type(name)}")
        values["name"] = _STAND_IN["name"]
    for key in ("manufacturer", "supplier"):
        entity = comp.get(key)
        if isinstance(entity, dict) and isinstance(entity.get("name"), str) and entity["name"].strip():
            values["vendor"] = entity["name"].strip()
            break
    else:
        for key in ("publisher", "author"):
            text = comp.get(key)
            if isinstance(text, str) and text.strip():
                values["vendor"] = text.strip()
                break
    version = comp.get("version")
    if isinstance(version, str) and version.strip():
        values["firmware"] = version.strip()
    attributes: list[tuple[str, str]] = []
    props = comp.get("properties")
    if props is not None and not isinstance(props, list):
        problems.append("properties: expected a list")
        props = []
    for prop in props or ():
        if not isinstance(prop, dict) or not isinstance(prop.get("name"), str):
            problems.append("properties: an entry without a name")
            continue
        pname: str = prop["name"]
        pvalue = prop.get("value", "")
        text = pvalue.strip() if isinstance(pvalue, str) else _attribute_text(pvalue)
        if pname.startswith(ATTRIBUTE_PREFIX):
            if text:
                attributes.append((pname[len(ATTRIBUTE_PREFIX):], text))
        elif pname.startswith(PROPERTY_PREFIX) and pname[len(PROPERTY_PREFIX):] in FIELDS:
            values.setdefault(pname[len(PROPERTY_PREFIX):], text)
        elif text:
            attributes.append((pname, text))
    if not values.get("model"):
        product = _cpe_product(comp.get("cpe"))
        if product:
            values["model"] = product
    if not values.get("firmware"):
        for child in comp.get("components") or ():
            if isinstance(child, dict) and child.get("type") in _FIRMWARE_TYPES:
                child_version = child.get("version")
                if isinstance(child_version, str) and child_version.strip():
                    values["firmware"] = child_version.strip()
                    break
    return _build_from_mapping(builder, values, problems, tuple(attributes), line, where)


def _iter_cyclonedx(doc: dict[str, Any], builder: _Builder) -> Iterator[InventoryItem]:
    spec = doc.get("specVersion")
    if spec not in ("1.4", "1.5", "1.6", "1.7"):
        yield InventoryWarning(getattr(doc, "line", 0), f"CycloneDX specVersion {spec!r} read as 1.6")
    skipped = 0
    stack: list[tuple[Any, str]] = []
    metadata = doc.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("component"), dict):
        stack.append((metadata["component"], "metadata.component"))
    components = doc.get("components", [])
    if not isinstance(components, list):
        yield InvalidRow(getattr(doc, "line", 0), "components: expected a list", "components")
        components = []
    # Depth-first in document order.
    stack.extend(reversed([(c, f"components[{i}]") for i, c in enumerate(components)]))
    while stack:
        comp, where = stack.pop()
        if not isinstance(comp, dict):
            yield InvalidRow(0, f"expected a component object, got {_json_type(comp)}", where)
            continue
        children = comp.get("components")
        if comp.get("type") == "device":
            yield _cyclonedx_device(comp, where, builder)
            if builder.pending:
                yield from builder.pending
                builder.pending.clear()
        elif not where.startswith("metadata"):
            skipped += 1
        if isinstance(children, list):
            nested = [(c, f"{where}.components[{i}]") for i, c in enumerate(children)]
            if comp.get("type") == "device":
                # A device's own firmware/OS entries were read into its firmware field.
                nested = [(c, w) for c, w in nested
                          if not (isinstance(c, dict) and c.get("type") in _FIRMWARE_TYPES)]
            stack.extend(reversed(nested))
    if skipped:
        yield InventoryWarning(0, f"{skipped} component(s) that are not of type 'device' were skipped")


def _iter_json(path: Path, raw: IO[bytes], encoding: str, builder: _Builder,
               detected: list[InventoryFormat]) -> Iterator[InventoryItem]:
    warnings: list[InventoryWarning] = []
    text = _read_text(path, raw, encoding, warnings)
    try:
        doc = _parse_json_with_lines(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                         path=str(path)) from exc
    except (ValueError, RecursionError) as exc:
        raise InputError(f"not a usable JSON document: {exc}", path=str(path)) from exc
    yield from warnings
    if isinstance(doc, list):
        yield from _iter_json_devices(doc, "", builder)
        return
    if isinstance(doc, dict):
        if doc.get("bomFormat") == "CycloneDX":
            detected[0] = InventoryFormat.CYCLONEDX
            yield from _iter_cyclonedx(doc, builder)
            return
        for key, value in doc.items():
            if isinstance(key, str) and key.strip().lower() == "devices" and isinstance(value, list):
                yield from _iter_json_devices(value, key, builder)
                return
    raise InputError(
        "not an inventory: JSON must be a list of devices, an object with a 'devices' list, "
        "or a CycloneDX BOM",
        path=str(path),
    )


# ----------------------------------------------------------------------------------------------------------
# Public reading API
# ----------------------------------------------------------------------------------------------------------


def _iter_items(path: Path, resolve_oui: bool, detected: list[InventoryFormat]) -> Iterator[InventoryItem]:
    raw = _open_binary(path)
    with raw:
        fmt, encoding = _sniff(path, raw)
        builder = _Builder(resolve_oui)
        if fmt is InventoryFormat.JSON:
            detected[0] = InventoryFormat.JSON
            yield from _iter_json(path, raw, encoding, builder, detected)
        else:
            detected[0] = InventoryFormat.CSV
            yield from _iter_csv(path, raw, encoding, builder)


def iter_inventory(path: str | Path, *, resolve_oui: bool = True) -> Iterator[InventoryItem]:
    """Stream an inventory: each Device, InvalidRow or InventoryWarning in file order.

    CSV is read row by row in constant memory (duplicates are not tracked here; ``load_inventory`` does).
    JSON and CycloneDX documents are parsed whole. Raises InputError (on first iteration) for a file that is
    not an inventory. With ``resolve_oui``, a device without a vendor gets one from its MAC prefix.
    """
    return _iter_items(Path(path), resolve_oui, [InventoryFormat.CSV])


def load_inventory(path: str | Path, *, resolve_oui: bool = True) -> InventoryResult:
    """Read a whole inventory: good devices, bad rows with reasons, and warnings (duplicates included)."""
    detected = [InventoryFormat.CSV]
    devices: list[Device] = []
    invalid: list[InvalidRow] = []
    warnings: list[InventoryWarning] = []
    names: dict[str, Device] = {}
    macs: dict[str, Device] = {}
    for item in _iter_items(Path(path), resolve_oui, detected):
        if isinstance(item, Device):
            devices.append(item)
            key = item.name.casefold()
            first = names.setdefault(item.name if key == item.name else key, item)
            if first is not item:
                warnings.append(InventoryWarning(
                    item.source_line,
                    f"duplicate name {_quote(item.name)} (first at {_location(first.source_line, '')});"
                    " both kept",
                ))
            if item.mac is not None:
                first = macs.setdefault(item.mac, item)
                if first is not item:
                    warnings.append(InventoryWarning(
                        item.source_line,
                        f"duplicate mac {item.mac} (also {_quote(first.name)} at "
                        f"{_location(first.source_line, '')}); both kept",
                    ))
        elif isinstance(item, InvalidRow):
            invalid.append(item)
        else:
            warnings.append(item)
    return InventoryResult(devices, invalid, detected[0], warnings)


# ----------------------------------------------------------------------------------------------------------
# Writers
# ----------------------------------------------------------------------------------------------------------


def _bool_text(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def _ciphers_text(ciphers: frozenset[str]) -> str:
    return ";".join(c for c in CIPHERS if c in ciphers)


def write_inventory_csv(devices: Iterable[Device], fileobj: IO[str]) -> int:
    """Write devices as an inventory CSV that ``load_inventory`` reads back; returns the rows written.

    Every cell that a spreadsheet would run as a formula gets a leading apostrophe. Attribute columns
    follow the standard ones, in order of first appearance. Open ``fileobj`` with ``newline=""``.
    """
    rows: Sequence[Device] = devices if isinstance(devices, Sequence) else list(devices)
    extra: dict[str, None] = {}
    for device in rows:
        for label, _ in device.attributes:
            extra.setdefault(label, None)
    labels = list(extra)
    # An attribute whose label reads as a standard column ("type" means role) gets a suffix so it stays data.
    headers = [label if _field_name(label) not in _FIELD_SYNONYMS else f"{label} (attribute)"
               for label in labels]
    writer = csv.writer(fileobj, lineterminator="\r\n")
    writer.writerow([_escape_cell(c) for c in (*FIELDS, *headers)])
    esc = _escape_cell
    for device in rows:
        attrs = dict(device.attributes)
        writer.writerow([
            esc(device.name), esc(device.vendor), esc(device.model), esc(device.firmware), device.mac or "",
            esc(device.site), device.role.value, _bool_text(device.ft), _ciphers_text(device.ciphers),
            _bool_text(device.pmf), *(esc(attrs.get(label, "")) for label in labels),
        ])
    return len(rows)


_MAX_CDX_VERSION = 1024  # bom-1.6 "version" maxLength


def _device_component(device: Device, index: int) -> dict[str, Any]:
    comp: dict[str, Any] = {"type": "device", "bom-ref": f"krackwatch-device-{index}", "name": device.name}
    props: list[dict[str, str]] = []
    if device.vendor:
        comp["manufacturer"] = {"name": device.vendor}
    if device.firmware:
        if len(device.firmware) <= _MAX_CDX_VERSION:
            comp["version"] = device.firmware
        else:
            props.append({"name": "krackwatch:firmware", "value": device.firmware})
    if device.model:
        props.append({"name": "krackwatch:model", "value": device.model})
    if device.mac:
        props.append({"name": "krackwatch:mac", "value": device.mac})
    if device.site:
        props.append({"name": "krackwatch:site", "value": device.site})
    props.append({"name": "krackwatch:role", "value": device.role.value})
    if device.ft is not None:
        props.append({"name": "krackwatch:ft", "value": "true" if device.ft else "false"})
    if device.ciphers:
        props.append({"name": "krackwatch:ciphers", "value": _ciphers_text(device.ciphers)})
    if device.pmf is not None:
        props.append({"name": "krackwatch:pmf", "value": "true" if device.pmf else "false"})
    for label, value in device.attributes:
        props.append({"name": ATTRIBUTE_PREFIX + label, "value": value})
    comp["properties"] = props
    return comp


def to_cyclonedx(devices: Iterable[Device], *, timestamp: datetime | None = None,
                 serial_number: str | None = None) -> dict[str, Any]:
    """A CycloneDX 1.6 BOM with one ``device`` component per device (valid against bom-1.6.schema.json).

    Deterministic: without ``serial_number`` the serial is a UUID derived from the content; the timestamp is
    included only when given.
    """
    components = [_device_component(d, i) for i, d in enumerate(devices, 1)]
    if serial_number is None:
        digest = hashlib.sha256(
            json.dumps(components, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
        serial_number = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:krackwatch:inventory:{digest}").urn
    metadata: dict[str, Any] = {
        "tools": {"components": [{"type": "application", "name": "krackwatch", "version": __version__}]},
    }
    if timestamp is not None:
        metadata["timestamp"] = timestamp.isoformat()
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": serial_number,
        "version": 1,
        "metadata": metadata,
        "components": components,
    }
