"""krackwatch.lab: a deterministic KRACK lab on a simulated air.

Stations are drivers around :mod:`krackwatch.protocol`'s sans-IO machines; time is virtual; every
random choice comes from the run's seed. An attacker (a channel-based man-in-the-middle, or a plain
injector) runs the KRACK attacks against a profile and reports what it achieved; the verdict comes
from that, never from the profile's knobs. Active tests as krackattacks-scripts runs them work
through the :class:`~krackwatch.lab.radio.Radio` interface.
"""

from krackwatch.lab.active import CLIENT_TESTS, ActiveReport, ActiveVerdict, run_ap_test, run_client_test
from krackwatch.lab.radio import Radio, SimulatedRadio
from krackwatch.lab.scenarios import (
    CIPHERS,
    SCENARIOS,
    MatrixRow,
    RunResult,
    Scenario,
    Verdict,
    run_matrix,
    run_scenario,
)
from krackwatch.lab.sim import AirFrame, write_pcapng

__all__ = [
    "CIPHERS",
    "CLIENT_TESTS",
    "SCENARIOS",
    "ActiveReport",
    "ActiveVerdict",
    "AirFrame",
    "MatrixRow",
    "Radio",
    "RunResult",
    "Scenario",
    "SimulatedRadio",
    "Verdict",
    "run_ap_test",
    "run_client_test",
    "run_matrix",
    "run_scenario",
    "write_pcapng",
]
