#!/usr/bin/env python3
"""Training feed = a simulated fleet + the real benchmark series' first 70 % (models/README.md, "Training on
simulator + real series").

    /work/main/.venv-realdata/bin/python tools/mixed_training_data.py --argusd .build/release/argusd \
        --servers 45 --days 21 --seed 1 --out /tmp/mix/mixed.jsonl

Writes `argusd simulate`'s feed, then appends the real series of tools/realdata_eval.py (the nine NAB CSVs and
the two 2026-11-23 /proc recordings; never the 2026-12-05 one, kept as a held-out check) as extra servers in the
same record shape as realdata_eval's `write_feed` (profile generic, NAB values in cpu_idle_pct or load_average,
other fields a quiet server's constants). Only each series' first 70 % is written: the last 30 % is what the
benchmark scores.

Placement. The trainer splits training and validation by time (the latest --val-fraction of the whole span),
so real series are moved into the simulated fleet's time range; a series outside it would stretch the span and
move the split. Rules:
- Series are snapped to the fleet's 300 s grid (NAB timestamps sit at :04, :09 …; at most 150 s moved).
- The shift is a whole number of weeks for NAB series (their hour-of-day and weekday features stay true) and
  any multiple of 300 s for the /proc recordings (time-compressed 4 s → 300 s: their clock means nothing).
- A series shorter than the range is one server, shifted so that its own 80 % point lands as near the fleet's
  validation cutoff as the week grid allows: each series gives training and validation windows (aligned to
  the range's end, a 2-day /proc history would be validation only).
- A longer series (the ASG CPU and machine-temperature series: 44-55 days of history) is cut into pieces of
  the range's length (21 days = 3 weeks, so every piece keeps its weekday), its end placed at the range's end,
  each piece a server of its own (`name~k`). Pieces too short for one window (36 + 96 steps) are dropped.
No tiling: a seam would be a jump no real server makes. Repetition is opt-in (--real-copies N writes every real
piece N times as servers `name#j`: the same windows N times, i.e. real data weighed N-fold; measured separately).
"""
import argparse
import datetime as dt
import json
import math
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import realdata_eval as rd  # noqa: E402  (the benchmark's loaders: the same series, the same feed mapping)

WEEK = 7 * 86400
MIN_STEPS = 36 + 96  # minimum encoder + horizon: a shorter piece gives no window


def iso(epoch):
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def sources(nab, procs):
    """One entry per server of the benchmark: feed arrays, first epoch, the 70 % split, the shift unit."""
    out = []
    for s in rd.load_nab(nab):
        out.append(dict(name=s["server"], first=s["first"], feed=s["feed"], n=len(s["y"]), unit=WEEK))
    for p in procs:
        s = rd.load_proc(p)[0]  # the three targets share one server and one feed
        out.append(dict(name=s["server"], first=s["first"], feed=s["feed"], n=len(s["y"]), unit=rd.STEP))
    for s in out:
        s["split"] = math.ceil(s["n"] * (1 - rd.EVAL_SHARE))
    return out


def place(src, start, end, cutoff, val_fraction):
    """[(server name, {step index: shifted epoch})] for the source's steps before its split."""
    first, n70, unit = round(src["first"] / rd.STEP) * rd.STEP, src["split"], src["unit"]  # NAB starts at :04 etc.
    last = first + (n70 - 1) * rd.STEP
    span = end - start + rd.STEP
    if n70 * rd.STEP <= span:
        lo, hi = math.ceil((start - first) / unit), math.floor((end - last) / unit)
        if lo > hi:
            raise SystemExit(f"{src['name']}: {n70} steps do not fit the range on a {unit} s grid")
        ideal = (cutoff - (first + int(n70 * (1 - val_fraction)) * rd.STEP)) / unit
        k = min(max(round(ideal), lo), hi)
        return [(src["name"], {i: first + i * rd.STEP + k * unit for i in range(n70)})]
    if span % unit:
        raise SystemExit(f"--days must be a whole number of weeks to cut {src['name']} into pieces on its weekday")
    shift = math.floor((end - last) / unit) * unit
    pieces = {}
    for i in range(n70):
        t = first + i * rd.STEP + shift
        c = (end - t) // span
        pieces.setdefault(c, {})[i] = t + c * span
    return [(f"{src['name']}~{c}", steps) for c, steps in sorted(pieces.items()) if len(steps) >= MIN_STEPS]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--argusd", required=True)
    ap.add_argument("--servers", type=int, default=45)
    ap.add_argument("--days", type=int, default=21)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", default="2025-01-01T00:00:00", help="the simulated fleet's first timestamp (UTC)")
    ap.add_argument("--val-fraction", type=float, default=0.2, help="the trainer's --val-fraction (for placement)")
    ap.add_argument("--nab", default=os.path.join(HERE, "..", "..", "shared", "data", "real-metrics"))
    ap.add_argument("--proc", nargs="*", default=[os.path.join(HERE, "realdata", f) for f in
                                                   ("procfeed_20261123_4s_as_300s.jsonl.gz", "procfeed_20261123b_4s_as_300s.jsonl.gz")])
    ap.add_argument("--real-copies", type=int, default=1, help="write every real piece this many times (weight)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    subprocess.run([args.argusd, "simulate", "--servers", str(args.servers), "--days", str(args.days), "--seed",
                    str(args.seed), "--start", args.start, "--out", args.out, "--quiet"], check=True)
    start = rd.epoch(args.start)
    end = start + args.days * 86400 - rd.STEP
    cutoff = start + (end - start) * (1 - args.val_fraction)
    total = 0
    with open(args.out, "a") as f:
        for src in sources(args.nab, args.proc):
            for server, steps in place(src, start, end, cutoff, args.val_fraction):
                assert max(steps) < src["split"], "never a step of the scored 30 %"
                for copy in range(args.real_copies):
                    name = server if copy == 0 else f"{server}#{copy}"
                    for i, t in steps.items():
                        record = {"timestamp": iso(t), "server_name": name, "status": "healthy", "profile": "generic"}
                        record.update({k: src["feed"][k][i] for k in rd.FEED_FIELDS})
                        f.write(json.dumps(record) + "\n")
                ts = sorted(steps.values())
                in_val = sum(t >= cutoff for t in ts)
                total += len(ts) * args.real_copies
                print(f"{server}: steps {min(steps)}..{max(steps)} of {src['n']} (split {src['split']}) at "
                      f"{iso(ts[0])} .. {iso(ts[-1])}, {len(ts) - in_val} before the validation cutoff, {in_val} after",
                      file=sys.stderr)
    sim = args.servers * args.days * 86400 // rd.STEP
    print(f"{args.out}: {sim} simulated + {total} real steps ({total / (sim + total):.1%} real)", file=sys.stderr)


if __name__ == "__main__":
    main()
