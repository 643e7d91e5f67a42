"""`krackwatch lab`: run the KRACK attacks and krackattacks-style tests against simulated devices."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from krackwatch.cli.app import OutputFormat, _emit_json, stderr_console, stdout_console, user_errors
from krackwatch.errors import InputError
from krackwatch.lab import CIPHERS, CLIENT_TESTS, SCENARIOS, run_matrix, run_scenario, write_pcapng
from krackwatch.lab.active import run_ap_test, run_client_test
from krackwatch.lab.scenarios import Verdict, get_scenario
from krackwatch.lab.sim import AirFrame
from krackwatch.protocol import PRESETS, get_profile

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    help="Simulated KRACK lab: attack scenarios, the Table 1 matrix, and krackattacks-style active tests.",
)

FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of the run: the same seed gives the same capture.")]
ProfileOpt = Annotated[str, typer.Option("--profile", "-p", help="Implementation profile (see `krackwatch lab list`).")]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Write the run's air as a radiotap pcapng.")]
CipherOpt = Annotated[str, typer.Option("--cipher", help=f"Pairwise and group cipher: {', '.join(CIPHERS)}.")]

_STYLE = {"vulnerable": "bold red", "not_vulnerable": "green", "not_applicable": "dim", "inconclusive": "yellow"}


def _write_capture(frames: tuple[AirFrame, ...], output: Path, comment: str) -> None:
    try:
        with open(output, "wb") as f:
            write_pcapng(list(frames), f, comment=comment)
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", path=str(output)) from None


@app.command("list")
def list_(fmt: FormatOpt = OutputFormat.table) -> None:
    """The scenarios, the profiles they run against, and how a verdict is reached."""
    scenarios = [
        {"name": s.name, "title": s.title, "cves": list(s.cves), "target": s.target.name.lower(), "summary": s.summary}
        for s in SCENARIOS.values()
    ]
    profiles = [{"name": p.name, "role": p.role.name.lower(), "notes": p.notes} for p in PRESETS.values()]
    rule = {
        "vulnerable": "the attack concretely succeeded: victim plaintext recovered (keystream reuse or an all-zero "
                      "TK), or a replayed or forged frame was accepted",
        "not_vulnerable": "every attempt ran and none succeeded (including a trigger the profile refused)",
        "not_applicable": "the scenario has no target in the profile (client attack vs AP-only profile, FT vs "
                          "client-only profile)",
    }
    if fmt == OutputFormat.json:
        _emit_json({"scenarios": scenarios, "profiles": profiles, "verdicts": rule, "client_tests": list(CLIENT_TESTS)})
        return
    out = stdout_console()
    t = Table(title="Scenarios", title_justify="left")
    for col in ("scenario", "CVEs", "target", "what the attacker does"):
        t.add_column(col, overflow="fold")
    for s in scenarios:
        t.add_row(s["name"], ", ".join(s["cves"]) or "-", s["target"], s["summary"])
    out.print(t)
    p = Table(title="Profiles", title_justify="left")
    p.add_column("profile")
    p.add_column("role")
    p.add_column("notes", overflow="fold")
    for row in profiles:
        p.add_row(row["name"], row["role"], row["notes"])
    out.print(p)
    for verdict, text in rule.items():
        out.print(Text(f"{verdict}: ", style=_STYLE[verdict]) + Text(text))


@app.command("run")
def run(
    scenario: Annotated[str, typer.Argument(help=f"One of: {', '.join(SCENARIOS)}.", show_default=False)],
    profile: ProfileOpt,
    seed: SeedOpt = 1,
    output: OutputOpt = None,
    cipher: CipherOpt = "ccmp",
    fmt: FormatOpt = OutputFormat.table,
    ap_mac: Annotated[str | None, typer.Option("--ap-mac", help="The AP's address (client-side scenarios).")] = None,
    client_mac: Annotated[
        str | None, typer.Option("--client-mac", help="The client's address (client-side scenarios).")
    ] = None,
) -> None:
    """Run one attack scenario against one profile and show what the attacker achieved."""
    with user_errors():
        get_scenario(scenario)
        get_profile(profile)
        if cipher.lower() not in CIPHERS:
            raise InputError(f"unknown cipher {cipher!r}; valid: {', '.join(CIPHERS)}")
        macs = {name: _mac(value, option) for name, value, option in
                (("ap_mac", ap_mac, "--ap-mac"), ("client_mac", client_mac, "--client-mac")) if value}
        result = run_scenario(scenario, profile, seed=seed, cipher=cipher, record=output is not None, **macs)
        if output is not None:
            _write_capture(result.frames, output, f"krackwatch lab run {scenario} --profile {profile} --seed {seed}")
    doc = result.to_dict()
    if output is not None:
        doc["capture"] = str(output)
    if fmt == OutputFormat.json:
        _emit_json(doc)
        return
    out = stdout_console()
    out.print(Text(f"{doc['scenario']} vs {doc['profile']}: ") + Text(doc["verdict"], style=_STYLE[doc["verdict"]]))
    out.print(f"network: SSID {doc['ssid']!r}, passphrase {doc['passphrase']!r}, {doc['cipher']}; "
              f"AP {doc['ap']}, client {doc['client']}; attacked: {doc['victim']}", markup=False, highlight=False)
    out.print(f"reason: {doc['reason']}", markup=False, highlight=False)
    for a in doc["attempts"]:
        mark = "succeeded" if a["success"] else "failed"
        out.print(f"attempt: {a['variant']} - {mark}", markup=False, highlight=False)
        for e in a["evidence"]:
            out.print(f"  evidence: {e}", markup=False, highlight=False)
        for line in a["achieved"]:
            out.print(f"  achieved: {line}", markup=False, highlight=False)
    rec = doc["recovered"]
    if rec.get("http_password"):
        out.print(Text("recovered HTTP password: ") + Text(rec["http_password"], style="bold"))
    for sample in rec.get("plaintext_samples", [])[:4]:
        out.print(f"  plaintext: {sample}", markup=False, highlight=False)
    if output is not None:
        out.print(f"capture: {output} ({doc['frames']} frames)", markup=False, highlight=False)


def _mac(text: str, option: str) -> bytes:
    """A unicast MAC address given on the command line."""
    from krackwatch.fleet.oui import normalize_mac

    norm = normalize_mac(text)
    if norm is None:
        raise InputError(f"{option} {text!r} is not a MAC address")
    mac = bytes.fromhex(norm.replace(":", ""))
    if mac[0] & 1:
        raise InputError(f"{option} {text!r} is a group address, not a station's")
    return mac


_CELL = {"vulnerable": "VULN", "not_vulnerable": "ok", "not_applicable": "n/a"}


@app.command("matrix")
def matrix(seed: SeedOpt = 1, fmt: FormatOpt = OutputFormat.table) -> None:
    """Run every scenario against every profile (the fourway and group columns reproduce Table 1 of
    the KRACK paper)."""
    t0 = time.perf_counter()
    rows = run_matrix(seed=seed)
    elapsed = time.perf_counter() - t0
    stderr_console().print(f"krackwatch: {len(rows)} runs in {elapsed:.1f} s", markup=False, highlight=False)
    if fmt == OutputFormat.json:
        _emit_json({"rows": [r.to_dict() for r in rows]})
        return
    t = Table(title="KRACK lab matrix", title_justify="left",
              caption="VULN = the attack succeeded, ok = it failed, n/a = the scenario has no target here")
    t.add_column("profile", no_wrap=True)
    names = list(SCENARIOS)
    for s in names:
        t.add_column(s, no_wrap=True)
    by_profile: dict[str, dict[str, Verdict]] = {}
    for r in rows:
        by_profile.setdefault(r.profile, {})[r.scenario] = r.verdict
    for p, cells in by_profile.items():
        t.add_row(p, *(Text(_CELL[cells[s].value], style=_STYLE[cells[s].value]) for s in names))
    stdout_console().print(t)


def _print_test(doc: dict, output: Path | None) -> None:
    out = stdout_console()
    out.print(Text(f"{doc['test']} test of {doc['device'] or '(no device seen)'}: ")
              + Text(doc["verdict"], style=_STYLE[doc["verdict"]]))
    out.print(doc["message"], markup=False, highlight=False)
    for e in doc["evidence"]:
        out.print(f"  evidence: {e}", markup=False, highlight=False)
    if output is not None:
        out.print(f"capture: {output}", markup=False, highlight=False)


@app.command("test-client")
def test_client(
    profile: ProfileOpt,
    test: Annotated[str, typer.Option("--test", help=f"One of: {', '.join(CLIENT_TESTS)}.")] = "fourway",
    seed: SeedOpt = 1,
    output: OutputOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """krack-test-client.py against a simulated client: the tester is the AP and watches the client."""
    with user_errors():
        prof = get_profile(profile)
        if test not in CLIENT_TESTS:
            raise InputError(f"unknown test {test!r}; valid tests: {', '.join(CLIENT_TESTS)}")
        if prof.role.name == "AP":
            raise InputError(f"{prof.name} models an access point; use `krackwatch lab test-ap`")
        report, frames = run_client_test(prof, test=test, seed=seed, record=output is not None)
        if output is not None:
            _write_capture(frames, output, f"krackwatch lab test-client --profile {profile} --test {test}")
    doc = report.to_dict()
    if fmt == OutputFormat.json:
        _emit_json({**doc, "profile": prof.name, **({"capture": str(output)} if output else {})})
    else:
        _print_test(doc, output)


@app.command("test-ap")
def test_ap(
    profile: ProfileOpt,
    seed: SeedOpt = 1,
    output: OutputOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """krack-ft-test.py against simulated APs (FT): replays the client's Reassociation Request."""
    with user_errors():
        prof = get_profile(profile)
        if prof.role.name == "CLIENT":
            raise InputError(f"{prof.name} models a client; use `krackwatch lab test-client`")
        report, frames = run_ap_test(prof, seed=seed, record=output is not None)
        if output is not None:
            _write_capture(frames, output, f"krackwatch lab test-ap --profile {profile}")
    doc = report.to_dict()
    if fmt == OutputFormat.json:
        _emit_json({**doc, "profile": prof.name, **({"capture": str(output)} if output else {})})
    else:
        _print_test(doc, output)

