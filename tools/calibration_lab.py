#!/usr/bin/env python3
"""Replays online calibration policies over the model's raw real-data forecasts (issue 11 research tool).

    .venv-realdata/bin/python tools/calibration_lab.py --argusd .build/release/argusd [--policy NAME ...]

The model's forward pass is the expensive part of the real-data benchmark; the calibration that turns raw
forecasts into served ones is cheap. This runs `argusd evaluate --origins --calibrate 576 --raw-out DIR` once
(cached in --cache), which writes every tick's raw forecast (7 quantiles × 96 steps of the scored target),
then replays calibration policies tick by tick in numpy and scores them with tools/realdata_eval.py's
scores (same series, split and origins). Policy "served" must reproduce the daemon's own calibration
(the "Argus as served" row of realdata_eval.py): that check keeps the replay honest. A policy that wins
here is then written in Swift (Sources/Training/Evaluation/BandCalibration.swift) and measured again
through the real path with tools/realdata_eval.sh.
"""
import argparse
import json
import math
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import realdata_eval as rd  # noqa: E402

HORIZONS = (1, 6, 24, 96)
LOW, MID, HIGH = 1, 3, 5          # rows of P10, P50, P90 in the 7-quantile ladder
RATE, TARGET_COVERAGE = 0.05, 0.8
LOG_RANGE = (math.log(1 / 32), math.log(32))     # BandCalibration.logFactorRange (¼ … 32 before 2026-12-05 late)


def step_table(steps=rd.HORIZON):
    """Per 0-based step k: (horizon index at or below k + 1, log-linear weight of the next one)."""
    out = []
    for k in range(1, steps + 1):
        if k <= HORIZONS[0]:
            out.append((0, 0.0)); continue
        for i in range(1, len(HORIZONS)):
            if k <= HORIZONS[i]:
                w = (math.log(k) - math.log(HORIZONS[i - 1])) / (math.log(HORIZONS[i]) - math.log(HORIZONS[i - 1]))
                out.append((i - 1, w)); break
        else:
            out.append((len(HORIZONS) - 1, 0.0))      # beyond the last scored horizon: its value
    return out


TABLE = step_table()


def interpolate(per_horizon, k):
    i, w = TABLE[k]
    j = min(i + 1, len(HORIZONS) - 1)
    return per_horizon[i] + w * (per_horizon[j] - per_horizon[i])


