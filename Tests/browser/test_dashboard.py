"""The built-in dashboard in a real browser: headless Chromium (Debian's /usr/bin/chromium) driven by Playwright
against a running `argusd demo`.

Checks: every view loads with no console errors (the default rate limits included: a 429 would log one); the fleet
table shows the fleet's real server names, sorts and filters; the server view draws a P10–P90 band for every target;
the explain view draws attention, Shapley bars and counterfactuals; an alert raised by the feed appears live, in the
first tick after it, without a reload; the admin progress bar moves during a real training, which is then cancelled;
the forecast quality (served error ÷ the last value's) shows in the Models view and under a server's chart as the API
reports it.

    python3 Tests/browser/test_dashboard.py [--binary .build/release/argusd] [--screenshots docs/dashboard]

Without --binary: .build/release/argusd if it exists, else .build/debug/argusd (explanations are slow there).
"""
import argparse
import calendar
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"


class Daemon:
    """`argusd demo` on an ephemeral port with a temporary data directory and a random key."""

    def __init__(self, binary, data_dir):
        self.key = secrets.token_hex(16)
        env = dict(os.environ, TACHYON_API_KEY=self.key)
        # Run from the data directory: the dashboard must not depend on the working directory.
        self.process = subprocess.Popen(
            [str(binary), "demo", "--port", "0", "--data-dir", str(data_dir / "data"),
             "--models-dir", str(ROOT / "models"), "--interval", "2",
             # Training needs 481 steps of history per server (36 encoder + 96 horizon on each side of the split).
             "--backfill-steps", "600"],
            cwd=data_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.log = []
        threading.Thread(target=self._collect_log, daemon=True).start()
        self.base = None
        for line in self.process.stdout:
            match = re.search(r"listening on (http://[\d.]+:\d+)", line)
            if match:
                self.base = match.group(1)
                break
        if not self.base:
            raise RuntimeError("argusd did not start:\n" + "".join(self.log[-20:]))
        threading.Thread(target=lambda: [None for _ in self.process.stdout], daemon=True).start()

    def _collect_log(self):
        for line in self.process.stderr:
            self.log.append(line)

    def get(self, path):
        r = requests.get(self.base + path, headers={"X-API-Key": self.key}, timeout=30)
        r.raise_for_status()
        return r.json()

    def wait_for_live_predictions(self, timeout=900):
        """Until the demo's backfill is done (its log says so) and every server is forecast: from then on only
        the wall clock closes steps, so the checks below see no ticks they did not cause."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if any("demo_backfill_done" in line for line in self.log):
                status = requests.get(self.base + "/status", timeout=10).json()   # public: no rate limit spent
                if status["servers_predicted"] > 0 and status["servers_predicted"] == status["servers_tracked"]:
                    time.sleep(1)   # the run of the backfill's last tick (debounced) publishes
                    return status
            if self.process.poll() is not None:
                raise RuntimeError("argusd exited:\n" + "".join(self.log[-20:]))
            time.sleep(1)
        raise TimeoutError("no live predictions within %d s" % timeout)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def critical_record(server, timestamp):
    """A complete feed record that puts `server` over every profile's critical memory and swap levels."""
    return {"timestamp": timestamp, "server_name": server, "status": "critical_issue",
            "cpu_user_pct": 30.0, "cpu_sys_pct": 8.0, "cpu_iowait_pct": 2.0, "cpu_idle_pct": 60.0, "java_cpu_pct": 10.0,
            "mem_used_pct": 99.5, "swap_used_pct": 95.0, "disk_usage_pct": 50.0, "net_in_mb_s": 5.0, "net_out_mb_s": 5.0,
            "back_close_wait": 2, "front_close_wait": 2, "load_average": 2.0, "uptime_days": 30}


def expect_skill(api_value, page_text, page, attempts=5):
    """The first `N.NN×` in the page's text equals the API's figure (retried: a tick may land in between)."""
    for _ in range(attempts):
        value, text = api_value(), page_text()
        match = re.search(r"(\d+\.\d+)×", text)
        if value is not None and match and abs(float(match.group(1)) - value) < 0.006:
            return
        page.wait_for_timeout(2000)
    raise AssertionError(f"skill on the page {text!r} != API {value}")


def iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", type=Path)
    parser.add_argument("--screenshots", type=Path, help="save a PNG of each view here")
    args = parser.parse_args()
    binary = args.binary or next((p for p in [ROOT / ".build/release/argusd", ROOT / ".build/debug/argusd"] if p.exists()), None)
    if binary is None:
        sys.exit("no argusd binary: run `swift build --product argusd` first")
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)

    workdir = Path(tempfile.mkdtemp(prefix="argus-dashboard-test-"))
    daemon = Daemon(binary.resolve(), workdir)
    problems = []
    try:
        daemon.wait_for_live_predictions()
        names = set(daemon.get("/predictions/current?compact=true")["predictions"])
        print(f"argusd {daemon.base}: {len(names)} servers predicted", flush=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 950})
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))

            def shot(name):
                if args.screenshots:
                    page.wait_for_timeout(300)
                    page.screenshot(path=str(args.screenshots / f"{name}.png"), full_page=name in ("server", "explain"))

            # Key prompt, asked once; kept in sessionStorage only.
            page.goto(daemon.base + "/dashboard")
            page.fill("#key-input", daemon.key)
            page.click("#key-form button[type=submit]")
            page.wait_for_selector("#live.on", timeout=30_000)
            assert page.evaluate("sessionStorage.getItem('argus.apiKey')") == daemon.key
            assert page.evaluate("localStorage.length") == 0, "the key must not outlive the session"

            # Fleet overview: real names, sortable, filterable.
            page.wait_for_selector("#fleet-table tbody tr[data-server]")
            shown = page.eval_on_selector_all("#fleet-table tbody tr", "rows => rows.map(r => r.dataset.server)")
            assert set(shown) == names, f"fleet table {sorted(shown)} != API {sorted(names)}"
            risks = page.eval_on_selector_all("#fleet-table tbody tr td:nth-child(3)", "cells => cells.map(c => parseFloat(c.innerText))")
            assert risks == sorted(risks, reverse=True), "default sort: risk, highest first"
            page.wait_for_selector("#fleet-table tbody tr td.spark svg")
            shot("fleet")
            page.click("th[data-sort=name]")
            by_name = page.eval_on_selector_all("#fleet-table tbody tr", "rows => rows.map(r => r.dataset.server)")
            assert by_name == sorted(names), "sorted by name"
            profile = page.eval_on_selector("#fleet-table tbody tr td:nth-child(2)", "c => c.innerText")
            page.select_option("#profile-filter", profile)
            profiles = page.eval_on_selector_all("#fleet-table tbody tr td:nth-child(2)", "cells => cells.map(c => c.innerText)")
            assert profiles and set(profiles) == {profile}, f"filter by profile {profile}: {profiles}"
            page.select_option("#profile-filter", "")
            page.click("th[data-sort=risk]")
            page.click("th[data-sort=risk]") if page.get_attribute("th[data-sort=risk]", "class") != "sorted desc" else None
            top = page.eval_on_selector("#fleet-table tbody tr", "r => r.dataset.server")

            # Server detail: a P10–P90 band drawn for every target, thresholds, the alert timeline.
            page.click(f"#fleet-table tbody tr[data-server='{top}'] a")
            page.wait_for_function("() => document.querySelectorAll('.chart-panel svg path.band').length === 6", timeout=60_000)
            bands = page.eval_on_selector_all(".chart-panel svg path.band", "ps => ps.map(p => p.getAttribute('d').length)")
            assert all(length > 100 for length in bands), f"band paths {bands}"
            assert page.locator(".chart-panel svg line.threshold.critical").count() >= 1
            assert page.locator("#timeline svg").count() == 1
            shot("server")

            # Explain: attention over the encoder window, Shapley bars, counterfactual scenarios.
            page.click("text=Explain this forecast")
            page.wait_for_selector("#attention-chart svg path.bars", timeout=900_000)
            assert page.locator("#shap-chart svg rect").count() >= 3
            assert page.locator("#counterfactuals tbody tr").count() >= 1
            shot("explain")

            # Alerts: an alert raised by the feed appears live, in the first tick after it, without a reload.
            page.click("nav a[data-nav=alerts]")
            page.wait_for_selector("#alerts-history tbody tr")
            page.evaluate("window.__noReload = true")
            predictions = daemon.get("/predictions/current?compact=true")["predictions"]
            quiet = sorted(n for n, v in predictions.items() if v["alert"]["level"] == "healthy")[0]
            assert page.locator(f"#alerts-active tr[data-server='{quiet}']").count() == 0
            fleet_clock = requests.get(daemon.base + "/status", timeout=10).json()["data_timestamp"]
            # Two steps ahead of the fleet clock: the demo's own collector (posting at the wall clock) cannot reach
            # that step during the check, so nothing dilutes the record and no other tick happens meanwhile.
            next_step = calendar.timegm(time.strptime(fleet_clock, "%Y-%m-%dT%H:%M:%S")) + 600
            reply = requests.post(daemon.base + "/feed/data", headers={"X-API-Key": daemon.key},
                                  json={"records": [critical_record(quiet, iso(next_step))]}, timeout=30)
            assert reply.status_code == 200, reply.text
            tick = reply.json()["tick"]
            page.wait_for_selector(f"#alerts-active tr[data-server='{quiet}'] .badge.level-critical", timeout=120_000)
            assert page.evaluate("window.__noReload") is True, "the page reloaded"
            assert page.evaluate("Argus.tick.tick") == tick, "the alert must arrive with the tick the record made"
            page.wait_for_selector(f"#alerts-history tbody tr[data-server='{quiet}']", timeout=60_000)
            shot("alerts")

            # Admin: a real training; the progress bar moves while it runs; then cancel it.
            page.click("nav a[data-nav=admin]")
            page.wait_for_selector("#models tbody tr")
            page.fill("#train-epochs", "20")
            page.click("#train-start")
            page.wait_for_function("() => /started|error/.test(document.getElementById('notice').className + document.getElementById('notice').textContent)")
            assert "error" not in page.get_attribute("#notice", "class"), page.inner_text("#notice")
            seen = set()
            deadline = time.time() + 600
            while len([p for p in seen if 0 < p < 100]) < 2 and time.time() < deadline:
                seen.add(float(page.get_attribute("#train-bar", "data-percent")))
                page.wait_for_timeout(100)
            moving = sorted(p for p in seen if 0 < p < 100)
            assert len(moving) >= 2, f"the progress bar did not move: {sorted(seen)}"
            if args.screenshots:   # let the bar grow enough to be seen in the picture
                page.wait_for_function("() => parseFloat(document.getElementById('train-bar').dataset.percent) >= 10", timeout=300_000)
            shot("admin")
            page.click("#train-cancel")
            page.wait_for_function("() => document.getElementById('train-status').textContent.includes('cancelled')", timeout=120_000)
            print(f"progress bar moved through {len(moving)} values, {moving[0]}% … {moving[-1]}%, then cancelled", flush=True)

            # Forecast quality: one step more for the quiet server scores its 5-minute forecasts against a value
            # that moved; the Models view's table and that server's charts show the live skill the API reports.
            record = critical_record(quiet, iso(next_step + 300))
            record["mem_used_pct"] = 97.0
            reply = requests.post(daemon.base + "/feed/data", headers={"X-API-Key": daemon.key}, json={"records": [record]}, timeout=30)
            assert reply.status_code == 200, reply.text
            cell = "#quality tr[data-target=mem_pct] td:nth-child(4)"
            page.wait_for_function(f"() => /×/.test((document.querySelector('{cell}') || {{}}).textContent || '')", timeout=120_000)
            expect_skill(lambda: next(t for t in daemon.get("/predictions/calibration")["targets"].values()
                                      if t["forecast_key"] == "mem_pct")["median_error_vs_last_value"][0],
                         lambda: page.inner_text(cell), page)
            page.goto(daemon.base + f"/dashboard#/server/{quiet}")
            line = ".chart-panel[data-target=mem_pct] p.skill"
            page.wait_for_selector(line, timeout=60_000)
            expect_skill(lambda: next(t for t in daemon.get(f"/predictions/calibration?server={quiet}")["targets"].values()
                                      if t["forecast_key"] == "mem_pct")["error_vs_last_value"][0],
                         lambda: page.inner_text(line).split("5 min")[1], page)
            print(f"forecast quality shown: {page.inner_text(line)}", flush=True)
            browser.close()
    finally:
        daemon.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    if problems:
        sys.exit("browser problems:\n" + "\n".join(problems))
    print("dashboard: all views checked in Chromium, no console errors")


if __name__ == "__main__":
    main()
