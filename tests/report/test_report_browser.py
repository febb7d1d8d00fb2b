"""The report in headless Chromium: it loads offline with no console error, every section there.

A script placed first in ``<head>`` records ``window.onerror`` and ``console.error`` and, once
the page has loaded, writes them into a ``<pre>`` that ``--dump-dom``
returns. Needs Debian's ``chromium`` (``apt-get install -y chromium``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from allrwe.report import build_report, write_report

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

_PROBE = """<script>
window.__allrweErrors = [];
window.addEventListener("error", function (e) {
  window.__allrweErrors.push("error: " + (e.message || (e.target && e.target.outerHTML)));
}, true);
window.addEventListener("unhandledrejection", function (e) {
  window.__allrweErrors.push("rejection: " + e.reason);
});
(function () {
  var original = console.error;
  console.error = function () {
    window.__allrweErrors.push("console: " + Array.prototype.join.call(arguments, " "));
    return original.apply(console, arguments);
  };
})();
window.addEventListener("load", function () {
  setTimeout(function () {
    var pre = document.createElement("pre");
    pre.id = "allrwe-probe";
    pre.textContent = JSON.stringify({
      errors: window.__allrweErrors,
      plots: document.querySelectorAll("div.plot").length,
      drawn: Array.prototype.filter.call(document.querySelectorAll("div.plot > svg"),
        function (s) { return s.getBBox().width > 0 || s.closest("details") !== null; }).length
    });
    document.body.appendChild(pre);
  }, 1000);
});
</script>"""


def _dump_dom(page: Path, profile: Path) -> str:
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=15000",
        "--dump-dom",
        page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)"
)
def test_report_loads_without_errors_and_shows_every_section(results, spec, meta, tmp_path):
    write_report(results, spec, tmp_path / "out", meta=meta)
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    page = tmp_path / "out" / "probed.html"
    page.write_text(html.replace("<head>", "<head>\n" + _PROBE, 1), encoding="utf-8")
    dom = _dump_dom(page, tmp_path / "profile")
    match = re.search(r'<pre id="allrwe-probe">(.*?)</pre>', dom, re.S)
    assert match is not None, dom[-2000:]
    probe = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert probe["errors"] == []
    doc = build_report(results, spec, meta)
    assert probe["plots"] == len(doc.figures())
    assert probe["drawn"] == probe["plots"]
    for _, sid, title in doc.outline():
        assert f'id="{sid}"' in dom, sid
        assert title in dom, title