class Policy:
    """Chooses each tick's served median per horizon from candidates scored on matured errors.

    candidates(last, levels, raw_mid) -> array of candidate medians (one per candidate) for one step.
    """

    def __init__(self, name, alphas=(0, .25, .5, .75, 1), anchors=("last",), decay=0.05, shrink=True, hedge=None,
                 level_rates=(0.5, 0.2, 0.05), prior=None, median_rate=0.1, margin=0.0, form="departure", union=None,
                 guard=None, regime=None, log_range=LOG_RANGE, median_clamp=False, median_growth=1.0, median_window=None, norm=None, norm_from=0, norm_rate=0.05, sticky=0.0, norm_floor=1e-9,
                 guard_z=None, blend_last=None, trend=None, trend_until=4, aci=None, dtaci=None, dtaci_w=None, borrow=None, borrow_guard=None, guard8=None, vol=None, rate_boost=None, phase=()):
        self.name, self.alphas, self.anchors, self.decay, self.shrink, self.hedge = name, alphas, anchors, decay, shrink, hedge
        self.level_rates, self.prior, self.median_rate, self.margin, self.form = level_rates, prior, median_rate, margin, form
        # None: the band around the chosen median only; "bands": widened to also cover the model's own calibrated band
        # (same factor); "aci": the same, with misses scored against that union band.
        self.union = union
        # Periods P (steps): per period a candidate median, the most recent value in the same phase as the forecast
        # step (a cron series repeats every P steps; at multiples of P it is the last value).
        self.phase = phase
        # (long memory, margin, horizons guarded): at the guarded horizons persistence is served unless the
        # short-memory winner also beats it by `margin` over the long memory (BandCalibration's persistence guard).
        self.guard = guard
        # (fast memory, ratio, first horizon index): at those horizons the usual winner is replaced by persistence
        # when a fast memory of the errors says persistence is `ratio` times better than it (a regime change).
        self.regime = regime
        # Bounds of ln(band factor): the adaptive update's coverage → 0.8 holds only while the factor is inside them.
        self.log_range = log_range
        # median_clamp: the running median never steps past the value it moves toward (served-running-median).
        # median_growth: its step grows by this factor while its moves keep one direction (back to the base step
        # on a turn), so a level shift is followed in tens of steps instead of hundreds once the spread collapsed.
        self.median_clamp, self.median_growth = median_clamp, median_growth
        # median_window: the exact median of the last this-many values instead of the running median (served: 48).
        self.median_window = median_window
        # norm: what each scored error is divided by before it enters the candidates' memory (2026-12-06, second
        # session): None (absolute errors), "mean" (the mean of all candidates' errors at that step: a relative
        # score, so a quiet regime's steps weigh as much as a busy one's) or "spread" (the running mean one-step
        # change at scoring time: absolute within a regime, louder in a quiet one).
        self.norm = norm
        # ... at horizons from index norm_from on; "spread" is then the running mean one-step change at rate norm_rate.
        self.norm_from, self.norm_rate, self.norm_floor = norm_from, norm_rate, norm_floor
        # sticky: at 2 h and 8 h the previous tick's choice is kept unless another candidate's error is lower by this
        # share (hysteresis against switching among near-tied candidates).
        self.sticky = sticky
        # guard_z: (z, horizon power) — the guard also asks the winner's mean gain over persistence in its memory
        # to exceed z standard errors of that mean (a Diebold-Mariano-style test: the variance of the loss
        # differential from an EWMA of its square, its effective sample (2 - λ) / λ steps shrunk by h^power for
        # the overlap of h-step errors), so a long horizon's noisy lead is not taken for a proven one.
        self.guard_z = guard_z
        # blend_last: (first horizon index, β) — from that horizon on, a winner other than persistence is served
        # as β · winner + (1 − β) · last value (a forecast combination: it halves a wrong choice's excess error).
        self.blend_last = blend_last
        # trend: (rate, φ) — one candidate more, a damped trend from the last value: the one-step change's EWMA
        # (weight rate), carried k steps ahead as Σ φ^j (Holt's damped trend, its level the last value).
        self.trend = trend
        # trend_until: the damped trend is a candidate at horizon indices below this only (2: 5 and 30 min).
        self.trend_until = trend_until
        # aci: (floor, start, n0) — the width factor's adaptive rate is max(floor, start · n0 / (n0 + n)), n = the
        # series' scores so far over all horizons / 4, as BandCalibration counts them (None: RATE throughout, the
        # daemon's until 2026-12-06's fourth session).
        self.aci = aci
        # dtaci: (rates, decay) — several width factors side by side, one per rate, each moved by its own misses;
        # the served one is the factor whose interval score (width + 10 × the miss distance, EWMA `decay`) is lowest
        # (a follow-the-leader form of dynamically tuned ACI, Gibbs & Candès 2022).
        self.dtaci = dtaci
        # dtaci_w: (rates, eta, sigma) — the same experts, the served log factor their weighted mean (dynamically
        # tuned ACI as published): each expert's weight falls by exp(−eta · loss), loss the pinball loss (level 0.8)
        # of its log factor against the log of the factor that would just have covered the actual; then mixed with
        # sigma of the uniform weights, so a forgotten expert can come back after a regime change.
        self.dtaci_w = dtaci_w
        # borrow: λ — the 8-hour choice adds λ × the 2-hour memories to its own (both in step-change units): a flat
        # candidate's 2-hour error is news of its 8-hour error 72 steps sooner.
        self.borrow = borrow
        # borrow_guard: λ — only the persistence guard's memory at 8 h borrows the 2-hour one (the choice among the
        # other candidates stays with the 8-hour memory): a regime change sends 8 h back to the last value sooner.
        self.borrow_guard = borrow_guard
        # guard8: (decay, margin) — the persistence guard's memory and margin at 8 h only (the others keep `guard`).
        self.guard8 = guard8
        # vol: (slow rate, gamma, clip[, corrected]) — every band offset is multiplied by (fast / slow one-step change)^gamma, the
        # fast the running mean |change| (0.05), the slow at `slow rate`, clipped to [1/clip, clip]: a series gone
        # quiet narrows its bands at once instead of waiting for the width factor (normalised conformal scores).
        self.vol = vol
        # rate_boost: (k, cap) — the width factor's rate multiplied by min(1 + k · |ln r|, cap), r the volatility ratio
        # (mean |one-step change| at 0.05 over the same at 0.005, both corrected for their start at 0): a settled
        # factor moves faster again while the series' volatility is far from the last day's (a regime change).
        self.rate_boost = rate_boost

    def aci_rate(self, n):
        if self.aci is None:
            return RATE
        floor, start, n0 = self.aci
        return max(floor, start * n0 / (n0 + n))

    def anchor_values(self, last, levels):
        out = []
        for a in self.anchors:
            if a == "combo":      # the mean of the flat forecasts: the last value and every level
                out.append((last + float(np.sum(levels))) / (1 + len(levels)))
            else:
                out.append(last if a == "last" else levels[-1] if a == "med" else levels[int(a[3:])])
        return np.array(out)

    def candidates(self, last, levels, raw_mid, slope=0.0, k=0, y=None, t=None):
        base = self.candidates_(last, levels, raw_mid)
        if self.phase:      # forecast step k (0-based) is index t + k; the same phase P·ceil((k + 1) / P) earlier
            base = np.append(base, [y[j] if (j := t + k - p * math.ceil((k + 1) / p)) >= 0 else last for p in self.phase])
        if self.trend:
            phi = self.trend[1]
            return np.append(base, last + slope * phi * (1 - phi ** (k + 1)) / (1 - phi))
        return base

    def candidates_(self, last, levels, raw_mid):
        anchors = self.anchor_values(last, levels)
        if self.form == "blend":      # anchor + α · (model − anchor): a convex blend of the model and the anchor
            return (anchors[:, None] + np.array(self.alphas)[None, :] * (raw_mid - anchors[:, None])).ravel()
        if self.form == "pure":       # the last value shrunk as before, and the levels as they are (α = 0)
            return np.concatenate([last + np.array(self.alphas) * (raw_mid - last), anchors[1:]])
        # anchor + α · (model − last): the model's departure from persistence, kept by α, from a level.
        return (anchors[:, None] + np.array(self.alphas)[None, :] * (raw_mid - last)).ravel()

    def n(self):
        return (1 if self.trend else 0) + len(self.phase) + self.n_()

    def n_(self):
        return len(self.alphas) + len(self.anchors) - 1 if self.form == "pure" else len(self.anchors) * len(self.alphas)

    def default_index(self):
        return self.anchors.index("last") * len(self.alphas) + self.alphas.index(1) if "last" in self.anchors else 0

    def pick(self, errors, long_errors=None, i=0, fast_errors=None, long_sq=None):
        """errors: (n,) recent errors (long_errors: over the guard's long memory) → weights (n,) summing to 1."""
        if self.regime and i >= self.regime[2] and fast_errors is not None:
            w = self.pick(errors, None, len(HORIZONS))
            best, keep = int(np.argmax(w)), self.alphas.index(0)
            if best != keep and fast_errors[keep] * self.regime[1] < fast_errors[best]:
                w[:] = 0
                w[keep] = 1
            return w
        if self.trend and i >= self.trend_until and i < len(HORIZONS):
            errors = errors.copy()
            errors[-1] = np.inf
        if self.guard and i < self.guard[2]:
            w = self.pick(errors, None, len(HORIZONS))
            best, keep = int(np.argmax(w)), self.alphas.index(0)
            margin = self.guard8[1] if self.guard8 and i == len(HORIZONS) - 1 else self.guard[1]
            proven = long_errors[best] < long_errors[keep] * (1 - margin) - 1e-12 and errors[best] < errors[keep] - 1e-12
            if proven and self.guard_z and long_sq is not None:
                gain = long_errors[keep] - long_errors[best]
                var = max(long_sq[best] - gain * gain, 0.0)
                n_eff = (2 - self.guard[0]) / self.guard[0] / HORIZONS[i] ** self.guard_z[1]
                proven = gain > self.guard_z[0] * math.sqrt(var / max(n_eff, 1.0))
            if best != keep and not proven:
                w[:] = 0
                w[keep] = 1
            elif best != keep and self.blend_last and i >= self.blend_last[0]:
                w[:] = 0
                w[best], w[keep] = self.blend_last[1], 1 - self.blend_last[1]
            return w
        w = np.zeros(len(errors))
        if self.margin and "last" in self.anchors and errors.max() > 0:
            # Departing from persistence (anchor last, α = 0) must win by `margin` (relative).
            keep = self.anchors.index("last") * len(self.alphas) + self.alphas.index(0)
            errors = errors * (1 + self.margin)
            errors[keep] /= 1 + self.margin
        if self.hedge is None:
            best = self.default_index() if self.prior is None else self.prior
            for j in range(len(errors)):
                if errors[j] < errors[best] - 1e-12:
                    best = j
            w[best] = 1
        else:
            scale = max(float(np.min(errors)), 1e-9)
            w = np.exp(-self.hedge * (errors - np.min(errors)) / scale)
            w /= w.sum()
        return w


