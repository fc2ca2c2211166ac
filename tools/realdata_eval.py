#!/usr/bin/env python3
"""Rolling-origin benchmark on real server series (models/README.md, "Real data benchmark").

    tools/realdata_eval.sh [ARGUSD] [MODEL] [extra options]     # makes .venv-realdata, then runs this
    .venv-realdata/bin/python tools/realdata_eval.py --argusd .build/release/argusd --model models/

Series: the nine NAB series in ../shared/data/real-metrics/ (5-minute steps, gaps forward-filled on a
300 s grid) and the CPU, memory and load of the two /proc recordings in tools/realdata/ (time-compressed
4 s → 300 s, see models/README.md). Split per series: origins every hour (12 steps) over the last 30 %
of the series, horizon 96 steps; every method sees only the steps before the origin. Scores at 30 min
(step 6) and 8 h (step 96): sMAE = MAE / mean |one-step change| of the series' first 70 % (scale-free,
so series in bytes and in percent average fairly); sPL = pinball loss of P10, P50, P90 over all 96 steps
divided by the same scale; coverage of P10–P90 over all 96 steps (nominal 0.80). Per series, every method is
also tested against the last value (Diebold–Mariano on the absolute errors at 30 min and 8 h, Newey–West variance
over the lags where h-step forecasts overlap, Harvey–Leybourne–Newbold correction; ``dm_statistic``): the table
counts the series where it is significantly better, not told apart, or significantly worse at 5 %, and names
the worse ones; "never worse than the last value" is read per series through it.

Methods: last value and seasonal naive (1 day = 288 steps), with statsforecast's own residual bands;
AutoARIMA and AutoETS from statsforecast (non-seasonal: a 288-step season is out of reach for both; fitted
on the last --fit-window steps before the origin); Argus through `argusd evaluate --origins` (the daemon's
tick code in process). Argus sees the series in a feed field: percent series (CPU: a name containing
"cpu_utilization") as `cpu_idle_pct` = 100 − value and scored on `cpu_pct`; other units rescaled by
2 / (mean of the first 70 %) into `load_average` (an affine map: sMAE, sPL and coverage are unchanged by
it); the other feed fields hold a quiet server's constants. The /proc series are fed with all their recorded fields.

--finetune adds Argus after a fine-tune on the fed history, per series: the history before the series'
first scored origin (its first 70 %; nothing at or after the split) is written as a feed file and the
default model is fine-tuned on it with `argusd train --from` and the settings of the daemon's
`/admin/trigger-training?epochs=3` (TrainingService.Settings: batch 64, at most 100 batches per epoch,
lr 1e-3, seed 42, one thread; the same TrainingRun, so the same warm start, short-history rolling-origin
validation below the normal split, persistence shrinkage and band refit). 3 epochs (≤ 19,200 windows,
about a minute on one quiet core) rather than the trigger's default 10 keep 15 series affordable;
--finetune-epochs 10 is the trigger's default. The fine-tuned model is then scored on the same origins through
`argusd evaluate --origins`, taking over at the first origin from the default model, which served the
calibration's warm-up: a daemon hot-swaps a fine-tune in with the calibration state its previous model earned
(--finetune-own-warmup adds a row where the fine-tuned model warms it on its own history instead, how these
figures were made until the evening of 2026-12-05). A
history the daemon would refuse (below its documented minimum) keeps the default model, as the daemon
does, and the table says so.
"""
import argparse
import csv
import datetime as dt
import gzip
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
STEP = 300
HORIZON = 96
EVAL_SHARE = 0.3
ORIGIN_EVERY = 12
SEASON = 288
SCORED_STEPS = (6, 96)
QUANTILES = (0.1, 0.5, 0.9)
FEED_FIELDS = ["cpu_user_pct", "cpu_sys_pct", "cpu_iowait_pct", "cpu_idle_pct", "java_cpu_pct", "mem_used_pct",
               "swap_used_pct", "disk_usage_pct", "net_in_mb_s", "net_out_mb_s", "back_close_wait",
               "front_close_wait", "load_average", "uptime_days"]
