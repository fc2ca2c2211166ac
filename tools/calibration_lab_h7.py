#!/usr/bin/env python3
"""The served calibration replayed with its width factors and median choice at seven horizons instead of four.

    .venv-realdata/bin/python tools/calibration_lab_h7.py --cache /tmp/lab-rech --nab /tmp/none \
        --proc tools/realdata/procfeed_20261206d_4s_as_300s.jsonl.gz

BandCalibration scores its forecasts at steps 1, 6, 24 and 96 and interpolates the width factor between them, so the
steps in between are never calibrated. This replays `calibration_lab.py`'s "served" policy at steps 1, 3, 6, 12, 24,
48 and 96 (the memories' decays, the scaled errors from 2 h, the damped trend up to 2 h and the guard at every
horizon as served), with the served union band ("h7-union") and with the band around the chosen median only
("h7-no-union"), on a cache `calibration_lab.py` made (same options). Scores at hourly origins, as the benchmark,
or at every tick with `--origin-every 1`.
A lab for the next change, not what the daemon serves (models/README.md, "Where the excess is").
"""
import argparse
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import calibration_lab as lab  # noqa: E402
import realdata_eval as rd  # noqa: E402

lab.HORIZONS = (1, 3, 6, 13, 24, 49, 96)       # as the daemon scores (12 and 48 until the cron finding)
lab.TABLE = lab.step_table()
# Per horizon, as served at the four it shares (0.05 at 1 and 6, 0.005 at 24, 0.001 at 96), between them in step.
DECAYS = (0.05, 0.05, 0.05, 0.01, 0.005, 0.002, 0.001)
COMMON = dict(anchors=lab.MEDIAN_ANCHORS, decay=DECAYS, median_rate=0.3, form="pure", guard=(0.005, 0.05, 7), median_window=48,
              norm="spread", norm_from=4, norm_floor=1e-4, trend=(0.5, 0.8), trend_until=5, aci=(0.0125, 0.05, 100))
POLICIES = {"h7-union": lab.Policy("h7-union", union="aci", **COMMON), "h7-no-union": lab.Policy("h7-no-union", **COMMON),
            # A per-phase candidate for cron series (every 30 and 60 minutes): not served, a lead (models/README.md).
            "h7-no-union-phase": lab.Policy("h7-no-union-phase", phase=(6, 12), **COMMON)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", required=True, help="a calibration_lab.py cache of the same series")
    ap.add_argument("--nab", default=os.path.join(rd.HERE, "..", "..", "shared", "data", "real-metrics"))
    ap.add_argument("--proc", action="append", default=[])
    ap.add_argument("--only", help="comma-separated substrings: keep matching series only")
    ap.add_argument("--origin-every", type=int, default=rd.ORIGIN_EVERY, help="score every Nth step's origin (1: every tick)")
    ap.add_argument("--horizons", help="seven comma-separated scored horizons instead of 1,3,6,13,24,49,96")
    args = ap.parse_args()
    if args.horizons:
        lab.HORIZONS = tuple(int(h) for h in args.horizons.split(","))
        assert len(lab.HORIZONS) == 7 and lab.HORIZONS[-1] <= rd.HORIZON, "seven horizons, the last at most the forecast's"
        lab.TABLE = lab.step_table()
    series = rd.load_nab(args.nab) + [s for p in args.proc for s in rd.load_proc(p)]
    if args.only:
        series = [s for s in series if any(k in s["name"] for k in args.only.split(","))]
    index = {e["series"]: e for e in json.load(open(os.path.join(args.cache, "index.json")))}
    rows = {m: [] for m in POLICIES}
    for s in series:
        n = len(s["y"])
        s["origins"] = rd.origins_for(n, args.origin_every)
        s["scale"] = float(np.mean(np.abs(np.diff(s["y"][:math.ceil(n * (1 - rd.EVAL_SHARE))])))) or 1.0
        raw = np.fromfile(os.path.join(args.cache, index[s["name"]]["file"]), dtype=np.float32).reshape(-1, 1 + 7 * rd.HORIZON)
        for m, policy in POLICIES.items():
            rows[m].append(rd.scores(s["y"], s["scale"], lab.replay(s, raw, policy)))
    print("| policy | sMAE 30 min | sMAE 8 h | sPL | coverage |")
    print("|---|---|---|---|---|")
    for m, r in rows.items():
        mean = {k: float(np.mean([x[k] for x in r])) for k in r[0]}
        print(f"| {m} | {mean['smae_6']:.3f} | {mean['smae_96']:.3f} | {mean['spl']:.3f} | {mean['coverage']:.2f} |")


if __name__ == "__main__":
    main()
