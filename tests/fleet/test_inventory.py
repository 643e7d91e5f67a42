"""Inventory import/export against hand-made files in tests/data/inventories (see its README for what each
file holds and why), the CycloneDX 1.6 schema, and properties (round trips, no crash on random bytes)."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from krackwatch.advisories.normalize import normalize_vendor
from krackwatch.errors import InputError
from krackwatch.fleet import (
    Device,
    InvalidRow,
    InventoryFormat,
    InventoryWarning,
    Role,
    VendorSource,
    iter_inventory,
    load_inventory,
    to_cyclonedx,
    write_inventory_csv,
)

DATA = Path(__file__).resolve().parents[1] / "data"
INV = DATA / "inventories"
SCHEMAS = DATA / "schemas"

try:
    import netaddr  # noqa: F401  (the offline IEEE registry the OUI lookup reads)

    HAVE_OUI = True
except ImportError:
    HAVE_OUI = False
needs_oui = pytest.mark.skipif(not HAVE_OUI, reason="needs the netaddr package (IEEE registry files)")


def _by_name(devices: list[Device]) -> dict[str, Device]:
    return {d.name: d for d in devices}


def _reasons(result_rows: list[InvalidRow]) -> dict[int, str]:
    return {r.line: r.reason for r in result_rows}


# --------------------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------------------


def test_mixed_csv_keeps_every_good_row_and_reports_every_bad_one() -> None:
    result = load_inventory(INV / "mixed.csv")
    assert result.format is InventoryFormat.CSV
    assert [d.source_line for d in result.devices] == [2, 3, 5, 8, 10, 12, 15]
    assert sorted(r.line for r in result.invalid_rows) == [4, 6, 7, 9, 13]
    reasons = _reasons(result.invalid_rows)
    assert reasons[6] == "missing name"
    assert reasons[7].startswith("role 'toaster' is not one of access-point, station, client-bridge")
    assert "13 cells but the header has 12" in reasons[4] and "quotes" in reasons[4]
    assert "13 cells but the header has 12" in reasons[9]
    for expected in ("mac '01:00:5e:00:00:01' is a group (multicast) address", "ft 'maybe' is not yes/no",
                     "pmf 'sometimes' is not", "ciphers: 'FOO' is not one of CCMP, GCMP, TKIP, WEP"):
        assert expected in reasons[13]
    assert result.invalid_rows[1].describe() == "line 6: missing name"


def test_mixed_csv_field_values() -> None:
    devices = load_inventory(INV / "mixed.csv").devices
    lobby, bridge, cam = devices[0], devices[1], devices[2]
    assert (lobby.name, lobby.vendor, lobby.vendor_key, lobby.model_key) == (
        "lobby-ap", "EnGenius Technologies", "engenius", "ENS620EXT")
    assert (lobby.mac, lobby.site, lobby.role, lobby.ft, lobby.ciphers, lobby.pmf) == (
        "88:dc:96:01:02:03", "HQ", Role.ACCESS_POINT, True, frozenset({"CCMP"}), True)
    assert lobby.attributes == (("Owner", "netops"), ("Asset Tag", "A-001"))  # header case kept
    assert (bridge.role, bridge.model_key, bridge.ft, bridge.pmf, bridge.ciphers) == (
        Role.CLIENT_BRIDGE, "ENH202V2", False, False, frozenset({"CCMP", "TKIP"}))
    assert bridge.mac == "88:dc:96:01:02:04"
    assert (cam.vendor_key, cam.role, cam.mac, cam.firmware, cam.ciphers) == (
        "hikvision", Role.CAMERA, "0c:75:d2:aa:bb:cd", "V5.4.5 build 170721", frozenset({"WEP"}))
    assert cam.attributes == (("Owner", "security"),)  # the empty "Asset Tag" is not kept
    mystery = devices[3]
    assert (mystery.vendor, mystery.vendor_key, mystery.vendor_source, mystery.mac) == (
        "", "", VendorSource.UNKNOWN, None)
    phone = devices[5]
    assert (phone.role, phone.vendor_key, phone.vendor_source) == (
        Role.PHONE, "samsung", VendorSource.INVENTORY)


def test_quoted_multiline_field_and_line_numbers() -> None:
    devices = _by_name(load_inventory(INV / "mixed.csv", resolve_oui=False).devices)
    rpi = devices["rpi-sensor"]
    assert rpi.source_line == 10
    assert dict(rpi.attributes)["Owner"] == "lab\nteam"
    assert devices["phone-7"].source_line == 12  # the record after the two-line one


@needs_oui
def test_vendor_from_mac_prefix_when_the_vendor_column_is_empty() -> None:
    devices = _by_name(load_inventory(INV / "mixed.csv").devices)
    rpi = devices["rpi-sensor"]
    assert (rpi.vendor, rpi.vendor_source) == ("", VendorSource.OUI)
    assert rpi.vendor_key == normalize_vendor("Raspberry Pi Foundation")  # B8-27-EB's IEEE registrant
    assert devices["phone-7"].vendor_key == "samsung"  # given vendor wins; randomised MAC names none anyway


def test_without_oui_resolution_no_vendor_is_guessed() -> None:
    rpi = _by_name(load_inventory(INV / "mixed.csv", resolve_oui=False).devices)["rpi-sensor"]
    assert (rpi.vendor_key, rpi.vendor_source) == ("", VendorSource.UNKNOWN)


def test_duplicates_are_kept_with_warnings() -> None:
    result = load_inventory(INV / "mixed.csv")
    assert [d.name for d in result.devices].count("lobby-ap") == 2
    messages = [w.describe() for w in result.warnings]
    assert "line 15: duplicate name 'lobby-ap' (first at line 2); both kept" in messages
    assert any(m.startswith("line 15: duplicate mac 88:dc:96:01:02:03") for m in messages)


def test_bom_crlf_semicolons_and_hostile_names() -> None:
    result = load_inventory(INV / "bom_semicolon.csv")
    assert result.invalid_rows == [] and result.warnings == []
    devices = _by_name(result.devices)
    assert set(devices) == {"<script>alert(1)</script>", "=cmd|' /C calc'!A0", "Caf\u00e9 \u2615"}
    assert devices["<script>alert(1)</script>"].role is Role.ACCESS_POINT  # "router"
    assert devices["<script>alert(1)</script>"].model_key == "ARCHERC7V2"
    assert devices["=cmd|' /C calc'!A0"].role is Role.WDS_BRIDGE  # "wds"
    cafe = devices["Caf\u00e9 \u2615"]
    assert (cafe.site, cafe.vendor_key, cafe.role) == ("Z\u00fcrich", "mikrotik", Role.MESH)


def test_latin1_lines_are_read_with_a_warning() -> None:
    result = load_inventory(INV / "latin1.csv")
    assert [d.name for d in result.devices] == ["ap-1", "bo\u00eete-2"]
    assert [w.line for w in result.warnings] == [3]
    assert "latin-1" in result.warnings[0].message


def test_utf16_excel_export(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("name\tvendor\trole\r\nap-\u00e9\tZyxel\tAP\r\n".encode("utf-16"))
    result = load_inventory(path)
    assert [(d.name, d.role) for d in result.devices] == [("ap-\u00e9", Role.ACCESS_POINT)]


def test_header_synonyms_and_repeated_columns(tmp_path: Path) -> None:
    path = tmp_path / "inv.csv"
    path.write_text("Hostname,Manufacturer,Firmware_Version,MAC Address,Device Type,name\n"
                    "h1,Netgear Inc.,V1.0.2,00-14-6C-00-00-01,Range Extender,ignored\n", encoding="utf-8")
    result = load_inventory(path)
    (device,) = result.devices
    assert (device.name, device.vendor_key, device.firmware, device.mac, device.role) == (
        "h1", "netgear", "V1.0.2", "00:14:6c:00:00:01", Role.REPEATER)
    assert device.attributes == ()
    assert any("repeats the 'name' column" in w.message for w in result.warnings)


def test_row_level_csv_errors_do_not_stop_the_file(tmp_path: Path) -> None:
    path = tmp_path / "inv.csv"
    path.write_text("name,role,notes\n"
                    "a,station,ok\n"
                    'b,station,"' + "x" * 200_000 + '"\n'  # larger than the csv module's field limit
                    "c,station,ok\n", encoding="utf-8")
    result = load_inventory(path)
    assert [d.name for d in result.devices] == ["a", "c"]
    assert [r.line for r in result.invalid_rows] == [3]
    assert "unreadable CSV" in result.invalid_rows[0].reason


@pytest.mark.parametrize("name", ["not_inventory.csv", "not_inventory.json", "broken.json"])
def test_files_that_are_not_inventories_raise_one_input_error(name: str) -> None:
    with pytest.raises(InputError) as info:
        load_inventory(INV / name)
    assert info.value.path == str(INV / name)
    assert name in str(info.value)


@pytest.mark.parametrize(("content", "fragment"), [
    (b"", "empty file"), (b"  \n\n", "empty file"), (b"\x00\x01\x02name,role\n", "binary"),
    (b"[[[" * 5000, "JSON"), (b"[1e99999999999999999999, {\"name\": 1}]", None),
])
def test_degenerate_files(tmp_path: Path, content: bytes, fragment: str | None) -> None:
    path = tmp_path / "f"
    path.write_bytes(content)
    if fragment is None:
        result = load_inventory(path)  # a valid JSON list: entries are reported one by one
        assert len(result.invalid_rows) == 2 and result.devices == []
        return
    with pytest.raises(InputError, match=fragment):
        load_inventory(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        load_inventory(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="cannot read"):
        load_inventory(tmp_path)


# --------------------------------------------------------------------------------------------------------
# JSON and CycloneDX
# --------------------------------------------------------------------------------------------------------


def test_json_devices_object() -> None:
    result = load_inventory(INV / "devices.json")
    assert result.format is InventoryFormat.JSON
    office, door = result.devices
    assert (office.name, office.vendor_key, office.source_line, office.ft, office.pmf, office.ciphers) == (
        "office-ap", "meraki", 4, True, True, frozenset({"CCMP"}))
    assert office.attributes == (("rack", "4"),)
    assert (door.vendor_key, door.role, door.ciphers, door.source_line) == (
        "axis", Role.CAMERA, frozenset({"CCMP", "TKIP"}), 16)
    assert door.attributes == (("tags", '["door","ground floor"]'),)
    described = [r.describe() for r in result.invalid_rows]
    assert described[0].startswith("line 25 (devices[2]): role 'satellite' is not one of")
    assert "mac '12345' is not a MAC address" in described[0]
    assert described[1] == "devices[3]: expected an object, got a string"
    assert described[2] == "line 31 (devices[4]): missing name; ft 'perhaps' is not yes/no"


def test_json_list_with_capitalised_keys() -> None:
    result = load_inventory(INV / "list.json")
    nvr, thermo = result.devices
    assert (nvr.role, nvr.vendor_key, nvr.model_key, nvr.source_line) == (Role.DVR, "dahua", "NVR4104W", 2)
    assert (thermo.role, thermo.pmf, thermo.vendor_key) == (Role.IOT, False, "google")


def test_json_values_that_cannot_be_text(tmp_path: Path) -> None:
    path = tmp_path / "inv.json"
    path.write_text(json.dumps([{"name": ["a"], "role": "station"}, {"name": "b", "role": {"x": 1}},
                                {"name": "c", "role": "station", "ciphers": ["CCMP", 3]}]), encoding="utf-8")
    result = load_inventory(path)
    assert result.devices == []
    reasons = [r.reason for r in result.invalid_rows]
    assert reasons == ["name: expected text, got a list", "role: expected text, got an object",
                       "ciphers: expected text, got a list"]


def test_cyclonedx_nested_devices() -> None:
    result = load_inventory(INV / "fleet.cdx.json")
    assert result.format is InventoryFormat.CYCLONEDX
    roof, cam, laptop = result.devices
    assert (roof.name, roof.vendor_key, roof.model_key, roof.firmware) == (
        "roof-ap", "ubiquiti", "UAPACMESH", "3.9.3.7537")
    assert (roof.mac, roof.site, roof.role, roof.ft) == ("f0:9f:c2:10:20:30", "Roof", Role.MESH, False)
    assert roof.attributes == (("cdx:owner", "facilities"),)
    # Nested under roof-ap; vendor from supplier, model from the hardware CPE, firmware from the child.
    assert (cam.name, cam.vendor_key, cam.model_key, cam.firmware, cam.role) == (
        "roof-cam", "dahua", "IPCHFW1320SW", "2.420.0000.0", Role.CAMERA)
    assert (laptop.vendor_key, laptop.role) == ("hpe", Role.LAPTOP)
    (bad,) = result.invalid_rows
    assert bad.where == "components[2]" and bad.line == 39
    assert "role 'fridge'" in bad.reason and "pmf 'kinda'" in bad.reason
    assert any("not of type 'device'" in w.message for w in result.warnings)


def _cdx_validator():  # type: ignore[no-untyped-def]
    jsonschema = pytest.importorskip("jsonschema")
    referencing = pytest.importorskip("referencing")

    def load(name: str) -> dict:  # type: ignore[type-arg]
        return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))

    registry = referencing.Registry().with_resources(
        (s["$id"], referencing.Resource.from_contents(s))
        for s in (load("spdx.schema.json"), load("jsf-0.82.schema.json"))
    )
    fmt = jsonschema.FormatChecker()
    if "uri" not in fmt.checkers:
        fmt.checks("uri")(lambda s: not isinstance(s, str) or bool(urlsplit(s).scheme))
    return jsonschema.Draft7Validator(load("bom-1.6.schema.json"), registry=registry, format_checker=fmt)


def test_the_schema_validator_rejects_a_broken_bom() -> None:
    validator = _cdx_validator()
    bad = {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "gadget", "name": "x"}]}
    assert list(validator.iter_errors(bad))


@pytest.mark.parametrize("source", ["mixed.csv", "bom_semicolon.csv", "devices.json", "fleet.cdx.json"])
def test_cyclonedx_export_is_valid_and_round_trips(tmp_path: Path, source: str) -> None:
    devices = load_inventory(INV / source, resolve_oui=False).devices
    bom = to_cyclonedx(devices)
    errors = sorted(_cdx_validator().iter_errors(bom), key=str)
    assert not errors, errors[0]
    assert bom == to_cyclonedx(devices)  # deterministic, serial number included
    path = tmp_path / "out.cdx.json"
    path.write_text(json.dumps(bom, indent=1, ensure_ascii=False), encoding="utf-8")
    back = load_inventory(path, resolve_oui=False)
    assert back.invalid_rows == []
    assert [_comparable(d) for d in back.devices] == [_comparable(d) for d in devices]


def _comparable(device: Device) -> tuple[object, ...]:
    fields = (device.name, device.vendor, device.vendor_key, device.model, device.model_key, device.firmware,
              device.mac, device.site, device.role, device.ft, device.ciphers, device.pmf, device.attributes)
    return fields


# --------------------------------------------------------------------------------------------------------
# CSV writer
# --------------------------------------------------------------------------------------------------------


def test_csv_writer_neutralises_formulas_and_round_trips(tmp_path: Path) -> None:
    devices = load_inventory(INV / "bom_semicolon.csv", resolve_oui=False).devices
    buf = io.StringIO(newline="")
    assert write_inventory_csv(devices, buf) == 3
    text = buf.getvalue()
    # What a spreadsheet would see: no cell starts with a formula character.
    cells = [c for row in csv.reader(io.StringIO(text, newline="")) for c in row]
    assert "'=cmd|' /C calc'!A0" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "<script>alert(1)</script>" in cells  # not a formula: kept (HTML escaping is the renderer's job)
    path = tmp_path / "out.csv"
    path.write_text(text, encoding="utf-8", newline="")
    back = load_inventory(path, resolve_oui=False)
    assert [_comparable(d) for d in back.devices] == [_comparable(d) for d in devices]


_cell_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(_cell_text, _cell_text, _cell_text, st.sampled_from(list(Role)), _cell_text),
                min_size=1, max_size=6))
def test_csv_writer_round_trip_property(tmp_path: Path, rows: list[tuple[str, str, str, Role, str]]) -> None:
    devices = []
    for i, (name, vendor, site, role, note) in enumerate(rows):
        name, vendor, site, note = (" ".join(x.split()) for x in (f"n{i}{name}", vendor, site, note))
        key = normalize_vendor(vendor) if vendor else ""
        source = VendorSource.INVENTORY if vendor else VendorSource.UNKNOWN
        attrs = (("note", note),) if note else ()
        devices.append(
            Device(name, vendor, key, "", "", "", None, site, role, None, frozenset(), None, attrs, 0, source)
        )
    path = tmp_path / "rt.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        write_inventory_csv(devices, fh)
    back = load_inventory(path, resolve_oui=False)
    assert back.invalid_rows == []
    assert [_comparable(d) for d in back.devices] == [_comparable(d) for d in devices]


def test_attribute_named_like_a_standard_column_stays_an_attribute(tmp_path: Path) -> None:
    device = Device("x", "", "", "", "", "", None, "", Role.IOT, None, frozenset(), None, (("type", "plug"),),
                    0, VendorSource.UNKNOWN)
    path = tmp_path / "a.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        write_inventory_csv([device], fh)
    (back,) = load_inventory(path).devices
    assert back.role is Role.IOT and back.attributes == (("type (attribute)", "plug"),)


# --------------------------------------------------------------------------------------------------------
# Streaming and robustness
# --------------------------------------------------------------------------------------------------------


def test_iter_inventory_yields_in_file_order() -> None:
    kinds = [(type(item).__name__, getattr(item, "line", getattr(item, "source_line", 0)))
             for item in iter_inventory(INV / "latin1.csv")]
    assert kinds == [("Device", 2), ("InventoryWarning", 3), ("Device", 3)]


def _write_rows(path: Path, rows: int) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "vendor", "model", "firmware", "mac", "role", "owner"])
        for i in range(rows):
            mac = f"50:c7:bf:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}"
            w.writerow([f"d{i}", "TP-Link", f"Archer C{i % 9}", "1.0.0", mac, "station", f"o{i % 7}"])


def _peak_while_streaming(path: Path) -> int:
    for _ in iter_inventory(path, resolve_oui=False):  # warm the bounded caches outside the measurement
        break
    tracemalloc.start()
    try:
        count = sum(1 for item in iter_inventory(path, resolve_oui=False) if isinstance(item, Device))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count > 0
    return peak


def test_streaming_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    _write_rows(small, 1_500)
    _write_rows(large, 15_000)
    peak_small, peak_large = _peak_while_streaming(small), _peak_while_streaming(large)
    # Ten times the rows (and ten times the bytes): the peak may differ by cache fill, not by the row count.
    assert large.stat().st_size > 4 * peak_large  # far more bytes went through than were ever held
    assert peak_large < peak_small * 1.2 + 64 * 1024, (peak_small, peak_large)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400))
def test_random_bytes_give_a_result_or_input_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz"
    path.write_bytes(data)
    try:
        result = load_inventory(path)
    except InputError as exc:
        assert exc.path == str(path)
        return
    for item in (*result.devices, *result.invalid_rows, *result.warnings):
        assert isinstance(item, Device | InvalidRow | InventoryWarning)


_fuzz_line = st.lists(st.sampled_from(["", "x", "AP", "station", "ccmp", "yes", "zz", "00:11:22:33:44:55",
                                       '"', "'=1", ";", "\r", "é", "\x00"]), max_size=8).map(",".join)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_fuzz_line, max_size=8))
def test_csv_with_a_valid_header_never_crashes(tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_text("name,role,mac,ciphers,ft\n" + "\n".join(lines), encoding="utf-8")
    try:
        result = load_inventory(path)
    except InputError:
        return  # e.g. NUL bytes
    assert all(d.name and isinstance(d.role, Role) for d in result.devices)
    assert all(r.line >= 2 and r.reason for r in result.invalid_rows)