QUIET_SERVER = {"cpu_user_pct": 15.0, "cpu_sys_pct": 4.0, "cpu_iowait_pct": 0.5, "cpu_idle_pct": 80.0,
                "java_cpu_pct": 0.0, "mem_used_pct": 40.0, "swap_used_pct": 0.0, "disk_usage_pct": 50.0,
                "net_in_mb_s": 1.0, "net_out_mb_s": 1.0, "back_close_wait": 0.0, "front_close_wait": 0.0,
                "load_average": 1.0, "uptime_days": 10.0}
PERCENT_SERIES = ("cpu_utilization",)
# `/admin/trigger-training?epochs=N` = TrainingService.Settings (Sources/Daemon/Admin): batch 64, ≤ 100 batches
# per epoch, lr 1e-3, seed 42, one thread; everything else TrainingOptions' defaults, which `argusd train`
# shares (validation fraction 0.2, patience 3, clip 1, no weight decay). Epochs: --finetune-epochs.
DAEMON_FINETUNE = ["--batch-size", "64", "--max-batches", "100", "--lr", "0.001", "--threads", "1"]
DAEMON_TRAIN_SEED = 42
# The Argus variant the daemon serves by default (`argusd serve`: --band-calibration on, --median-shrinkage on).
SERVED_VARIANT = " + median selection + width calibration"
PROC_TARGETS = {"cpu_pct": lambda r: 100 - r["cpu_idle_pct"], "mem_used_pct": lambda r: r["mem_used_pct"],
                "load_average": lambda r: r["load_average"]}


def epoch(ts):
    return int(dt.datetime.fromisoformat(ts.replace(" ", "T")).replace(tzinfo=dt.timezone.utc).timestamp())


