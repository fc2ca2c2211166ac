#!/usr/bin/env python3
"""Feeds real 5-minute series to a real `argusd serve`, one step per tick over HTTP, and prints each series'
live skill (`GET /predictions/calibration?server=NAME` → `error_vs_last_value`) next to the real-data
benchmark's offline figure for the same series (served sMAE ÷ the last value's over the last 30 %, from a
`realdata_eval.py --json` report). A check that the dashboard's forecast quality means what the benchmark means.

    .venv-realdata/bin/python tools/live_skill_check.py --argusd .build/release/argusd \\
        --nab tools/realdata/nab-heldout --only fe7f93,cc0c53 --report REPORT.json

The live figure is an average over about the last day (EWMA 0.005 of every tick's error); the offline one over
the series' last 30 % at hourly origins: close, not equal.
"""
import argparse
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import realdata_eval as rd  # noqa: E402

HORIZONS = ("5 min", "30 min", "2 h", "8 h")


def start_daemon(argusd, data_dir, key):
    process = subprocess.Popen([argusd, "serve", "--port", "0", "--data-dir", data_dir, "--debounce-ms", "0", "--rate-feed", "1000000",
                                "--models-dir", os.path.join(rd.HERE, "..", "models")],
                               env=dict(os.environ, TACHYON_API_KEY=key), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in process.stdout:
        match = re.search(r"listening on (http://[\d.]+:\d+)", line)
        if match:
            return process, match.group(1)
    raise SystemExit("argusd did not start")


def call(base, path, key, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, headers={"X-API-Key": key, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.load(reply)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--argusd", default=".build/release/argusd")
    ap.add_argument("--nab", required=True, help="folder of NAB CSVs")
    ap.add_argument("--only", help="comma-separated substrings of the series to feed")
    ap.add_argument("--report", help="realdata_eval.py --json report of the same series (its zero-shot 'as served' row)")
    ap.add_argument("--pause", type=float, default=0.05, help="seconds between steps, so each step gets its own tick")
    args = ap.parse_args()
    series = [s for s in rd.load_nab(args.nab) if not args.only or any(k in s["name"] for k in args.only.split(","))]
    report = json.load(open(args.report)) if args.report else None
    key = secrets.token_hex(16)
    with tempfile.TemporaryDirectory() as work:
        process, base = start_daemon(args.argusd, work, key)
        try:
            for s in series:
                feed = os.path.join(work, s["name"] + ".jsonl")
                rd.write_feed(s, 0, len(s["y"]), feed)
                t0 = time.time()
                for line in open(feed):
                    call(base, "/feed/data", key, {"records": [json.loads(line)]})
                    time.sleep(args.pause)
                time.sleep(1)
                cal = call(base, "/predictions/calibration?server=" + urllib.parse.quote(s["server"]), key)
                target = next(t for t in cal["targets"].values() if t["forecast_key"] == s["target"])
                live = target["error_vs_last_value"]
                print(f"{s['name']}: {len(s['y'])} steps fed in {time.time() - t0:.0f} s, {target['scored']} forecasts scored")
                print("  live (about the last day):  " + "  ".join(f"{h} {'—' if v is None else f'{v:.2f}'}" for h, v in zip(HORIZONS, live)))
                if report and s["name"] in report["series"]:
                    methods = report["series"][s["name"]]["methods"]
                    served = next(v for k, v in methods.items() if "zero-shot" in k and "as served" in k)
                    last = methods["last value"]
                    print(f"  offline (last 30 %):        30 min {served['smae_6'] / last['smae_6']:.2f}  8 h {served['smae_96'] / last['smae_96']:.2f}")
        finally:
            process.terminate()
            process.wait(timeout=60)


if __name__ == "__main__":
    main()