def needed_factor(actual, mid, low_offset, high_offset):
    """The smallest factor f for which [mid + f · low_offset, mid + f · high_offset] holds the actual."""
    if actual >= mid:
        return (actual - mid) / high_offset if high_offset > 0 else (0.0 if actual == mid else np.inf)
    return (mid - actual) / -low_offset if low_offset < 0 else np.inf


def replay(series, raw, policy, bands=True, trace=None):
    """raw: (ticks, 1 + 7 * 96) float32 rows of one series. Returns {origin: (3, 96) array in series units}.
    trace: a list that gets (horizon index, step, served median's error, last value's error) per score, in the units
    the daemon's live skill keeps them (from 2 h on, divided by the running one-step change), then both absolute."""
    y = series["y"] * series["factor"]
    upper = 100.0 if series["target"] != "load_average" else np.inf
    origins = set(series["origins"])
    log_factors = np.zeros(len(HORIZONS))
    n = policy.n()
    errors = np.zeros((len(HORIZONS), n))
    long_errors = np.zeros((len(HORIZONS), n))
    long_sq = np.zeros((len(HORIZONS), n))        # guard_z: EWMA of (persistence's error − candidate's)²
    fast_errors = np.zeros((len(HORIZONS), n))
    pending = [dict() for _ in HORIZONS]          # due step → (low, mid, high, factor, candidate medians)
    scored = 0
    n_experts = len(policy.dtaci[0]) if policy.dtaci else len(policy.dtaci_w[0]) if policy.dtaci_w else 1
    experts = np.zeros((len(HORIZONS), n_experts))
    expert_weights = np.full((len(HORIZONS), n_experts), 1.0 / n_experts)
    expert_loss = np.zeros_like(experts)
    levels = None
    spread, median, previous = 0.0, 0.0, None
    norm_spread = 0.0
    slow_spread = 0.0
    changes = 0
    vm = 1.0
    rate_mult = 1.0
    slope = 0.0
    chosen = [None] * len(HORIZONS)
    boost, last_sign = 1.0, 0.0
    window = []
    out = {}
    for row in raw:
        t = int(row[0])
        q = row[1:].reshape(7, rd.HORIZON).astype(float)
        actual = y[t - 1]
        if levels is None:
            levels = np.full(len(policy.level_rates), actual)
            median = actual
        else:
            levels = levels[:len(policy.level_rates)]
            levels = levels + np.array(policy.level_rates) * (actual - levels)
            spread += 0.05 * (abs(actual - previous) - spread)
            norm_spread += policy.norm_rate * (abs(actual - previous) - norm_spread)
            if policy.vol or policy.rate_boost:
                slow_rate = policy.vol[0] if policy.vol else 0.005
                slow_spread += slow_rate * (abs(actual - previous) - slow_spread)
                changes += 1
                # Both means started at 0: divided by their weight so far, a new series starts at ratio 1 (uncorrected,
                # the fast mean runs ahead of the slow one for the first hundreds of steps: ratios up to the clip).
                corrected = not policy.vol or len(policy.vol) < 4 or policy.vol[3]
                fast_mean = spread / (1 - 0.95 ** changes) if corrected else spread
                slow_mean = slow_spread / (1 - (1 - slow_rate) ** changes) if corrected else slow_spread
                ratio = max(fast_mean, 1e-4) / max(slow_mean, 1e-4)
                if policy.vol:
                    vm = min(max(ratio ** policy.vol[1], 1 / policy.vol[2]), policy.vol[2])
                else:
                    rate_mult = min(1 + policy.rate_boost[0] * abs(math.log(ratio)), policy.rate_boost[1])
            if policy.trend:
                slope += policy.trend[0] * ((actual - previous) - slope)
            sign = float(np.sign(actual - median))
            boost = min(boost * policy.median_growth, 1e6) if sign != 0 and sign == last_sign else 1.0
            last_sign = sign
            step = policy.median_rate * max(spread, 1e-6) * boost
            median = actual if policy.median_clamp and abs(actual - median) <= step else median + sign * step
        if policy.median_window:
            window.append(actual)
            median = float(np.median(window[-policy.median_window:]))
            del window[:-policy.median_window]
        previous = actual
        w_ = window[-48:] if policy.median_window else [actual]
        window_spread = float(np.mean(np.abs(np.diff(w_)))) if len(w_) > 1 else 0.0
        levels = np.append(levels[:len(policy.level_rates)], median)
        # Score what was due at the step that just closed (t - 1).
        for i, h in enumerate(HORIZONS):
            p = pending[i].pop(t - 1, None)
            if p is None:
                continue
            low, mid, high, factor, cands = p[:5]
            if policy.union == "aci":
                rmid, rlow, rhigh = p[5]
                inside = min(mid + factor * (low - mid), rlow) <= actual <= max(mid + factor * (high - mid), rhigh)
            if actual >= mid:
                r = (actual - mid) / (high - mid) if high > mid else (0 if actual == mid else np.inf)
            else:
                r = (mid - actual) / (mid - low) if mid > low else np.inf
            decay = policy.decay[i] if isinstance(policy.decay, tuple) else policy.decay
            e = np.abs(actual - cands)
            if policy.norm == "mean" and i >= policy.norm_from:
                e = e / max(float(np.mean(e)), 1e-9)
            elif policy.norm == "spread" and i >= policy.norm_from:
                e = e / max(norm_spread, policy.norm_floor)
            elif policy.norm == "window" and i >= policy.norm_from:
                e = e / max(window_spread, 1e-9)
            errors[i] += decay * (e - errors[i])
            if trace is not None:
                unit = max(norm_spread, policy.norm_floor) if policy.norm == "spread" and i >= policy.norm_from else 1.0
                trace.append((i, t - 1, abs(actual - mid) / unit, abs(actual - cands[0]) / unit, abs(actual - mid), abs(actual - cands[0])))
            if policy.guard:
                g = e if i >= 2 else np.abs(actual - cands)
                gd = policy.guard8[0] if policy.guard8 and i == len(HORIZONS) - 1 else policy.guard[0]
                long_errors[i] += gd * (g - long_errors[i])
                long_sq[i] += policy.guard[0] * ((g[0] - g) ** 2 - long_sq[i])
            if policy.regime:
                fast_errors[i] += policy.regime[0] * (np.abs(actual - cands) - fast_errors[i])
            miss = (not inside) if policy.union == "aci" else r > factor
            rate = policy.aci_rate(scored // len(HORIZONS)) * rate_mult
            scored += 1
            if policy.dtaci:
                rates, d = policy.dtaci
                rmid = p[5][0]
                for k_, g in enumerate(rates):
                    fk = math.exp(p[6][k_])
                    lo_, hi_ = min(mid, rmid) + fk * (low - mid), max(mid, rmid) + fk * (high - mid)
                    score = (hi_ - lo_) + 10 * max(lo_ - actual, 0) + 10 * max(actual - hi_, 0)
                    expert_loss[i, k_] += d * (score - expert_loss[i, k_])
                    miss_k = not (lo_ <= actual <= hi_)
                    experts[i, k_] = min(max(experts[i, k_] + g * ((1 if miss_k else 0) - (1 - TARGET_COVERAGE)), policy.log_range[0]),
                                         policy.log_range[1])
                log_factors[i] = experts[i, int(np.argmin(expert_loss[i]))]
                continue
            if policy.dtaci_w:
                rates, eta, sigma = policy.dtaci_w
                rmid, rlow, rhigh = p[5]
                need = min(needed_factor(actual, mid, low - mid, high - mid),
                           needed_factor(actual, rmid, (rlow - rmid) / factor, (rhigh - rmid) / factor))
                target = min(max(math.log(need) if need > 0 else -np.inf, policy.log_range[0] - 1), policy.log_range[1] + 1)
                for k_, g in enumerate(rates):
                    theta = p[6][k_]
                    u = target - theta
                    expert_weights[i, k_] *= math.exp(-eta * max(TARGET_COVERAGE * u, (TARGET_COVERAGE - 1) * u))
                    miss_k = theta < target
                    experts[i, k_] = min(max(experts[i, k_] + g * ((1 if miss_k else 0) - (1 - TARGET_COVERAGE)), policy.log_range[0]),
                                         policy.log_range[1])
                w = expert_weights[i] / expert_weights[i].sum()
                expert_weights[i] = (1 - sigma) * w + sigma / n_experts
                log_factors[i] = float(expert_weights[i] @ experts[i])
                continue
            log_factors[i] = min(max(log_factors[i] + rate * ((1 if miss else 0) - (1 - TARGET_COVERAGE)), policy.log_range[0]),
                                 policy.log_range[1])
        def memories(i):
            if policy.borrow and i == len(HORIZONS) - 1:
                return errors[i] + policy.borrow * errors[i - 1], long_errors[i] + policy.borrow * long_errors[i - 1]
            if policy.borrow_guard and i == len(HORIZONS) - 1:
                return errors[i], long_errors[i] + policy.borrow_guard * long_errors[i - 1]
            return errors[i], long_errors[i]
        weights = [policy.pick(*memories(i), i, fast_errors[i], long_sq[i]) if policy.shrink else None for i in range(len(HORIZONS))]
        if policy.sticky and policy.shrink:
            for i in range(2, len(HORIZONS)):
                best = int(np.argmax(weights[i]))
                if chosen[i] is not None and best != chosen[i] and errors[i][best] > errors[i][chosen[i]] * (1 - policy.sticky):
                    weights[i] = np.zeros(n)
                    weights[i][chosen[i]] = 1
                chosen[i] = int(np.argmax(weights[i]))
        last = actual

        def served_mid(k):
            raw_mid = q[MID, k]
            if not policy.shrink:
                return raw_mid, None
            cands = policy.candidates(last, levels, raw_mid, slope, k, y=y, t=t)
            per_h = np.array([float(weights[i] @ cands) for i in range(len(HORIZONS))])
            return interpolate(per_h, k), cands

        def offset(row_, k):
            own, mirror = q[row_, k] - q[MID, k], q[MID, k] - q[6 - row_, k]
            return vm * (mirror if abs(own) < 0.1 * abs(mirror) else own)

        for i, h in enumerate(HORIZONS):
            mid, cands = served_mid(h - 1)
            if cands is None:
                cands = np.full(n, mid)
            f_ = math.exp(log_factors[i])
            rm = q[MID, h - 1]
            pending[i][t - 1 + h] = (mid + offset(LOW, h - 1), mid, mid + offset(HIGH, h - 1), f_, cands,
                                     (rm, rm + f_ * offset(LOW, h - 1), rm + f_ * offset(HIGH, h - 1)), experts[i].copy())
        if t in origins:
            f = np.zeros((3, rd.HORIZON))
            for k in range(rd.HORIZON):
                mid, _ = served_mid(k)
                factor = math.exp(interpolate(log_factors, k)) if bands else 1.0
                f[0, k] = mid + factor * offset(LOW, k)
                f[1, k] = mid
                f[2, k] = mid + factor * offset(HIGH, k)
                if policy.union:
                    f[0, k] = min(f[0, k], q[MID, k] + factor * offset(LOW, k))
                    f[2, k] = max(f[2, k], q[MID, k] + factor * offset(HIGH, k))
            out[t] = np.clip(f, 0, upper) / series["factor"]
    return out


MEDIAN_ANCHORS = ("last", "lvl0", "lvl1", "lvl2", "med")
SERVED_DECAYS = (0.05, 0.05, 0.005, 0.001)
POLICIES = {
    # Width calibration only (the median as the model made it).
    "raw": Policy("raw", shrink=False),
    # The first median calibration (issue 11, 2026-12-04 morning): the model shrunk toward the last value, decay 0.05.
    "before": Policy("before"),
    # What the daemon serves (BandCalibration.swift): the shrunk model or a level as it is, longer memory at long
    # horizons, the union band scored by ACI, at every horizon persistence unless the winner also beats it by 5 %
    # over the guard's memory (0.005), at 2 h and 8 h errors scored in units of the running one-step change, and a
    # damped-trend candidate (slope EWMA 0.5, φ 0.8) at 5 min, 30 min and 2 h; the width factor's rate falls from 0.05
    # to 0.0125 over a series' first 300 scores per horizon.
    "served": Policy("served", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure", union="aci",
                     guard=(0.005, 0.05, 4), median_window=48, norm="spread", norm_from=2, norm_floor=1e-4, trend=(0.5, 0.8),
                     trend_until=3, aci=(0.0125, 0.05, 100)),
    # Served until the fourth session of 2026-12-06: the width factor's rate fixed at 0.05.
    "served-fixed-rate": Policy("served-fixed-rate", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure",
                                union="aci", guard=(0.005, 0.05, 4), median_window=48, norm="spread", norm_from=2, norm_floor=1e-4,
                                trend=(0.5, 0.8), trend_until=3),
    # Served for an hour of 2026-12-06 (3de615f): the damped trend a candidate at 8 h too.
    "served-trend-8h": Policy("served-trend-8h", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure", union="aci",
                              guard=(0.005, 0.05, 4), median_window=48, norm="spread", norm_from=2, norm_floor=1e-4, trend=(0.5, 0.8)),
    # Served until the third session of 2026-12-06: the same without the damped trend.
    "served-no-trend": Policy("served-no-trend", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure", union="aci",
                              guard=(0.005, 0.05, 4), median_window=48, norm="spread", norm_from=2, norm_floor=1e-4),
    # Served for an hour of 2026-12-06 (f7d80f5): the scaled errors with the guard at 5 and 30 min only.
    "served-guard-short": Policy("served-guard-short", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure",
                                 union="aci", guard=(0.005, 0.05, 2), median_window=48, norm="spread", norm_from=2, norm_floor=1e-4),
    # Served until the second session of 2026-12-06: absolute errors at every horizon, the guard at 5 and 30 min.
    "served-absolute-errors": Policy("served-absolute-errors", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3,
                                     form="pure", union="aci", guard=(0.005, 0.05, 2), median_window=48),
    # Served for a few hours of 2026-12-06 (580418a): the running median's proximal step, never past the value.
    "served-running-median": Policy("served-running-median", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3,
                                    form="pure", union="aci", guard=(0.005, 0.05, 2), median_clamp=True),
    # What was served until 2026-12-06: the running median stepped by 0.3 × the spread and could step past the
    # value (every policy below too, unless it says median_clamp or median_window).
    "served-unclamped": Policy("served-unclamped", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure",
                               union="aci", guard=(0.005, 0.05, 2)),
    # Guard variants measured on the way (models/README.md).
    "guard-no-margin": Policy("guard-no-margin", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure", union="aci",
                              guard=(0.005, 0.0, 2)),
    "guard-long-0.002": Policy("guard-long-0.002", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure", union="aci",
                               guard=(0.002, 0.05, 2)),
    "guard-margin-0.1": Policy("guard-margin-0.1", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure", union="aci",
                               guard=(0.005, 0.1, 2)),
    # Regime variants (2026-12-05 evening): at 2 h and 8 h, persistence when a fast memory says it is `ratio` better.
    **{f"regime-{d}-{r}": Policy(f"regime-{d}-{r}", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure",
                                 union="aci", guard=(0.005, 0.05, 2), regime=(d, r, 2))
       for d in (0.01, 0.02, 0.05) for r in (1.0, 1.5, 2.0)},
    # The served guard and selection with the band around the chosen median only (no union with the model's band).
    "guard-no-union": Policy("guard-no-union", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure",
                             guard=(0.005, 0.05, 2)),
    # The served policy with another floor of the band factor (served: 1/32; 1/4 until 2026-12-05 late, where on
    # quantised series the floor, not the adaptive update, set the width).
    **{f"floor-1/{d}": Policy(f"floor-1/{d}", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure", union="aci",
                              guard=(0.005, 0.05, 2), log_range=(math.log(1 / d), math.log(32))) for d in (4, 8, 128)},
    # The persistence guard at every horizon (2 h and 8 h too), long memory 0.005 or 0.001, margin 5 % or 0.
    **{f"guard-all-{m}-{g}": Policy(f"guard-all-{m}-{g}", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure",
                                    union="aci", guard=(m, g, 4)) for m in (0.005, 0.001) for g in (0.05, 0.0)},
    # A candidate more: the mean of the flat forecasts (the last value and the four levels), a forecast combination
    # (2026-12-06; not adopted).
    "combo": Policy("combo", anchors=MEDIAN_ANCHORS + ("combo",), decay=SERVED_DECAYS, median_rate=0.3, form="pure",
                    union="aci", guard=(0.005, 0.05, 2)),
    # The running median with a step that grows while its moves keep one direction (2026-12-06; not adopted).
    **{f"median-growth-{g}{'-clamp' if c else ''}": Policy(f"median-growth-{g}{'-clamp' if c else ''}", anchors=MEDIAN_ANCHORS,
                                                         decay=SERVED_DECAYS, median_rate=0.3, form="pure", union="aci",
                                                         guard=(0.005, 0.05, 2), median_clamp=c, median_growth=g)
       for g in (1.1, 1.2, 1.5) for c in (False, True)},
    # The exact median of the last W values instead of the running median (2026-12-06; 48 is served).
    **{f"median-window-{w}": Policy(f"median-window-{w}", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3,
                                    form="pure", union="aci", guard=(0.005, 0.05, 2), median_clamp=True, median_window=w)
       for w in (24, 48, 96, 288)},
    # Scale-free scores (2026-12-06, second session; "served" is norm-spread-0.05-from2 with a floor of 1e-4): each
    # scored error divided by the step's mean candidate error or by the running one-step change, so a busy past does
    # not outvote a quiet present; at every horizon (from0) or at 2 h and 8 h (from2).
    "norm-mean": Policy("norm-mean", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure", union="aci",
                        guard=(0.005, 0.05, 2), median_window=48, norm="mean"),
    **{f"norm-spread-{r}-from{f}": Policy(f"norm-spread-{r}-from{f}", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3,
                                          form="pure", union="aci", guard=(0.005, 0.05, 2), median_window=48, norm="spread",
                                          norm_from=f, norm_rate=r) for r in (0.05, 0.01, 0.2) for f in (0, 2)},
    # The persistence guard at every horizon on top of the scaled errors (its memory in the same units at 2 h and 8 h);
    # served: 0.005 and 5 %.
    **{f"norm-guard-all-{m}-{g}": Policy(f"norm-guard-all-{m}-{g}", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3,
                                         form="pure", union="aci", guard=(m, g, 4), median_window=48, norm="spread", norm_from=2,
                                         norm_floor=1e-4) for m in (0.005, 0.001) for g in (0.05, 0.0)},
    # Norm "window": the mean one-step change over the rolling median's 48 values (nothing more to keep than the
    # window), at 2 h and 8 h.
    "norm-window": Policy("norm-window", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure", union="aci",
                          guard=(0.005, 0.05, 2), median_window=48, norm="window", norm_from=2),
    **{f"norm-sticky-{m}": Policy(f"norm-sticky-{m}", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure",
                                  union="aci", guard=(0.005, 0.05, 2), median_window=48, norm="spread", norm_from=2, sticky=m)
       for m in (0.02, 0.05, 0.1)},
    **{f"norm-decay-{d2}-{d3}": Policy(f"norm-decay-{d2}-{d3}", anchors=MEDIAN_ANCHORS, decay=(0.05, 0.05, d2, d3), median_rate=0.3,
                                       form="pure", union="aci", guard=(0.005, 0.05, 2), median_window=48, norm="spread", norm_from=2)
       for d2, d3 in ((0.005, 0.002), (0.005, 0.0005), (0.01, 0.001), (0.0025, 0.001))},
    # The guard as a test (2026-12-06, third session): the winner's gain over persistence in the guard's memory must
    # exceed z standard errors, the effective sample shrunk by h^power for overlapping h-step errors.
    **{f"guard-z-{z}-{pw}": Policy(f"guard-z-{z}-{pw}", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure",
                                   union="aci", guard=(0.005, 0.05, 4), median_window=48, norm="spread", norm_from=2,
                                   norm_floor=1e-4, guard_z=(z, pw)) for z in (0.5, 1.0, 2.0) for pw in (0.5, 1.0)},
    # The winner blended with the last value at the long horizons (2026-12-06, third session).
    **{f"blend-last-{f}-{b}": Policy(f"blend-last-{f}-{b}", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure",
                                     union="aci", guard=(0.005, 0.05, 4), median_window=48, norm="spread", norm_from=2,
                                     norm_floor=1e-4, blend_last=(f, b)) for f in (2, 3) for b in (0.5, 0.75)},
    # A damped-trend candidate (2026-12-06, third session): Holt's forecast from the last value.
    **{f"trend-{r}-{phi}": Policy(f"trend-{r}-{phi}", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure",
                                  union="aci", guard=(0.005, 0.05, 4), median_window=48, norm="spread", norm_from=2,
                                  norm_floor=1e-4, trend=(r, phi)) for r in (0.2, 0.5, 0.8) for phi in (0.7, 0.8, 0.9, 0.95)},
    **{f"trend-short-{u}": Policy(f"trend-short-{u}", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure",
                                  union="aci", guard=(0.005, 0.05, 4), median_window=48, norm="spread", norm_from=2,
                                  norm_floor=1e-4, trend=(0.5, 0.8), trend_until=u) for u in (2, 3)},
    # The width factor's adaptive rate (2026-12-06, fourth session): fixed, or decaying from 0.05 to a floor.
    **{f"aci-{r}": Policy(f"aci-{r}", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure", union="aci",
                          guard=(0.005, 0.05, 4), median_window=48, norm="spread", norm_from=2, norm_floor=1e-4, trend=(0.5, 0.8),
                          trend_until=3, aci=(r, r, 1)) for r in (0.05, 0.025, 0.0125, 0.00625)},
    **{f"aci-decay-{f}-{n0}": Policy(f"aci-decay-{f}-{n0}", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure",
                                     union="aci", guard=(0.005, 0.05, 4), median_window=48, norm="spread", norm_from=2, norm_floor=1e-4,
                                     trend=(0.5, 0.8), trend_until=3, aci=(f, 0.05, n0))
       for f in (0.025, 0.0125, 0.00625) for n0 in (100, 300)},
    **{f"dtaci-{d}": Policy(f"dtaci-{d}", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure", union="aci",
                            guard=(0.005, 0.05, 4), median_window=48, norm="spread", norm_from=2, norm_floor=1e-4, trend=(0.5, 0.8),
                            trend_until=3, dtaci=((0.0125, 0.025, 0.05, 0.1), d)) for d in (0.01, 0.03)},
    **{f"dtaci-w-{eta}-{sg}": Policy(f"dtaci-w-{eta}-{sg}", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure",
                                     union="aci", guard=(0.005, 0.05, 4), median_window=48, norm="spread", norm_from=2, norm_floor=1e-4,
                                     trend=(0.5, 0.8), trend_until=3, dtaci_w=((0.0125, 0.025, 0.05, 0.1), eta, sg))
       for eta in (0.1, 0.3, 1.0, 3.0) for sg in (0.002, 0.01)},
    **{f"borrow-{b}": Policy(f"borrow-{b}", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure", union="aci",
                             guard=(0.005, 0.05, 4), median_window=48, norm="spread", norm_from=2, norm_floor=1e-4, trend=(0.5, 0.8),
                             trend_until=3, aci=(0.0125, 0.05, 100), borrow=b) for b in (0.5, 1.0, 2.0, 100.0)},
    **{f"borrow-guard-{b}": Policy(f"borrow-guard-{b}", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure",
                                   union="aci", guard=(0.005, 0.05, 4), median_window=48, norm="spread", norm_from=2, norm_floor=1e-4,
                                   trend=(0.5, 0.8), trend_until=3, aci=(0.0125, 0.05, 100), borrow_guard=b) for b in (0.5, 1.0, 2.0)},
    **{f"guard8-{d}-{m}": Policy(f"guard8-{d}-{m}", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure",
                                 union="aci", guard=(0.005, 0.05, 4), median_window=48, norm="spread", norm_from=2, norm_floor=1e-4,
                                 trend=(0.5, 0.8), trend_until=3, aci=(0.0125, 0.05, 100), guard8=(d, m))
       for d in (0.005, 0.02) for m in (0.05, 0.15, 0.3)},
    # Band offsets scaled by the volatility ratio (2026-12-07, sixth session; built into the daemon and reverted:
    # models/README.md, "Never worse than the last value, tested per series; bands scaled by the recent volatility").
    **{f"vol-{r}-{g}-{c}": Policy(f"vol-{r}-{g}-{c}", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure",
                                  union="aci", guard=(0.005, 0.05, 4), median_window=48, norm="spread", norm_from=2, norm_floor=1e-4,
                                  trend=(0.5, 0.8), trend_until=3, aci=(0.0125, 0.05, 100), vol=(r, g, c))
       for r in (0.005, 0.001) for g in (0.5, 1.0) for c in (4, 16)},
    # The served policy with the band around the chosen median only, not its union with the model's own (2026-12-07):
    # what users would see if risk and alerts read the model's band separately.
    "served-no-union": Policy("served-no-union", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure",
                              guard=(0.005, 0.05, 4), median_window=48, norm="spread", norm_from=2, norm_floor=1e-4, trend=(0.5, 0.8),
                              trend_until=3, aci=(0.0125, 0.05, 100)),
    # The width factor's rate boosted while the volatility is far from the last day's (2026-12-07, sixth session; not
    # adopted).
    **{f"rate-boost-{k}-{c}": Policy(f"rate-boost-{k}-{c}", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure",
                                     union="aci", guard=(0.005, 0.05, 4), median_window=48, norm="spread", norm_from=2,
                                     norm_floor=1e-4, trend=(0.5, 0.8), trend_until=3, aci=(0.0125, 0.05, 100), rate_boost=(k, c))
       for k in (1, 3) for c in (2, 4)},
    # The same without the correction of the two means for their start at 0 (how the first grid was run).
    **{f"vol-uncorrected-{r}-{g}": Policy(f"vol-uncorrected-{r}-{g}", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3,
                                          form="pure", union="aci", guard=(0.005, 0.05, 4), median_window=48, norm="spread",
                                          norm_from=2, norm_floor=1e-4, trend=(0.5, 0.8), trend_until=3, aci=(0.0125, 0.05, 100),
                                          vol=(r, g, 4, False)) for r in (0.005, 0.001) for g in (0.5, 1.0)},
    "served-selection-only": Policy("served-selection-only", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure"),
    # Variants measured on the way (models/README.md lists their figures).
    "served-union": Policy("served-union", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure", union="bands"),
    # What was served before the persistence guard (2026-12-05 morning).
    "served-union-aci": Policy("served-union-aci", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure", union="aci"),
    "same-decay": Policy("same-decay", anchors=MEDIAN_ANCHORS, decay=0.05, median_rate=0.3, form="pure"),
    "short-decay-0.02": Policy("short-decay-0.02", anchors=MEDIAN_ANCHORS, decay=(0.02, 0.02, 0.005, 0.001), median_rate=0.3, form="pure"),
    "no-running-median": Policy("no-running-median", anchors=MEDIAN_ANCHORS[:4], decay=SERVED_DECAYS, form="pure"),
    "level-plus-departure": Policy("level-plus-departure", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3),
    "blend": Policy("blend", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="blend"),
    "hedge": Policy("hedge", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure", hedge=4.0),
    "margin-5%": Policy("margin-5%", anchors=MEDIAN_ANCHORS, decay=SERVED_DECAYS, median_rate=0.3, form="pure", margin=0.05),
}


def load_raw(args, series):
    cache = os.path.join(args.cache, "index.json")
    if not os.path.exists(cache):
        spec = [dict(name=s["name"], target=s["target"], profile="generic", first_epoch=s["first"], step_seconds=rd.STEP,
                     feed=s["feed"], origins=s["origins"]) for s in series]
        os.makedirs(args.cache, exist_ok=True)
        inp = os.path.join(args.cache, "origins.json")
        with open(inp, "w") as f:
            json.dump(spec, f)
        subprocess.run([args.argusd, "evaluate", "--model", args.model, "--origins", inp, "--forecasts-out",
                        os.path.join(args.cache, "served.jsonl"), "--threads", "2", "--quiet",
                        "--calibrate", str(args.warmup), "--raw-out", args.cache], check=True)
    index = json.load(open(cache))
    width = 1 + 7 * rd.HORIZON
    return {e["series"]: np.fromfile(os.path.join(args.cache, e["file"]), dtype=np.float32).reshape(-1, width) for e in index}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--argusd", default=".build/release/argusd")
    ap.add_argument("--model", default=rd.newest_model(os.path.join(rd.HERE, "..", "models")))
    ap.add_argument("--cache", default="/tmp/argus-calibration-lab")
    ap.add_argument("--warmup", type=int, default=576)
    ap.add_argument("--policy", action="append", help=f"policies to replay (default all): {', '.join(POLICIES)}")
    ap.add_argument("--only", help="comma-separated substrings: keep matching series only")
    ap.add_argument("--origin-every", type=int, default=rd.ORIGIN_EVERY, help="score every Nth step's origin (the cache has every tick)")
    ap.add_argument("--peers", help="realdata_eval.py --json report with the same --origin-every: its methods are shown too")
    ap.add_argument("--nab", default=os.path.join(rd.HERE, "..", "..", "shared", "data", "real-metrics"),
                    help="folder of NAB/MIT CSVs (a folder without CSVs: none)")
    ap.add_argument("--proc", action="append", help="time-compressed /proc recordings (default: the two of 2026-11-23)")
    args = ap.parse_args()

    series = rd.load_nab(args.nab)
    default_proc = [os.path.join(rd.HERE, "realdata", f) for f in ("procfeed_20261123_4s_as_300s.jsonl.gz", "procfeed_20261123b_4s_as_300s.jsonl.gz")]
    for p in args.proc or default_proc:
        series += rd.load_proc(p)
    for s in series:
        n = len(s["y"])
        s["origins"] = rd.origins_for(n)
        s["scale"] = float(np.mean(np.abs(np.diff(s["y"][:math.ceil(n * (1 - rd.EVAL_SHARE))])))) or 1.0
    raw = load_raw(args, series)
    if args.only:
        series = [s for s in series if any(k in s["name"] for k in args.only.split(","))]
    for s in series:
        s["origins"] = rd.origins_for(len(s["y"]), args.origin_every)
    methods = {"last value": {s["name"]: {o: np.stack([np.full(rd.HORIZON, s["y"][o - 1])] * 3) for o in s["origins"]} for s in series}}
    for name in args.policy or POLICIES:
        methods[name] = {s["name"]: replay(s, raw[s["name"]], POLICIES[name]) for s in series}
    rows = {m: [rd.scores(s["y"], s["scale"], per[s["name"]]) for s in series] for m, per in methods.items()}
    if args.peers:
        report = json.load(open(args.peers))
        for m in ("AutoARIMA", "AutoETS"):
            if m in report["overall"]:
                rows[m] = [report["series"][s["name"]]["methods"][m] for s in series]
    print("| policy | sMAE 30 min | sMAE 8 h | sPL | coverage |")
    print("|---|---|---|---|---|")
    for m, r in rows.items():
        mean = {k: float(np.mean([x[k] for x in r])) for k in r[0]}
        print(f"| {m} | {mean['smae_6']:.3f} | {mean['smae_96']:.3f} | {mean['spl']:.3f} | {mean['coverage']:.2f} |")
    print("\n| policy | vs last value at 30 min | at 8 h (Diebold–Mariano, 5 %: better / not told apart / worse) | worse at 8 h (5 %: > +1.96) |")
    print("|---|---|---|---|")
    for m, per in methods.items():
        if m == "last value":
            continue
        t = [rd.dm_vs(s["y"], per[s["name"]], methods["last value"][s["name"]], args.origin_every) for s in series]
        counts = [f"{sum(x[h] < -1.96 for x in t)} / {sum(abs(x[h]) <= 1.96 for x in t)} / {sum(x[h] > 1.96 for x in t)}"
                  for h in ("6", "96")]
        worse = ", ".join(f"{s['name']} ({x['96']:+.1f})" for s, x in zip(series, t) if x["96"] > 1.96) or "none"
        top = max(zip(series, t), key=lambda p: p[1]["96"])
        print(f"| {m} | {counts[0]} | {counts[1]} | {worse} (highest: {top[0]['name']}, {top[1]['96']:+.1f}) |")
    print("\n| series | " + " | ".join(rows) + " |")
    for i, s in enumerate(series):
        print(f"| {s['name']} | " + " | ".join(f"{rows[m][i]['smae_6']:.2f}/{rows[m][i]['smae_96']:.2f} {rows[m][i]['coverage']:.2f}" for m in rows) + " |")


if __name__ == "__main__":
    main()
