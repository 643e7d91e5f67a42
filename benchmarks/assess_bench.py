"""Fleet audit benchmark: generate a large CSV inventory, then time `assess` stages on it.

    python benchmarks/assess_bench.py [--rows 1000000] [--seed 7] [--keep DIR] [--pg URL]

The inventory comes from ``inventory_bench.generate`` (same mix of vendors, models, firmware formats, MAC
formats, roles and about 0.1% bad rows). Each measurement runs in a fresh child process so its peak RSS
(``resource.getrusage``) is its own:

* ``audit``: stream the inventory and assess every device (``Audit.records``), no output;
* ``audit+json``: the same, rendering ``--format json`` to /dev/null (streaming);
* ``audit+sqlite``: the same, storing the run in a fresh SQLite file in one transaction;
* ``audit+postgresql``: the same into PostgreSQL (only with ``--pg URL``; its tables are dropped first).

Prints one JSON object per measurement and a Markdown table for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inventory_bench import generate

CHILD = r"""
import datetime as dt, io, json, os, resource, sys, time
from krackwatch.advisories import bundled_knowledge_base
from krackwatch.fleet.audit import Audit
from krackwatch.fleet.inventory import iter_inventory
mode, path = sys.argv[1], sys.argv[2]
kb = bundled_knowledge_base().load()
audit = Audit(kb)
t0 = time.perf_counter()
if mode == "audit":
    for _ in audit.records(iter_inventory(path)):
        pass
elif mode == "audit+json":
    from krackwatch.report.audit import AuditFormat, ReportMeta, ReportTail, writer_for
    with open(os.devnull, "w", encoding="utf-8") as out:
        w = writer_for(AuditFormat.json, out)
        now = dt.datetime.now(dt.UTC)
        w.begin(ReportMeta(now, "bench", path, "csv", ()))
        for r in audit.records(iter_inventory(path)):
            w.device(r)
        w.end(ReportTail(audit.summary, audit.invalid_rows, audit.warnings, audit.unlisted(), now))
else:
    from krackwatch.fleet.store import open_store
    url = sys.argv[3]
    store = open_store(url)
    with store.record_run(started_at=dt.datetime.now(dt.UTC), inventory=path, inventory_format="csv",
                          tool_version="bench", kb_documents=[]) as run:
        for r in audit.records(iter_inventory(path)):
            run.add(r)
        run.finish(audit.summary)
    store.close()
elapsed = time.perf_counter() - t0
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"mode": mode, "devices": audit.summary.devices, "invalid": audit.summary.invalid_rows,
                  "seconds": round(elapsed, 2), "devices_per_s": round(audit.summary.devices / elapsed),
                  "peak_rss_mib": round(peak_kib / 1024, 1), "verdicts_computed": audit.engine.misses,
                  "by_verdict": {k.value: v for k, v in audit.summary.by_verdict.items()}}))
"""


def _reset_pg(url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(sa.make_url(url).set(drivername="postgresql+psycopg"))
    with engine.begin() as conn:
        for table in ("devices", "verdicts", "runs", "krackwatch_alembic_version"):
            conn.execute(sa.text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    engine.dispose()


def measure(mode: str, path: Path, *extra: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, mode, str(path), *extra], capture_output=True, text=True,
                          check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", type=Path, help="directory to keep the generated inventory and databases in")
    ap.add_argument("--pg", help="PostgreSQL URL for the audit+postgresql measurement")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        path = work / f"assess-{args.rows}.csv"
        t0 = time.perf_counter()
        bad = generate(path, args.rows, args.seed)
        print(f"generated {args.rows} rows ({bad} bad) in {time.perf_counter() - t0:.1f}s: "
              f"{path.stat().st_size / 2**20:.0f} MiB", file=sys.stderr)
        results = [measure("audit", path), measure("audit+json", path)]
        db = work / "assess-bench.db"
        db.unlink(missing_ok=True)
        results.append(measure("audit+sqlite", path, f"sqlite:///{db}"))
        if args.pg:
            _reset_pg(args.pg)
            results.append(measure("audit+postgresql", path, args.pg))
        for r in results:
            print(json.dumps(r))
        print("\n| stage | devices | time (s) | devices/s | peak RSS (MiB) |\n|---|---:|---:|---:|---:|")
        for r in results:
            print(f"| {r['mode']} | {r['devices']:,} | {r['seconds']} | {r['devices_per_s']:,} | {r['peak_rss_mib']} |")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"\n(children user+sys CPU: {usage.ru_utime + usage.ru_stime:.0f}s)", file=sys.stderr)


if __name__ == "__main__":
    main()
