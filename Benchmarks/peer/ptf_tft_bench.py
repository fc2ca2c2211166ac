#!/usr/bin/env python3
"""Peer figure for `swift run -c release Benchmarks tft`: pytorch-forecasting's TemporalFusionTransformer at
config A (hidden 32, 4 heads, hidden_continuous 8, 1 LSTM layer, dropout 0.1, encoder 288, horizon 96,
14 continuous encoder inputs, 4 known decoder inputs, 1 static categorical with 45 levels, 7 quantiles).

  (a) forward latency: batch 45, eval mode, torch.inference_mode(), median over --forward-runs after warm-up
  (b) training throughput: batch 64, plain loop forward -> loss -> backward -> clip_grad_norm_(0.1) ->
      Adam(1e-3), samples/s over --train-steps after warm-up, on pre-collated batches (no data loading)

Method as in research/tft-architecture.md §3.1. Prints ONE JSON object on stdout; progress goes to stderr.
On failure it prints {"peer": null, "error": "..."} on stdout and exits with status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import time
import warnings

REAL_STDOUT = sys.stdout
CONFIG_A_PARAMS = 72854


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def fail(msg):
    print(json.dumps({"peer": None, "error": msg}), file=REAL_STDOUT, flush=True)
    sys.exit(2)


# ------------------------------------------------------------------------------------------------------
# CPU contention: share of the machine used by other processes during a phase (from /proc, Linux only)
# ------------------------------------------------------------------------------------------------------


def _cpu_snapshot():
    try:
        with open("/proc/stat") as f:
            vals = [int(v) for v in f.readline().split()[1:]]
        total = sum(vals[:8])  # user nice system idle iowait irq softirq steal
        busy = total - vals[3] - vals[4]
        with open("/proc/self/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        own = int(fields[11]) + int(fields[12])  # utime + stime of all threads, clock ticks
        return total, busy, own
    except (OSError, ValueError, IndexError):
        return None


def foreign_share(a, b):
    if a is None or b is None or b[0] == a[0]:
        return None
    return round(max(0.0, ((b[1] - a[1]) - (b[2] - a[2])) / (b[0] - a[0])), 3)


def wait_quiet(max_seconds, threshold=0.05):
    """Wait (at most max_seconds) until other processes use < threshold of the machine over 1 s."""
    start = time.monotonic()
    last_log = start - 10
    while time.monotonic() - start < max_seconds:
        a = _cpu_snapshot()
        time.sleep(1.0)
        s = foreign_share(a, _cpu_snapshot())
        if s is None or s < threshold:
            return s
        if time.monotonic() - last_log >= 10:
            last_log = time.monotonic()
            log(f"  waiting for a quiet machine: foreign CPU share {s:.0%} ({time.monotonic() - start:.0f} s)")
    log(f"  machine still busy after {max_seconds:.0f} s, measuring anyway")
    return None


# ------------------------------------------------------------------------------------------------------
# Model and synthetic batches
# ------------------------------------------------------------------------------------------------------

KNOWN = ["hour_sin", "hour_cos", "day_sin", "day_cos"]
UNKNOWN = ["y"] + [f"metric_{i}" for i in range(1, 10)]  # target + 9 observed metrics


def build_model(torch, hidden, heads, hidden_cont, dropout, max_encoder_length, n_series):
    from pytorch_forecasting import TemporalFusionTransformer
    from pytorch_forecasting.data.encoders import GroupNormalizer
    from pytorch_forecasting.metrics import QuantileLoss
    from pytorch_forecasting.utils import get_embedding_size

    # Same variable lists as TemporalFusionTransformer.from_dataset builds for a TimeSeriesDataSet with
    # static_categoricals=["series"], time_varying_known_reals=KNOWN, time_varying_unknown_reals=UNKNOWN,
    # target="y", target_normalizer=GroupNormalizer(groups=["series"]).
    return TemporalFusionTransformer(
        hidden_size=hidden,
        attention_head_size=heads,
        hidden_continuous_size=hidden_cont,
        lstm_layers=1,
        dropout=dropout,
        output_size=7,
        loss=QuantileLoss(),
        max_encoder_length=max_encoder_length,
        static_categoricals=["series"],
        time_varying_reals_encoder=KNOWN + UNKNOWN,
        time_varying_reals_decoder=KNOWN,
        x_reals=KNOWN + UNKNOWN,
        x_categoricals=["series"],
        embedding_sizes={"series": (n_series, get_embedding_size(n_series))},
        output_transformer=GroupNormalizer(groups=["series"]),
    )


def make_batch(torch, gen, series_ids, te, td):
    """One pre-collated batch shaped like TimeSeriesDataSet's collate output (full-length windows)."""
    b = len(series_ids)
    t = te + td
    start = torch.randint(0, 10_000, (b, 1), generator=gen)
    step = start + torch.arange(t)[None]  # 5-minute steps
    hour = (step % 288).float() / 288 * 2 * torch.pi
    day = (step % (288 * 7)).float() / (288 * 7) * 2 * torch.pi
    known = torch.stack([hour.sin(), hour.cos(), day.sin(), day.cos()], -1)
    unknown = torch.randn(b, t, len(UNKNOWN), generator=gen).cumsum(1) * 0.1
    unknown = unknown - unknown[:, :te].mean(1, keepdim=True)
    cont = torch.cat([known, unknown], -1)  # x_reals order: known, then unknown
    cat = series_ids.view(b, 1, 1).expand(b, t, 1).contiguous()
    center = 20 + 60 * torch.rand(b, generator=gen)
    scale = 2 + 10 * torch.rand(b, generator=gen)
    target_scale = torch.stack([center, scale], -1)
    y = cont[:, te:, len(KNOWN)] * scale[:, None] + center[:, None]  # raw target = de-normalised "y"
    x = dict(
        encoder_cont=cont[:, :te].contiguous(),
        decoder_cont=cont[:, te:].contiguous(),
        encoder_cat=cat[:, :te].contiguous(),
        decoder_cat=cat[:, te:].contiguous(),
        encoder_lengths=torch.full((b,), te, dtype=torch.long),
        decoder_lengths=torch.full((b,), td, dtype=torch.long),
        target_scale=target_scale,
    )
    return x, (y, None)


