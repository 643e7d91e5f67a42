"""The rule registry: every detector carries the metadata an analyst needs, and selection works."""

from __future__ import annotations

import pytest

from krackwatch.advisories.kb import cve_id
from krackwatch.detect import RULES, Confidence, RuleKind, Severity, select_rules
from krackwatch.errors import InputError


@pytest.mark.parametrize("rule", list(RULES.values()), ids=list(RULES))
def test_every_rule_has_its_metadata(rule) -> None:
    assert rule.id == rule.id.lower() and " " not in rule.id
    assert rule.title and rule.description
    assert rule.benign, "a rule without benign explanations repeats Kismet's mistake"
    assert isinstance(rule.kind, RuleKind) and isinstance(rule.severity, Severity)
    assert isinstance(rule.confidence, Confidence)
    for c in rule.cves:  # KRACK CVEs only, in canonical form (the fleet audit merges findings by CVE)
        assert cve_id(c) == c


def test_reinstallation_rules_name_krack_cves() -> None:
    for rule in RULES.values():
        if rule.kind == RuleKind.REINSTALLATION:
            assert rule.cves


def test_cves_per_handshake() -> None:
    assert RULES["ptk-reinstall-4way"].cves == ("CVE-2017-13077",)
    assert set(RULES["gtk-reinstall"].cves) == {"CVE-2017-13078", "CVE-2017-13080"}
    assert set(RULES["igtk-reinstall"].cves) == {"CVE-2017-13079", "CVE-2017-13081"}
    assert RULES["ft-reassoc-replay"].cves == ("CVE-2017-13082",)


def test_default_selection_and_switches() -> None:
    default = select_rules()
    assert default == {r.id for r in RULES.values() if r.default_on}
    assert "msg3-retransmission" not in default  # Kismet's noisy trigger alert: off unless asked
    assert "msg3-retransmission" in select_rules(["msg3-retransmission"])
    assert "zero-tk" not in select_rules(disable=["zero-tk"])
    assert select_rules(["all"]) == set(RULES)
    assert select_rules(disable=["all"]) == frozenset()


def test_unknown_rule_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown rule"):
        select_rules(["no-such-rule"])


def test_severity_parse() -> None:
    assert Severity.parse("High") == Severity.HIGH
    with pytest.raises(InputError):
        Severity.parse("urgent")
