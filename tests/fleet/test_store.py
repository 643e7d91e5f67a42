"""The audit store on real SQLite files and a real PostgreSQL server (``KRACKWATCH_TEST_PG_URL``; .ci/run
starts Debian's PostgreSQL and sets it): migrations, one transaction per run, and history between runs built
from hand-written inventories whose differences are known by construction."""

from __future__ import annotations

import csv
import datetime as dt
import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from krackwatch.advisories import bundled_knowledge_base
from krackwatch.fleet.audit import Audit
from krackwatch.fleet.inventory import iter_inventory
from krackwatch.fleet.rules import Exposure
from krackwatch.fleet.store import StoreError, default_url, metadata, open_store

PG_URL = os.environ.get("KRACKWATCH_TEST_PG_URL", "")
HEADER = ["name", "vendor", "model", "firmware", "mac", "site", "role", "ft"]


def _reset_pg(url: str) -> None:
    engine = sa.create_engine(sa.make_url(url).set(drivername="postgresql+psycopg"))
    with engine.begin() as conn:
        for table in ("devices", "verdicts", "runs", "krackwatch_alembic_version"):
            conn.execute(sa.text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        yield default_url(tmp_path / "data")
        return
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("KRACKWATCH_TEST_PG_URL is not set in CI (.ci/run starts PostgreSQL and sets it)")
        pytest.skip("PostgreSQL tests need KRACKWATCH_TEST_PG_URL (e.g. postgresql://user:pw@127.0.0.1/db); "
                    ".ci/run sets it")
    _reset_pg(PG_URL)
    yield PG_URL
    _reset_pg(PG_URL)


def inventory(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    return path


def store_run(store, path: Path, *, fail_after: int | None = None) -> int:
    audit = Audit(bundled_knowledge_base())
    with store.record_run(started_at=dt.datetime.now(dt.UTC), inventory=str(path), inventory_format="csv",
                          tool_version="test", kb_documents=["kb@1"]) as run:
        for i, record in enumerate(audit.records(iter_inventory(path))):
            if fail_after is not None and i == fail_after:
                raise RuntimeError("disk on fire")
            run.add(record)
        run.finish(audit.summary)
    return run.id


# Run 1 -> run 2, with the verdicts the rules give (each case is pinned in test_rules.py).
RUN1 = [
    ["ap-1", "EnGenius", "EAP1200H", "1.0", "88:dc:96:00:00:01", "HQ", "repeater", ""],        # exposed
    ["phone-1", "Apple", "iPhone 6s", "iOS 11.0.3", "a4:c3:61:00:00:02", "HQ", "phone", ""],  # patch_available
    ["ap-2", "EnGenius", "ECB1750", "2.0", "88:dc:96:00:00:03", "HQ", "access-point", "no"],  # mitigated
    ["old-cam", "Hikvision", "DS-2CD2412F-IW", "V5.4.5", "c0:56:e3:00:00:04", "Yard", "camera", ""],  # unknown
]
RUN2 = [
    ["ap-1", "EnGenius", "EAP1200H", "1.0", "88:dc:96:00:00:01", "HQ", "repeater", ""],        # still exposed
    ["phone-1", "Apple", "iPhone 6s", "iOS 11.2", "a4:c3:61:00:00:02", "HQ", "phone", ""],    # newly fixed
    ["ap-2", "EnGenius", "EWS500AP", "2.0", "88:dc:96:00:00:03", "HQ", "access-point", "yes"],  # newly exposed
    ["new-phone", "Apple", "iPhone 8", "iOS 11.0", "a4:c3:61:00:00:05", "HQ", "phone", ""],   # added
]


def test_history_between_two_runs(url, tmp_path) -> None:
    with open_store(url) as store:
        assert store.diff() is None
        first = store_run(store, inventory(tmp_path / "a.csv", RUN1))
        assert store.diff() is None  # one run: nothing to compare
        second = store_run(store, inventory(tmp_path / "b.csv", RUN2))
        diff = store.diff()
    assert (diff.old.id, diff.new.id) == (first, second)
    assert [(c.name, c.before, c.after) for c in diff.newly_exposed] == [
        ("ap-2", Exposure.MITIGATED, Exposure.EXPOSED)]
    assert [(c.name, c.before, c.after) for c in diff.newly_fixed] == [
        ("phone-1", Exposure.PATCH_AVAILABLE, Exposure.FIXED)]
    assert diff.changed == ()
    assert [(c.name, c.before, c.after) for c in diff.added] == [("new-phone", None, Exposure.PATCH_AVAILABLE)]
    assert [(c.name, c.before, c.after) for c in diff.gone] == [("old-cam", Exposure.UNKNOWN, None)]
    assert diff.new.count(Exposure.EXPOSED) == 2 and diff.old.devices == 4


def test_runs_are_listed_and_compared_with_since(url, tmp_path) -> None:
    a = inventory(tmp_path / "a.csv", RUN1)
    b = inventory(tmp_path / "b.csv", RUN2)
    with open_store(url) as store:
        ids = [store_run(store, p) for p in (a, b, a)]
        runs = store.runs()
        assert [r.id for r in runs] == ids[::-1]
        assert runs[0].started_at.tzinfo is not None and runs[0].kb_documents == ("kb@1",)
        assert runs[0].inventory == str(a) and runs[0].devices == 4
        latest = store.diff()
        assert latest.old.id == ids[1] and {c.name for c in latest.gone} == {"new-phone"}
        same = store.diff(since=ids[0])
        assert (same.newly_exposed, same.newly_fixed, same.changed, same.added, same.gone) == ((),) * 5
        with pytest.raises(StoreError):
            store.diff(since=999)


def test_a_failed_run_leaves_no_trace(url, tmp_path) -> None:
    path = inventory(tmp_path / "a.csv", RUN1)
    with open_store(url) as store:
        store_run(store, path)
        with pytest.raises(RuntimeError):
            store_run(store, path, fail_after=2)
        assert len(store.runs()) == 1
    engine = sa.create_engine(sa.make_url(url).set(drivername="postgresql+psycopg") if url.startswith("postgresql")
                              else url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM runs")).scalar_one() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM devices")).scalar_one() == 4
    engine.dispose()


def test_devices_share_verdict_rows_and_round_trip(url, tmp_path) -> None:
    rows = [[f"ap-{i}", "EnGenius", "ECB1750", "2.0", f"88:dc:96:00:01:{i:02x}", "HQ", "access-point", "yes"]
            for i in range(50)]
    path = inventory(tmp_path / "many.csv", rows)
    with open_store(url) as store:
        run_id = store_run(store, path)
        stored = list(store.run_devices(run_id))
    assert len(stored) == 50 and len({d["verdict_id"] for d in stored}) == 1
    first = stored[0]
    assert first["name"] == "ap-0" and first["mac"] == "88:dc:96:00:01:00" and first["ft"] is True
    assert first["verdict"] == "patch_available" and first["cves"] == ["CVE-2017-13082"]
    assert first["remediation"][0]["kind"] == "update_firmware" and first["line"] == 2


def test_migrations_match_the_schema_and_are_idempotent(url) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    open_store(url).close()
    open_store(url).close()  # a second open finds the schema at head
    engine = sa.create_engine(sa.make_url(url).set(drivername="postgresql+psycopg") if url.startswith("postgresql")
                              else url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": "krackwatch_alembic_version"})
        assert ctx.get_current_revision() == "0001"
        diffs = [d for d in compare_metadata(ctx, metadata) if not (isinstance(d, tuple) and d[0] == "remove_table"
                                                                    and d[1].name == "krackwatch_alembic_version")]
        assert diffs == []
    engine.dispose()


def test_unusable_databases_raise_store_errors(tmp_path) -> None:
    with pytest.raises(StoreError, match="not a database URL"):
        open_store("::nonsense::")
    with pytest.raises(StoreError, match="unsupported database"):
        open_store("mysql://u:p@127.0.0.1/x")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError):
        open_store(f"sqlite:///{blocker}/sub/krackwatch.db")


def test_connection_errors_hide_the_password() -> None:
    with pytest.raises(StoreError) as info:
        open_store("postgresql://u:hunter2@127.0.0.1:1/none")
    assert "hunter2" not in str(info.value) and "***" in str(info.value)