# ------------------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repetitions (10 forwards, 8 training steps)")
    ap.add_argument("--forward-only", action="store_true", help="skip the training measurement")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--forward-runs", type=int, help="timed forwards (default 30; --quick 10)")
    ap.add_argument("--forward-warmup", type=int, help="untimed forwards first (default 3; --quick 2)")
    ap.add_argument("--train-steps", type=int, help="timed training steps (default 25; --quick 8)")
    ap.add_argument("--train-warmup", type=int, help="untimed training steps first (default 3; --quick 2)")
    ap.add_argument("--encoder-length", type=int, default=288)
    ap.add_argument("--horizon", type=int, default=96)
    ap.add_argument("--forward-batch", type=int, default=45)
    ap.add_argument("--train-batch", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                    help="before each timed phase wait up to SECONDS for < 5%% foreign CPU (default 0 = don't wait)")
    args = ap.parse_args()
    q = args.quick
    fwd_runs = args.forward_runs or (10 if q else 30)
    fwd_warm = args.forward_warmup if args.forward_warmup is not None else (2 if q else 3)
    tr_steps = args.train_steps or (8 if q else 25)
    tr_warm = args.train_warmup if args.train_warmup is not None else (2 if q else 3)

    t_start = time.perf_counter()
    warnings.filterwarnings("ignore")
    try:
        with contextlib.redirect_stdout(sys.stderr):  # nothing but the JSON may reach stdout
            import torch
            import pytorch_forecasting
    except Exception as e:  # wrong interpreter (see ARGUS_PEER_PYTHON)
        fail(f"cannot import torch / pytorch_forecasting with {sys.executable}: {e!r}")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    n_series = 45
    with contextlib.redirect_stdout(sys.stderr):
        model = build_model(torch, 32, 4, 8, 0.1, args.encoder_length, n_series)
    params = sum(p.numel() for p in model.parameters())
    log(f"pytorch-forecasting {pytorch_forecasting.__version__}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, {params:,} parameters")
    if params != CONFIG_A_PARAMS:
        log(f"WARNING: expected {CONFIG_A_PARAMS:,} parameters for config A, got {params:,}")

    result = {
        "peer": f"pytorch-forecasting {pytorch_forecasting.__version__}",
        "torch": torch.__version__,
        "params": params,
        "forward_ms_median": None,
        "forward_ms_runs": [],
        "train_samples_per_s": None,
        "train_steps": 0,
        "threads": torch.get_num_threads(),
    }

    # ---------------- (a) forward latency ----------------
    x_fwd, _ = make_batch(torch, gen, torch.arange(args.forward_batch) % n_series, args.encoder_length, args.horizon)
    model.eval()
    if args.wait_quiet > 0:
        wait_quiet(args.wait_quiet)
    log(f"forward: batch {args.forward_batch}, Te {args.encoder_length}, Td {args.horizon}: "
        f"{fwd_warm} warm-up + {fwd_runs} timed")
    runs = []
    with torch.inference_mode():
        for _ in range(fwd_warm):
            model(x_fwd)
        snap = _cpu_snapshot()
        for i in range(fwd_runs):
            t0 = time.perf_counter()
            out = model(x_fwd)
            runs.append((time.perf_counter() - t0) * 1000)
        fwd_foreign = foreign_share(snap, _cpu_snapshot())
    assert out["prediction"].shape == (args.forward_batch, args.horizon, 7)
    result["forward_ms_median"] = round(statistics.median(runs), 2)
    result["forward_ms_runs"] = [round(r, 2) for r in runs]
    log(f"  median {result['forward_ms_median']:.1f} ms (min {min(runs):.1f}, max {max(runs):.1f}); "
        f"foreign CPU share {fwd_foreign}")

    # ---------------- (b) training throughput ----------------
    tr_foreign, step_ms, losses = None, [], []
    if not args.forward_only:
        batches = [
            make_batch(torch, gen, torch.randint(0, n_series, (args.train_batch,), generator=gen),
                       args.encoder_length, args.horizon)
            for _ in range(8)
        ]
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)

        def train_step(i):
            x, y = batches[i % len(batches)]
            opt.zero_grad(set_to_none=True)
            out = model(x)
            loss = model.loss(out["prediction"], y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
            opt.step()
            return float(loss.detach())

        log(f"training: batch {args.train_batch}: {tr_warm} warm-up + {tr_steps} timed steps")
        for i in range(tr_warm):
            losses.append(train_step(i))
        if args.wait_quiet > 0:
            wait_quiet(args.wait_quiet)
        snap = _cpu_snapshot()
        t_train = time.perf_counter()
        for i in range(tr_warm, tr_warm + tr_steps):
            t0 = time.perf_counter()
            losses.append(train_step(i))
            step_ms.append((time.perf_counter() - t0) * 1000)
        elapsed = time.perf_counter() - t_train
        tr_foreign = foreign_share(snap, _cpu_snapshot())
        result["train_samples_per_s"] = round(tr_steps * args.train_batch / elapsed, 1)
        result["train_steps"] = tr_steps
        log(f"  {result['train_samples_per_s']:.1f} samples/s, median step {statistics.median(step_ms):.0f} ms, "
            f"loss {losses[0]:.3f} -> {losses[-1]:.3f}; foreign CPU share {tr_foreign}")

    # extras (the Swift side only needs the keys above)
    result.update(
        {
            "forward_batch": args.forward_batch,
            "train_batch": args.train_batch,
            "encoder_length": args.encoder_length,
            "horizon": args.horizon,
            "forward_warmup": fwd_warm,
            "train_warmup": tr_warm if not args.forward_only else 0,
            "forward_ms_min": round(min(runs), 2),
            "train_step_ms_median": round(statistics.median(step_ms), 1) if step_ms else None,
            # robust to a few disturbed steps on a shared machine: train_batch / median step time
            "train_samples_per_s_median_step": round(args.train_batch * 1000 / statistics.median(step_ms), 1)
            if step_ms else None,
            "train_loss_first_last": [round(losses[0], 4), round(losses[-1], 4)] if losses else None,
            "foreign_cpu_share_forward": fwd_foreign,
            "foreign_cpu_share_train": tr_foreign,
            "loadavg_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
            "python": platform.python_version(),
            "total_s": round(time.perf_counter() - t_start, 1),
        }
    )
    print(json.dumps(result), file=REAL_STDOUT, flush=True)


if __name__ == "__main__":
    main()
