#!/usr/bin/env python3
"""Markdown table of an `argusd evaluate --json` report (as in models/README.md).

    python3 tools/eval_table.py report.json [--step-label]

`--step-label` labels horizons by steps instead of minutes (time-compressed recordings).
"""
import json
import sys


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    steps = "--step-label" in sys.argv
    r = json.load(open(args[0]))
    print(f"{r['windows']} forecast windows over {r['servers']} series\n")
    print("| target | horizon | P50 MAE | last value | same time yesterday | P50 − last (±2 SE) | QL | coverage 10–90 | beats both |")
    print("|---|---|---|---|---|---|---|---|---|")
    for t in r["targets"]:
        for h in t["horizons"]:
            m, lv, yd = h["p50_mae"], h["last_value_mae"], h["same_time_yesterday_mae"]
            label = f"{h['horizon_steps']} steps" if steps else (f"{h['minutes'] // 60} h" if h["minutes"] >= 60 else f"{h['minutes']} min")
            se = h.get("p50_minus_last_value_se")
            d = f"{m - lv:+.4f}" + (f" (±{2 * se:.4f})" if se is not None else "")
            rel = (m / lv - 1) * 100 if lv > 0 else float("inf") if m > 0 else 0.0
            if m < lv and m < yd:
                verdict = "yes"
            else:
                lost = [n for n, b in (("last value", lv), ("yesterday", yd)) if m >= b]
                verdict = "no (" + ", ".join(lost) + (f"; {rel:+.1f} % vs last" if "last value" in lost and lv > 0 else "") + ")"
            fmt = (lambda x: f"{x:.4f}") if max(m, lv) < 1 else (lambda x: f"{x:.3f}")
            best = min(m, lv, yd)
            cells = [("**" + fmt(x) + "**") if x == best else fmt(x) for x in (m, lv, yd)]
            print(f"| {t['target']} | {label} | {cells[0]} | {cells[1]} | {cells[2]} | {d} | {h['quantile_loss']:.3f} | {h['coverage_10_90']:.2f} | {verdict} |")
    inc = r.get("incidents") or []
    if inc:
        p50 = sorted(x.get("p50_lead_minutes", x.get("p50LeadMinutes")) for x in inc if x.get("p50_lead_minutes", x.get("p50LeadMinutes")) is not None)
        p90 = sorted(x.get("p90_lead_minutes", x.get("p90LeadMinutes")) for x in inc if x.get("p90_lead_minutes", x.get("p90LeadMinutes")) is not None)
        med = lambda a: f"{a[len(a) // 2]:.0f} min" if a else "—"
        print(f"\nincidents with a critical crossing: {len(inc)}; P90 reached critical first for {len(p90)} (median lead {med(p90)}), P50 for {len(p50)} (median lead {med(p50)})")


if __name__ == "__main__":
    main()
