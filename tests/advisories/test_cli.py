"""`krackwatch advisories ...`: exit codes, one-line errors, output a terminal can show safely.

Most cases run the sub-app in-process (typer's CliRunner); the error cases also run the real entry point
(`python -m krackwatch`) to check that no traceback reaches the user.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass

import pytest
from typer.testing import CliRunner

import krackwatch.cli.main  # noqa: F401  (the entry point; the advisories sub-app is used directly)
from krackwatch.advisories.csaf import check_document
from krackwatch.cli.advisories import app, clean, safe


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def run(data_dir, *args: str) -> Run:
    env = {"NO_COLOR": "1", "COLUMNS": "250", "KRACKWATCH_DATA_DIR": str(data_dir)}
    result = CliRunner().invoke(app, list(args), env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stdout, result.stderr)


def run_process(data_dir, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "250", "KRACKWATCH_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "krackwatch", "advisories", *args], capture_output=True, text=True,
                          check=False,
                          env=env, timeout=120)


def assert_one_line_error(proc, code: int, *needles: str) -> None:
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0]


def test_list_documents_vendors_cves(tmp_path, kb) -> None:
    proc = run(tmp_path, "list")
    assert proc.returncode == 0, proc.stderr
    for doc in kb.documents():
        assert doc.id in proc.stdout
    docs = json.loads(run(tmp_path, "list", "--format", "json").stdout)
    assert [d["id"] for d in docs] == [d.id for d in kb.documents()]
    cves = json.loads(run(tmp_path, "list", "--cves", "--format", "json").stdout)
    assert [c["id"] for c in cves] == [c.id for c in kb.cves()]
    assert cves[0]["impacts"][0] == {"cipher": "CCMP-128", "direction": "client-to-AP", "effects": "decrypt"}
    vendors = json.loads(run(tmp_path, "list", "--vendors", "--format", "json").stdout)
    assert len(vendors) == len(kb.vendors())
    table = run(tmp_path, "list", "--vendors")
    assert table.returncode == 0 and "EnGenius" in table.stdout
    assert_one_line_error(run(tmp_path, "list", "--vendors", "--cves"), 2, "exclude")


def test_show_cve_vendor_document(tmp_path) -> None:
    proc = run(tmp_path, "show", "13082")
    assert proc.returncode == 0, proc.stderr
    assert "access point" in proc.stdout and "802.11r" in proc.stdout and "8.1 HIGH" in proc.stdout
    vendor = json.loads(run(tmp_path, "show", "Cisco Systems, Inc.", "--format", "json").stdout)
    assert vendor["vendor"] == "cisco"
    assert {s["kind"] for s in vendor["statuses"]} == {"cert", "community", "vendor_fix"}
    assert all(s["date"] for s in vendor["statuses"])
    engenius = run(tmp_path, "show", "EnGenius")
    assert engenius.returncode == 0
    assert "EWS360AP" in engenius.stdout and "client bridge" in engenius.stdout
    doc = run(tmp_path, "show", "cert-vu228519")
    assert doc.returncode == 0 and "How to read these statuses" in doc.stdout
    assert_one_line_error(run(tmp_path, "show", "Nonexistent Vendor"), 2, "Nonexistent Vendor")


def test_import_valid_and_conflicting(tmp_path, make_doc, write_json) -> None:
    data = tmp_path / "data"
    doc = make_doc(products=[("M1", None, "EAP1200H", "fixed")], date="2018-01-15T00:00:00Z")
    proc = run(data, "import", str(write_json(tmp_path / "vendor.json", doc)))
    assert proc.returncode == 0, proc.stderr
    assert "imported EXAMPLE-SA-2018-001" in proc.stdout
    assert "1 conflicts" in proc.stdout and "engenius-2017-10-17" in proc.stdout
    shown = json.loads(run(data, "show", "EnGenius", "--format", "json").stdout)
    eap = [m for m in shown["models"] if m["model"] == "EAP1200H"]
    assert {(m["document"], m["superseded_by"]) for m in eap} == {
        ("EXAMPLE-SA-2018-001", None), ("engenius-2017-10-17", "EXAMPLE-SA-2018-001")}
    listed = json.loads(run(data, "list", "--format", "json").stdout)
    assert listed[-1]["id"] == "EXAMPLE-SA-2018-001" and listed[-1]["kind"] == "imported"


@pytest.mark.parametrize("invoke", [run, run_process], ids=["in-process", "entry-point"])
def test_import_errors_are_one_line(tmp_path, make_doc, write_json, invoke) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"document": {\n  "title": "x",\n  oops\n}', encoding="utf-8")
    assert_one_line_error(invoke(tmp_path, "import", str(broken)), 3, str(broken), "line 3 column 3")
    doc = make_doc()
    del doc["document"]["tracking"]["id"]
    invalid = write_json(tmp_path / "invalid.json", doc)
    assert_one_line_error(invoke(tmp_path, "import", str(invalid)), 3, str(invalid), "$.document.tracking")
    assert_one_line_error(invoke(tmp_path, "import", str(tmp_path / "missing.json")), 3, "missing.json")
    assert_one_line_error(invoke(tmp_path, "import", str(tmp_path)), 3, "directory")
    assert not (tmp_path / "advisories").exists()


def test_export(tmp_path, kb) -> None:
    proc = run(tmp_path, "export")
    assert proc.returncode == 0, proc.stderr
    merged = json.loads(proc.stdout)
    check_document(merged, "stdout")
    assert merged["document"]["tracking"]["id"] == "krackwatch-kb"
    one = json.loads(run(tmp_path, "export", "--document", "vendor-fixes").stdout)
    assert one == kb.document("vendor-fixes").csaf
    out = tmp_path / "out"
    out.mkdir()
    assert run(tmp_path, "export", "-o", str(out)).returncode == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{d.id}.json" for d in kb.documents())
    target = tmp_path / "kb.json"
    assert run(tmp_path, "export", "-o", str(target)).returncode == 0
    assert json.loads(target.read_text(encoding="utf-8")) == merged
    assert_one_line_error(run(tmp_path, "export", "--document", "nope"), 3, "nope")


def test_vendor_strings_cannot_style_or_control_the_terminal(tmp_path, make_doc, write_json) -> None:
    evil = "[bold red]Evil[/bold red] \x1b[2J\x07Corp\u202e"
    doc = make_doc(vendor=evil, products=[("P1", "1.0", "Cam[/]\x1b]0;pwned\x07", "fixed")])
    doc["document"]["title"] = "[link=https://evil.example]click[/link]\r\x1b[1A"
    data = tmp_path / "data"
    proc = run(data, "import", str(write_json(tmp_path / "evil.json", doc)))
    assert proc.returncode == 0, proc.stderr
    assert "[link=https://evil.example]click[/link]" in proc.stdout
    shown = run(data, "show", evil)
    assert shown.returncode == 0, shown.stderr
    for output in (proc.stdout, shown.stdout):
        assert "\x1b" not in output and "\x07" not in output and "\u202e" not in output and "\r" not in output
    assert "[bold red]Evil[/bold red]" in shown.stdout
    assert "Cam[/]" in shown.stdout
    for args in (("show", evil, "--format", "json"), ("export",), ("list", "--vendors", "--format", "json")):
        out = run(data, *args)
        assert out.returncode == 0, out.stderr
        assert "\x1b" not in out.stdout and "\u202e" not in out.stdout and "\x07" not in out.stdout


def test_export_directory_keeps_files_inside(tmp_path, make_doc, write_json) -> None:
    data = tmp_path / "data"
    assert run(data, "import", str(write_json(tmp_path / "a.json", make_doc("../../escape/me")))).returncode == 0
    out = tmp_path / "out" / "inner"
    out.mkdir(parents=True)
    assert run(data, "export", "-o", str(out)).returncode == 0
    assert "escape_me.json" in [p.name for p in out.iterdir()]
    assert not (tmp_path / "escape").exists() and sorted(p.name for p in (tmp_path / "out").iterdir()) == ["inner"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("plain", "plain"), ("a\x1b[31mb", "a[31mb"), ("x\ny\tz", "x y z"), ("\u202egnp.exe", "gnp.exe"),
     ("\x85\x9b", "")],
)
def test_clean(text: str, expected: str) -> None:
    assert clean(text) == expected
    assert safe("[b]x[/b]") == "\\[b]x\\[/b]"


def test_mounted_under_the_main_command(tmp_path) -> None:
    proc = run_process(tmp_path, "list", "--cves", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)) == 10
    assert_one_line_error(run_process(tmp_path, "show", "no-such-thing"), 2, "no-such-thing")
