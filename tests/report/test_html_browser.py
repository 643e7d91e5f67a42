"""The HTML audit report in a real browser: Debian's Chromium (/usr/bin/chromium), driven by Playwright with
``executable_path`` (no browser download). The page must render its summary, charts and table offline, with its
stylesheet admitted by the Content-Security-Policy hash, and a device named <script>alert(1)</script> must
show as text and never run."""

from __future__ import annotations

import io
import os
import shutil

import pytest

from krackwatch.advisories import bundled_knowledge_base
from krackwatch.report.audit import AuditFormat, render_audit

SCRIPT = "<script>alert(1)</script>"


def _chromium() -> str:
    path = os.environ.get("KRACKWATCH_TEST_CHROMIUM") or shutil.which("chromium") or (
        "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI (.ci/run installs Debian's chromium package)")
        pytest.skip("needs Debian's chromium package (apt-get install chromium); .ci/run installs it")
    return path


def test_report_renders_and_nothing_executes(fleet, tmp_path) -> None:
    chromium = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package (test extra)")
    out = io.StringIO()
    render_audit(AuditFormat.html, out, fleet.meta, fleet.result.records, fleet.tail, kb=bundled_knowledge_base())
    page_file = tmp_path / "report.html"
    page_file.write_text(out.getvalue(), encoding="utf-8")

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            context = browser.new_context(offline=True, java_script_enabled=True)
            page = context.new_page()
            dialogs: list[str] = []
            requests: list[str] = []
            console: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: console.append(m.text))
            page.goto(page_file.as_uri())
            page.wait_for_load_state("load")

            assert dialogs == []
            assert requests == [page_file.as_uri()]  # nothing but the file itself
            assert page.title().startswith("KRACK exposure audit")
            # The stylesheet applied (its hash is in the CSP): a verdict badge is white on a colour.
            color = page.eval_on_selector(".v-exposed", "e => getComputedStyle(e).color")
            assert color == "rgb(255, 255, 255)"
            assert not any("Content Security Policy" in m for m in console), console
            # Attacker-controlled names are text, not markup.
            names = page.eval_on_selector_all("td.name", "cells => cells.map(c => c.textContent)")
            assert SCRIPT in names and "=cmd|' /C calc'!A0" in names
            assert page.eval_on_selector_all("script", "s => s.length") == 0
            assert page.locator("tbody tr[class^=row-]").count() == 5
            assert page.locator("svg").count() == 3
            summary = page.inner_text("#summary")
            assert "5" in summary and "exposed" in summary
            assert "Raspberry Pi Foundation" in page.inner_text("#unlisted")
            assert "missing name" in page.inner_text("#invalid")
            # Even if something tried, inline script is refused by the policy.
            page.evaluate("""() => { const s = document.createElement('script');
                                     s.textContent = 'window.__ran = true'; document.body.appendChild(s); }""")
            assert page.evaluate("() => window.__ran === true") is False
            page.screenshot(path=str(tmp_path / "report.png"), full_page=False)
        finally:
            browser.close()