def regular_grid(points):
    """(epoch, value) sorted → values on a 300 s grid from the first point, gaps forward-filled."""
    first = points[0][0]
    n = (points[-1][0] - first) // STEP + 1
    out = [None] * n
    for t, v in points:
        out[min(n - 1, (t - first + STEP // 2) // STEP)] = v
    last = out[0]
    for i in range(n):
        last = out[i] = out[i] if out[i] is not None else last
    return first, np.array(out, dtype=float)


def origins_for(n, every=ORIGIN_EVERY):
    start = math.ceil(n * (1 - EVAL_SHARE))
    return list(range(start, n - HORIZON + 1, every))


def load_nab(folder):
    series = []
    for file in sorted(os.listdir(folder)):
        if not file.endswith((".csv", ".csv.gz")):
            continue
        name = file.removesuffix(".gz")
        with (gzip.open if file.endswith(".gz") else open)(os.path.join(folder, file), "rt") as f:
            rows = list(csv.reader(f))[1:]
        first, y = regular_grid(sorted((epoch(t), float(v)) for t, v in rows))
        n = len(y)
        split = math.ceil(n * (1 - EVAL_SHARE))
        feed = {k: [v] * n for k, v in QUIET_SERVER.items()}
        if any(p in name for p in PERCENT_SERIES):
            target, factor = "cpu_pct", 1.0
            feed["cpu_idle_pct"] = list(100 - y)
        else:
            target, factor = "load_average", 2.0 / max(1e-12, float(np.mean(y[:split])))
            feed["load_average"] = list(y * factor)
        series.append(dict(name=name[:-4], server=name[:-4], y=y, first=first, target=target, factor=factor, feed=feed, source="NAB"))
    return series


def load_proc(path):
    with gzip.open(path, "rt") as f:
        records = [json.loads(line) for line in f if line.strip()]
    records.sort(key=lambda r: r["timestamp"])
    first = epoch(records[0]["timestamp"])
    idx = [(epoch(r["timestamp"]) - first) // STEP for r in records]
    n = idx[-1] + 1
    if n != len(records):
        raise SystemExit(f"{path}: not a gap-free 300 s grid")
    base = os.path.basename(path).split("_as_")[0]
    out = []
    for target, read in PROC_TARGETS.items():
        y = np.array([float(read(r)) for r in records])
        feed = {k: [float(r.get(k, QUIET_SERVER[k])) for r in records] for k in FEED_FIELDS}
        out.append(dict(name=f"{base}:{target}", server=base, y=y, first=first, target=target, factor=1.0, feed=feed, source="/proc"))
    return out


def argus_forecasts(series, argusd, model, workdir, calibrate=None, widths_only=False, warm_model=None):
    """Runs `argusd evaluate --origins`; returns {(name, origin): (P10, P50, P90) arrays in series units}.
    calibrate=STEPS: with the daemon's online band calibration, ticking every step from STEPS before the first origin;
    warm_model: the model that serves those warm-up ticks (`model` takes over at the first origin, as a hot swap)."""
    spec = [dict(name=s["name"], target=s["target"], profile="generic", first_epoch=s["first"], step_seconds=STEP,
                 feed=s["feed"], origins=s["origins"]) for s in series]
    inp, out = os.path.join(workdir, "origins.json"), os.path.join(workdir, "argus_forecasts.jsonl")
    with open(inp, "w") as f:
        json.dump(spec, f)
    subprocess.run([argusd, "evaluate", "--model", model, "--origins", inp, "--forecasts-out", out, "--threads", "1", "--quiet"]
                   + ([] if calibrate is None else ["--calibrate", str(calibrate)]) + (["--widths-only"] if widths_only else [])
                   + ([] if calibrate is None or warm_model is None else ["--warm-model", warm_model]), check=True)
    factors = {s["name"]: s["factor"] for s in series}
    result = {}
    with open(out) as f:
        for line in f:
            r = json.loads(line)
            q = r["quantiles"]
            pick = [min(range(len(q)), key=lambda i: abs(q[i] - level)) for level in QUANTILES]
            values = np.array([r["values"][i] for i in pick], dtype=float) / factors[r["series"]]
            result[(r["series"], r["origin"])] = values
    return result


def statsforecast_models(fit_window):
    from statsforecast.models import AutoARIMA, AutoETS, Naive, SeasonalNaive
    return {
        "last value": (lambda: Naive(), None),
        "seasonal naive (1 day)": (lambda: SeasonalNaive(season_length=SEASON), None),
        "AutoARIMA": (lambda: AutoARIMA(season_length=1), fit_window),
        "AutoETS": (lambda: AutoETS(season_length=1), fit_window),
    }


def peer_forecast(make, window, history):
    y = history if window is None else history[-window:]
    try:
        f = make().forecast(y=y.astype(float), h=HORIZON, level=[80])
        p50 = np.asarray(f["mean"], dtype=float)
        lo, hi = np.asarray(f["lo-80"], dtype=float), np.asarray(f["hi-80"], dtype=float)
    except Exception:  # a failed fit falls back to the last value with no band (counted, reported)
        p50 = np.full(HORIZON, y[-1]); lo = hi = p50
        peer_forecast.failures += 1
    bad = ~np.isfinite(p50)
    if bad.any():
        p50 = np.where(bad, y[-1], p50); peer_forecast.failures += 1
    lo = np.where(np.isfinite(lo), lo, p50); hi = np.where(np.isfinite(hi), hi, p50)
    return np.stack([lo, p50, hi])


peer_forecast.failures = 0


def scores(y, scale, forecasts):
    """forecasts: {origin: (3, H) array} → sMAE per scored step, sPL, coverage."""
    abs_err = {h: [] for h in SCORED_STEPS}
    pinball, inside, n = 0.0, 0, 0
    for o, f in forecasts.items():
        truth = y[o:o + HORIZON]
        for h in SCORED_STEPS:
            abs_err[h].append(abs(truth[h - 1] - f[1][h - 1]))
        for qi, q in enumerate(QUANTILES):
            e = truth - f[qi]
            pinball += float(np.sum(np.maximum(q * e, (q - 1) * e)))
        inside += int(np.sum((truth >= f[0]) & (truth <= f[2])))
        n += HORIZON
    out = {f"smae_{h}": float(np.mean(abs_err[h])) / scale for h in SCORED_STEPS}
    out["spl"] = pinball / (n * len(QUANTILES)) / scale
    out["coverage"] = inside / n
    return out


def abs_errors(y, forecasts, h, origins):
    """|actual − P50| at forecast step h, per origin of `origins`."""
    return np.array([abs(y[o + h - 1] - forecasts[o][1][h - 1]) for o in origins])


def dm_statistic(a, b, h, every, tolerance=0.0):
    """Diebold–Mariano test of equal mean absolute error for two methods' absolute errors `a` and `b` at forecast
    step `h`, scored at origins `every` steps apart: the mean of d = a − b over its standard error, the variance from the
    Newey–West (Bartlett) estimate over the lags at which h-step forecasts overlap (ceil(h / every) − 1), with
    Harvey–Leybourne–Newbold's small-sample correction. Below −1.96: `a` is more accurate at 5 % (two-sided); above
    1.96: `b` is; between: the data cannot tell them apart. 0 when d has no variance (identical forecasts).
    Differences within `tolerance` count as 0: the daemon's forecasts are 32-bit floats, so a served last value
    differs from the exact one by rounding, a difference with almost no variance the test would call significant."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    d[np.abs(d) <= tolerance] = 0
    n = len(d)
    lag = min(math.ceil(h / every) - 1, n - 1)
    if n < 2:
        return 0.0
    centred = d - d.mean()
    var = float(centred @ centred) / n
    for k in range(1, lag + 1):
        var += 2 * (1 - k / (lag + 1)) * float(centred[k:] @ centred[:-k]) / n
    if var <= 1e-18:
        return 0.0
    steps = lag + 1
    correction = math.sqrt(max(n + 1 - 2 * steps + steps * (steps - 1) / n, 1) / n)
    return float(d.mean() / math.sqrt(var / n) * correction)


def dm_vs(y, forecasts, reference, every):
    """{"6": t, "96": t}: ``dm_statistic`` of `forecasts` against `reference` at each scored step, on the origins
    both forecast from."""
    origins = sorted(forecasts.keys() & reference.keys())
    tolerance = 1e-6 * float(np.max(np.abs(y)))       # 8 × float32's resolution at the series' largest value
    return {str(h): dm_statistic(abs_errors(y, forecasts, h, origins), abs_errors(y, reference, h, origins), h, every, tolerance)
            for h in SCORED_STEPS}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--argusd", help="argusd binary (omit to score the baselines only)")
    ap.add_argument("--model", action="append", default=[], help="model folder (repeatable; label=PATH to name it)")
    ap.add_argument("--nab", default=os.path.join(HERE, "..", "..", "shared", "data", "real-metrics"))
    ap.add_argument("--proc", nargs="*", default=[os.path.join(HERE, "realdata", f) for f in
                                                   ("procfeed_20261123_4s_as_300s.jsonl.gz", "procfeed_20261123b_4s_as_300s.jsonl.gz")])
    ap.add_argument("--fit-window", type=int, default=1008, help="steps AutoARIMA/AutoETS are fitted on (default 3.5 days)")
    ap.add_argument("--only", help="comma-separated substrings: keep matching series only")
    ap.add_argument("--origin-every", type=int, default=ORIGIN_EVERY,
                    help="steps between origins (default 12 = hourly; larger = fewer statsforecast fits, same origins for every method)")
    ap.add_argument("--no-peers", action="store_true", help="skip AutoARIMA/AutoETS (fast)")
    ap.add_argument("--json", help="write every score as JSON")
    ap.add_argument("--merge", nargs="+", metavar="JSON",
                    help="print one table from --json reports of the same series and origins run separately (e.g. the "
                         "peers in one process, Argus with --no-peers in another), then exit")
    ap.add_argument("--skip-widths-only", action="store_true", help="skip the 'width calibration only' Argus variant")
    ap.add_argument("--calibration-warmup", type=int, default=576,
                    help="also score Argus with the daemon's online band calibration, ticking every step from this many "
                         "steps before the first origin (default 2 days; -1: skip)")
    ap.add_argument("--finetune", action="store_true",
                    help="also score Argus after a fine-tune on each series' history before its first origin, with the "
                         "daemon's /admin/trigger-training settings (see above; slow: minutes per series)")
    ap.add_argument("--finetune-epochs", type=int, default=3, metavar="N",
                    help="with --finetune: epochs, as /admin/trigger-training?epochs=N (default 3; the trigger's default is 10)")
    ap.add_argument("--finetune-own-warmup", action="store_true",
                    help="with --finetune: also score the fine-tuned model with the calibration warmed by itself on its own "
                         "history (how fine-tuned figures were made until the evening of 2026-12-05), not by the default model it replaces")
    ap.add_argument("--finetune-history", type=int, metavar="STEPS",
                    help="with --finetune: only the last STEPS steps before the first origin (288 = the 1 day a new install has)")
    args = ap.parse_args()
    if args.merge:
        return merge_reports(args.merge, args.json)
    started = time.time()
    timings = {}

    series = load_nab(args.nab) + [s for p in args.proc for s in load_proc(p)]
    if args.only:
        keep = args.only.split(",")
        series = [s for s in series if any(k in s["name"] for k in keep)]
    for s in series:
        n = len(s["y"])
        s["origins"] = origins_for(n, args.origin_every)
        s["scale"] = float(np.mean(np.abs(np.diff(s["y"][:math.ceil(n * (1 - EVAL_SHARE))])))) or 1.0

    methods = {}
    for label, (make, window) in statsforecast_models(args.fit_window).items():
        if args.no_peers and label in ("AutoARIMA", "AutoETS"):
            continue
        t0 = time.time()
        methods[label] = {s["name"]: {o: peer_forecast(make, window, s["y"][:o]) for o in s["origins"]} for s in series}
        timings[label] = time.time() - t0
        print(f"# {label}: {timings[label]:.0f} s", file=sys.stderr)
    finetunes = {}
    if args.argusd:
        with tempfile.TemporaryDirectory() as work:
            variants = argus_variants(args)
            default_path = None
            for m in args.model or [os.path.join(HERE, "..", "models")]:
                label, _, path = m.rpartition("=")
                path = path if os.path.exists(os.path.join(path, "manifest.json")) else newest_model(path)
                default_path = default_path or path
                label = label or f"Argus zero-shot ({os.path.basename(path)})"
                for suffix, warmup, widths_only in variants:
                    t0 = time.time()
                    fc = argus_forecasts(series, args.argusd, path, work, warmup, widths_only)
                    methods[label + suffix] = {s["name"]: {o: fc[(s["name"], o)] for o in s["origins"]} for s in series}
                    timings[label + suffix] = time.time() - t0
                    print(f"# {label + suffix}: {timings[label + suffix]:.0f} s", file=sys.stderr)
            if args.finetune:
                t0 = time.time()
                finetunes = finetune_all(series, args.argusd, default_path, work, args.finetune_epochs, args.finetune_history)
                timings["fine-tunes"] = time.time() - t0
                by_model = {}
                for s in series:
                    by_model.setdefault(finetunes[s["name"]].get("folder") or default_path, []).append(s)
                # The daemon's calibration was warmed by the model it served before the fine-tune (own_warmup: the
                # fine-tuned model warms it on its own history, an extra row for comparison).
                runs = [(suffix, warmup, widths_only, False) for suffix, warmup, widths_only in variants]
                if args.finetune_own_warmup:
                    runs += [(suffix.replace(" (as served)", "") + ", warmed on its own history", warmup, widths_only, True)
                             for suffix, warmup, widths_only in variants if warmup is not None]
                for suffix, warmup, widths_only, own_warmup in runs:
                    t0 = time.time()
                    fc = {}
                    for path, group in by_model.items():
                        warm = None if own_warmup or path == default_path else default_path
                        fc.update(argus_forecasts(group, args.argusd, path, work, warmup, widths_only, warm))
                    name = "Argus fine-tuned" + suffix
                    methods[name] = {s["name"]: {o: fc[(s["name"], o)] for o in s["origins"]} for s in series}
                    timings[name] = time.time() - t0
                    print(f"# {name}: {timings[name]:.0f} s", file=sys.stderr)

    report = {"split": f"per series: origins every {args.origin_every} steps over the last {EVAL_SHARE:.0%}, horizon {HORIZON}, "
                       "history before the origin only" + ("" if args.no_peers else f"; AutoARIMA/AutoETS fitted on the last {args.fit_window} steps"),
              "series": {}, "overall": {}}
    for s in series:
        report["series"][s["name"]] = {"origins": len(s["origins"]), "steps": len(s["y"]), "source": s["source"],
                                       "methods": {m: scores(s["y"], s["scale"], per[s["name"]]) for m, per in methods.items()},
                                       "dm_vs_last_value": {m: dm_vs(s["y"], per[s["name"]], methods["last value"][s["name"]],
                                                                     args.origin_every)
                                                            for m, per in methods.items() if m != "last value"}}
    report["overall"] = overall(report["series"], methods)
    if peer_forecast.failures:
        report["peer_fit_failures"] = peer_forecast.failures
    if finetunes:
        report["finetune"] = {"history": args.finetune_history, "command": "argusd train --from DEFAULT --data HISTORY.jsonl --out DIR "
                                         f"--epochs {args.finetune_epochs} --train-seed {DAEMON_TRAIN_SEED} --quiet " + " ".join(DAEMON_FINETUNE),
                              "series": {name: {k: v for k, v in f.items() if k != "folder"} for name, f in finetunes.items()}}
    report["run"] = {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "argusd": args.argusd,
                     "options": sys.argv[1:], "seconds": {**timings, "total": time.time() - started},
                     "load_average": os.getloadavg()[0]}
    print_tables(report)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1, sort_keys=True)


def overall(per_series, methods):
    """{method: each score's mean over the series} (the "overall" of a report)."""
    return {m: {k: float(np.mean([s["methods"][m][k] for s in per_series.values()]))
                for k in next(iter(per_series.values()))["methods"][m]} for m in methods}


def merge_reports(paths, out=None):
    """One report from several runs over the same series and origins: methods are united, "overall" is
    recomputed, run times are listed per run (the runs went side by side)."""
    reports = [json.load(open(p)) for p in paths]
    merged = reports[0]
    for r in reports[1:]:
        if r["series"].keys() != merged["series"].keys():
            raise SystemExit("--merge: the reports hold different series")
        for name, s in r["series"].items():
            if s["origins"] != merged["series"][name]["origins"]:
                raise SystemExit(f"--merge: {name} was scored on different origins")
            merged["series"][name]["methods"].update(s["methods"])
            if "dm_vs_last_value" in s:
                merged["series"][name].setdefault("dm_vs_last_value", {}).update(s["dm_vs_last_value"])
        merged["split"] = max(merged["split"], r["split"], key=len)
        for key in ("finetune", "peer_fit_failures"):
            if key in r:
                merged[key] = r[key]
    merged["overall"] = overall(merged["series"], dict.fromkeys(m for s in merged["series"].values() for m in s["methods"]))
    runs = [r["run"] for r in reports]
    merged["run"] = {"date": max(r["date"] for r in runs), "argusd": next((r["argusd"] for r in runs if r["argusd"]), None),
                     "options": ["--merge"] + [f"[{' '.join(r['options'])}]" for r in runs],
                     "seconds": {**{k: v for r in runs for k, v in r["seconds"].items() if k != "total"},
                                 "total": max(r["seconds"]["total"] for r in runs)},
                     "load_average": max(r["load_average"] for r in runs)}
    print_tables(merged)
    if out:
        with open(out, "w") as f:
            json.dump(merged, f, indent=1, sort_keys=True)


def argus_variants(args):
    """(label suffix, calibration warm-up or None, widths only) of each Argus variant scored; the daemon's
    default (SERVED_VARIANT) is marked "as served"."""
    variants = [(", raw model output", None, False)]
    if args.calibration_warmup >= 0:
        if not args.skip_widths_only:
            variants.append((" + width calibration", args.calibration_warmup, True))
        variants.append((" + median selection + width calibration", args.calibration_warmup, False))
    return [(suffix + (" (as served)" if suffix == SERVED_VARIANT else ""), w, o) for suffix, w, o in variants]


def write_feed(s, start, stop, path):
    """Steps start..<stop of the series as feed JSONL, what the daemon would have stored (profile generic)."""
    with open(path, "w") as f:
        for i in range(start, stop):
            ts = dt.datetime.fromtimestamp(s["first"] + i * STEP, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
            record = {"timestamp": ts, "server_name": s["server"], "status": "healthy", "profile": "generic"}
            record.update({k: s["feed"][k][i] for k in FEED_FIELDS})
            f.write(json.dumps(record) + "\n")


def finetune_all(series, argusd, parent, workdir, epochs, history=None):
    """Fine-tunes `parent` once per distinct history (the three /proc targets of a recording share one) on the
    steps before the series' first origin (the last `history` of them when given), as /admin/trigger-training
    would. Returns {series name: info}:
    folder (None when refused), history steps, seconds, and from training_info.json the windows, epochs,
    validation loss and the scored target's shrinkage α and band factor; or `refused` with the daemon's message."""
    done, out = {}, {}
    for s in series:
        split = math.ceil(len(s["y"]) * (1 - EVAL_SHARE))
        assert s["origins"][0] >= split, "origins start at the split"
        start = 0 if history is None else max(0, split - history)
        key = (s["server"], start, split)
        if key not in done:
            folder = os.path.join(workdir, f"ft{len(done)}")
            os.makedirs(folder)
            feed = os.path.join(folder, "history.jsonl")
            write_feed(s, start, split, feed)
            cmd = [argusd, "train", "--from", parent, "--data", feed, "--out", folder,
                   "--epochs", str(epochs), "--train-seed", str(DAEMON_TRAIN_SEED), "--quiet"] + DAEMON_FINETUNE
            t0 = time.time()
            run = subprocess.run(cmd, capture_output=True, text=True)
            info = {"history": s["server"], "history_steps": split - start, "seconds": round(time.time() - t0, 1), "folder": None}
            if run.returncode != 0:
                info["refused"] = (run.stderr.strip().splitlines() or ["exit status %d" % run.returncode])[-1]
            else:
                info["folder"] = run.stdout.strip().splitlines()[-1]
                with open(os.path.join(info["folder"], "training_info.json")) as f:
                    t = json.load(f)
                info.update({k: t.get(k) for k in ("train_windows", "validation_windows", "epochs_run", "best_epoch",
                                                   "initial_val_loss", "best_val_loss", "stop_reason", "validation_cutoff")})
                info["blend"] = {b["target"]: {k: b.get(k) for k in ("alpha", "band_scale")} for b in t.get("persistence_blend") or []}
            print(f"# fine-tune {s['server']} on steps {start}..<{split}: {info.get('refused') or 'done'} ({info['seconds']:.0f} s)", file=sys.stderr)
            done[key] = info
        info = dict(done[key])
        blend = info.pop("blend", {}).get(s["target"], {})
        out[s["name"]] = {**info, "alpha": blend.get("alpha"), "band_scale": blend.get("band_scale")}
    return out


def newest_model(folder):
    names = sorted(n for n in os.listdir(folder) if n.startswith("tft_model_"))
    if not names:
        raise SystemExit(f"no tft_model_* folder in {folder}")
    return os.path.join(folder, names[-1])


def print_tables(report):
    run = report["run"]
    print(f"Real-data rolling-origin benchmark, {run['date']}, argusd {run['argusd']}, options: {' '.join(run['options']) or '(none)'}")
    print(f"Split: {report['split']}; {sum(s['origins'] for s in report['series'].values())} origins over {len(report['series'])} series.")
    print("Zero-shot = the default model as shipped. \"(as served)\" = the daemon's default calibration "
          f"(`argusd serve`: band calibration on, median selection on = \"{SERVED_VARIANT.strip(' +')}\").")
    if "finetune" in report:
        history = "" if report["finetune"].get("history") is None else f", its last {report['finetune']['history']} steps only"
        print("Fine-tuned = the default model fine-tuned per series on the steps before its first origin (its first "
              f"{1 - EVAL_SHARE:.0%}{history}; nothing at or after the split), as /admin/trigger-training does: {report['finetune']['command']}")
    print("\nOverall (mean over series; sMAE and sPL scaled by the mean |one-step change| of each series' first 70 %):\n")
    print("| method | sMAE 30 min | sMAE 8 h | sPL (P10/50/90) | coverage P10–P90 |")
    print("|---|---|---|---|---|")
    for m, r in report["overall"].items():
        print(f"| {m} | {r['smae_6']:.3f} | {r['smae_96']:.3f} | {r['spl']:.3f} | {r['coverage']:.2f} |")
    print("\nPer series (sMAE 30 min / 8 h, coverage):\n")
    methods = list(report["overall"])
    print("| series | origins | " + " | ".join(methods) + " |")
    print("|---|---|" + "---|" * len(methods))
    for name, s in report["series"].items():
        cells = [f"{r['smae_6']:.2f} / {r['smae_96']:.2f}, {r['coverage']:.2f}" for r in (s["methods"][m] for m in methods)]
        print(f"| {name} | {s['origins']} | " + " | ".join(cells) + " |")
    print_significance(report)
    if "finetune" in report:
        print_finetunes(report["finetune"]["series"])
    if report.get("peer_fit_failures"):
        print(f"\n{report['peer_fit_failures']} statsforecast fits failed and fell back to the last value")
    seconds = run["seconds"]
    parts = ", ".join(f"{k} {v / 60:.1f} min" for k, v in seconds.items() if k != "total")
    print(f"\nRun time {seconds['total'] / 60:.1f} min ({parts}); load average at the end {run['load_average']:.1f}.")


def print_significance(report):
    """Per method and scored step: on how many series it is significantly better than the last value, not told
    apart from it, or significantly worse (Diebold–Mariano, 5 %, two-sided; ``dm_statistic``)."""
    per = [(name, s["dm_vs_last_value"]) for name, s in report["series"].items() if "dm_vs_last_value" in s]
    if not per:
        return
    print("\nAgainst the last value, per series (Diebold–Mariano test of the mean absolute error, 5 %, two-sided; "
          "better / not told apart / worse; the series worse, with the statistic):\n")
    print("| method | 30 min | 8 h | worse at 30 min | worse at 8 h |")
    print("|---|---|---|---|---|")
    for m in dict.fromkeys(m for _, p in per for m in p):
        cells, worse = [], []
        for h in map(str, SCORED_STEPS):
            t = [(n, p[m][h]) for n, p in per if m in p]
            cells.append(f"{sum(v < -1.96 for _, v in t)} / {sum(abs(v) <= 1.96 for _, v in t)} / {sum(v > 1.96 for _, v in t)}")
            worse.append(", ".join(f"{n} ({v:+.1f})" for n, v in t if v > 1.96) or "none")
        print(f"| {m} | {cells[0]} | {cells[1]} | {worse[0]} | {worse[1]} |")


def print_finetunes(fts):
    """One row per series: history, the trainer's windows and epochs, validation loss, the scored target's
    shrinkage α and band factor, time; or the daemon's refusal (the default model is then what is scored)."""
    print("\nFine-tunes (one per distinct history; the three /proc targets of a recording share one). val loss = "
          "normalised validation loss of the default model (epoch 0) → the fine-tuned, shipped model; α = share of the "
          "median's departure from the last value kept for the scored target; band = its fitted band width factor:\n")
    print("| series | history steps | train / val windows | epochs run (best) | val loss | α | band | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    for name, f in fts.items():
        if f.get("refused"):
            print(f"| {name} | {f['history_steps']} | refused, default model scored: {f['refused']} | | | | | {f['seconds']:.0f} |")
            continue
        fmt = lambda v, spec: "—" if v is None else format(v, spec)
        print(f"| {name} | {f['history_steps']} | {f['train_windows']} / {f['validation_windows']} | {f['epochs_run']} ({f['best_epoch']}) | "
              f"{f['initial_val_loss']:.3f} → {f['best_val_loss']:.3f} | {fmt(f['alpha'], '.2f')} | {fmt(f['band_scale'], '.2f')} | {f['seconds']:.0f} |")
    times = {f["history"]: f["seconds"] for f in fts.values()}
    print(f"\n{len(times)} fine-tunes, {sum(times.values()) / 60:.1f} min in all, longest {max(times.values()):.0f} s (one thread).")

if __name__ == "__main__":
    main()
