"""`krackwatch analyze` as a user runs it, and its five report formats.

Subprocess tests check exit codes, files and environment twins; renderer tests run in process on real and
synthetic analyses (the SARIF output is validated against the OASIS schema, the Markdown and table outputs
against an SSID full of terminal escapes and markup)."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from decrypt import synth
from detect import krack_synth as ks
from jsonschema import Draft4Validator
from kwtest import CAPTURES, DATA
from referencing import Registry

from krackwatch.detect import Analysis, analyse
from krackwatch.report.findings import RENDERERS, AnalyzeFormat, render

TPTK = CAPTURES / "example-tptk-attack.pcapng"
CLEAN = CAPTURES / "wpa2.eapol.cap"
SARIF = json.loads((DATA / "schemas" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
CONTRACT = ("rule", "title", "cves", "verdict", "severity", "confidence", "transmitter", "receiver", "bssid",
            "frames", "evidence")


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
    for k in ("KRACKWATCH_FORMAT", "KRACKWATCH_FAIL_ON", "KRACKWATCH_PASSPHRASE", "KRACKWATCH_SSID"):
        if env is None or k not in env:
            full_env.pop(k, None)
    return subprocess.run([sys.executable, "-m", "krackwatch", "analyze", *args], capture_output=True, text=True,
                          env=full_env, timeout=300, check=False)


def rendered(fmt: AnalyzeFormat, a: Analysis) -> str:
    out = io.StringIO()
    render(fmt, a, out, tool_version="9.9.9")
    return out.getvalue()


@pytest.fixture(scope="module")
def analyses(tmp_path_factory) -> dict[str, Analysis]:
    root = tmp_path_factory.mktemp("analyze")
    out = {"tptk": analyse([TPTK]), "tptk-key": analyse([TPTK], _tptk_keys()), "clean": analyse([CLEAN])}
    for name, build in (("reinstall", lambda: ks.fourway("reinstall")), ("group", lambda: ks.group(True)),
                        ("clone", ks.clone_csa)):
        b = build()
        path = root / f"{name}.pcapng"
        b.capture.write(path)
        out[name] = analyse([path], b.capture.keyring)
    return out


def _tptk_keys():
    from krackwatch.decrypt import keys

    return keys.KeyRing.of([keys.passphrase("password", "simulnet")])


# ------------------------------------------------------------------------------------------ renderers


def test_every_format_has_a_renderer(analyses) -> None:
    assert set(RENDERERS) == set(AnalyzeFormat)
    for fmt in AnalyzeFormat:
        for a in analyses.values():
            assert rendered(fmt, a).strip()


def test_json_is_the_public_contract(analyses) -> None:
    doc = json.loads(rendered(AnalyzeFormat.json, analyses["reinstall"]))
    assert doc["schema"] == "krackwatch.analyze/1"
    assert {"findings", "preflight", "captures", "summary"} <= set(doc)
    for f in doc["findings"]:
        assert set(CONTRACT) <= set(f)
        assert f["verdict"] in ("vulnerable", "not_vulnerable", "inconclusive")
        assert f["frames"] == sorted({e["frame"] for e in f["evidence"]})
    reuse = next(f for f in doc["findings"] if f["rule"] == "pairwise-nonce-reuse")
    proof = reuse["keystream_proof"]
    assert proof["equal"] and proof["plaintext_xor"] == proof["ciphertext_xor"]
    assert {c["name"] for c in doc["preflight"]["checks"]} >= {"linktype", "fcs", "hardware_decryption",
                                                             "handshakes", "channels", "keys"}


def test_jsonl_one_record_per_line(analyses) -> None:
    a = analyses["tptk"]
    lines = [json.loads(line) for line in rendered(AnalyzeFormat.jsonl, a).splitlines()]
    assert [r["type"] for r in lines] == ["run", "preflight", *["finding"] * len(a.findings), "summary"]
    assert lines[0]["schema"] == "krackwatch.analyze/1"
    assert lines[-1]["findings"] == len(a.findings)


@pytest.mark.parametrize("name", ["tptk", "tptk-key", "clean", "reinstall", "group", "clone"])
def test_sarif_validates_and_points_into_the_capture(analyses, name) -> None:
    a = analyses[name]
    doc = json.loads(rendered(AnalyzeFormat.sarif, a))
    errors = list(Draft4Validator(SARIF, registry=Registry()).iter_errors(doc))
    assert not errors, [e.message for e in errors[:5]]
    run_ = doc["runs"][0]
    assert len(run_["results"]) == len(a.findings)
    for result, f in zip(run_["results"], a.findings, strict=True):
        assert result["ruleId"] == f.rule
        assert run_["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == f.rule
        if result["kind"] != "fail":
            assert result["level"] == "none"
        region = result["locations"][0]["physicalLocation"].get("region")
        if region is not None:  # the byte offset of the evidence's first record in its file
            data = Path(a.captures[f.evidence[0].capture]).read_bytes()
            if data[:4] == b"\n\r\r\n":
                assert struct.unpack_from("<I", data, region["byteOffset"])[0] == 6  # an Enhanced Packet Block


def test_attacker_controlled_ssid_is_escaped(tmp_path) -> None:
    evil = b"[bold]x[/bold]|*_`<b>\x1b[31m#"
    bss = synth.Bss(synth.AP1, evil, synth.AKM.PSK, synth.Cipher.TKIP, synth.Cipher.TKIP)
    air = ks.KrackAir("evil")
    air.beacon(bss, 2)
    cap = air.finish(synth.keys.KeyRing(), ())
    cap.write(tmp_path / "evil.pcapng")
    a = analyse([tmp_path / "evil.pcapng"])
    (f,) = [f for f in a.findings if f.rule == "weak-tkip"]
    assert f.ssid == evil.decode()
    table = rendered(AnalyzeFormat.table, a)
    assert "\x1b" not in table and "[bold]x[/bold]" in table and "\\x1b" in table
    md = rendered(AnalyzeFormat.markdown, a)
    assert "\x1b" not in md and "\\|" in md and "\\[bold\\]" in md and "<b>" not in md
    for line in md.splitlines():
        if line.startswith("| ") and "weak-tkip" in line:
            assert line.count(" | ") == line.replace("\\|", "").count(" | ")  # no cell broken by the SSID
    assert json.loads(rendered(AnalyzeFormat.json, a))["findings"][0]["ssid"] == evil.decode()


def test_progress_is_byte_based(tmp_path) -> None:
    calls: list[tuple[int, int | None]] = []
    files = [TPTK, CAPTURES / "wpa-Induction.pcap"]
    analyse(files, progress=lambda done, total: calls.append((done, total)))
    total = sum(p.stat().st_size for p in files)
    assert calls and all(t == total for _, t in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert calls[-1][0] == total


# ------------------------------------------------------------------------------------------ the command


def test_attack_fails_the_run_and_json_goes_to_stdout() -> None:
    proc = run(str(TPTK), "--format", "json", "--no-progress")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert any(f["rule"] == "tptk-attack" for f in doc["findings"])
    assert "findings:" in proc.stderr and "Traceback" not in proc.stderr


def test_fail_on_levels_and_inconclusive() -> None:
    assert run(str(TPTK), "--fail-on", "never", "--no-progress").returncode == 0
    assert run(str(TPTK), "--fail-on", "critical", "--no-progress").returncode == 0  # the attack is "high"
    assert run(str(TPTK), "--fail-on", "high", "--no-progress").returncode == 1
    assert run(str(TPTK), "--fail-on", "never", "--fail-on-inconclusive", "--no-progress").returncode == 4
    assert run(str(CLEAN), "--no-progress", "--fail-on-inconclusive").returncode == 0


def test_usage_and_input_errors(tmp_path) -> None:
    def one_line(proc, code, needle):
        assert proc.returncode == code, proc.stderr
        lines = [x for x in proc.stderr.splitlines() if x.strip()]
        assert "Traceback" not in proc.stderr and needle in proc.stderr, proc.stderr
        return lines

    assert len(one_line(run(str(tmp_path / "missing.pcap"), "--no-progress"), 3, "missing.pcap")) == 1
    one_line(run(str(TPTK), "--enable", "no-such-rule"), 2, "unknown rule")
    one_line(run(str(TPTK), "--format", "yaml"), 2, "yaml")
    one_line(run(str(TPTK), "-p", "short", "--no-progress"), 3, "8 to 63")
    (tmp_path / "text.pcap").write_text("not a capture")
    one_line(run(str(tmp_path / "text.pcap"), "--no-progress"), 3, "text.pcap")


def test_damaged_capture_is_reported_then_exit_3(tmp_path) -> None:
    data = TPTK.read_bytes()
    cut = tmp_path / "cut.pcapng"
    cut.write_bytes(data[: len(data) * 2 // 3 + 5])
    proc = run(str(cut), "--format", "json", "--no-progress", "--fail-on", "never")
    assert proc.returncode == 3
    doc = json.loads(proc.stdout)
    assert doc["errors"] and doc["preflight"]["frames"] > 100
    assert "the frames before it were analysed" in proc.stderr


def test_output_file_is_written_only_on_success(tmp_path) -> None:
    out = tmp_path / "report.sarif"
    proc = run(str(TPTK), "-f", "sarif", "-o", str(out), "--no-progress", "--fail-on", "never")
    assert proc.returncode == 0 and proc.stdout == ""
    assert json.loads(out.read_text(encoding="utf-8"))["version"] == "2.1.0"
    bad = tmp_path / "never.md"
    assert run(str(tmp_path / "missing.pcap"), "-f", "markdown", "-o", str(bad)).returncode == 3
    assert not bad.exists()


def test_keys_and_env_var_twins() -> None:
    env = {"KRACKWATCH_FORMAT": "json", "KRACKWATCH_FAIL_ON": "never", "KRACKWATCH_PASSPHRASE": "password",
           "KRACKWATCH_SSID": "simulnet"}
    proc = run(str(TPTK), "--no-progress", env=env)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["keys_given"]
    tptk = next(f for f in doc["findings"] if f["rule"] == "tptk-attack")
    assert 107 in [e["frame"] for e in tptk["evidence"] if e["role"] == "answer"]  # decrypted message 4
    wireshark = run(str(TPTK), "-k", "wpa-pwd:password:simulnet", "-f", "jsonl", "--fail-on", "never",
                    "--no-progress")
    assert json.loads(wireshark.stdout.splitlines()[0])["keys_given"] is True


def test_several_captures_and_rule_switches(tmp_path) -> None:
    proc = run(str(CLEAN), str(TPTK), "-f", "json", "--fail-on", "never", "--no-progress",
               "--enable", "msg3-retransmission", "--disable", "weak-tkip")
    doc = json.loads(proc.stdout)
    assert doc["captures"] == [str(CLEAN), str(TPTK)]
    rules = {f["rule"] for f in doc["findings"]}
    assert "msg3-retransmission" in rules and "weak-tkip" not in rules
    tptk = next(f for f in doc["findings"] if f["rule"] == "tptk-attack")
    ev = next(e for e in tptk["evidence"] if e["role"] == "attack")
    assert ev["capture"] == str(TPTK) and ev["capture_frame"] == 99 and ev["frame"] == 99 + 5  # CLEAN has 5


def test_list_rules_and_markdown() -> None:
    proc = run("--list-rules")
    assert proc.returncode == 0 and "tptk-attack" in proc.stdout and "msg3-retransmission" in proc.stdout
    md = run(str(TPTK), "-f", "markdown", "--no-progress", "--fail-on", "never").stdout
    assert md.startswith("# krackwatch analysis") and "## Preflight" in md and "| tptk-attack |" in md
