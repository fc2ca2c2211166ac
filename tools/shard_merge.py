#!/usr/bin/env python3
"""The fleet-wide GET /predictions/current of a sharded Argus, merged from every shard (docs/sharding.md).

Each shard answers for its own servers only; this asks every shard and merges the answers the way one
daemon would have computed them: predictions (disjoint server names) united, alerts concatenated and
sorted like the daemon sorts them, counts summed, fleet_health and avg_risk_score weighted by
total_servers, prob_30m / prob_8h combined as 1 - prod(1 - p) (each shard's is already that product
over its servers), max_risk_score the maximum, timestamp the oldest shard's data clock. Standard library only.

    python3 tools/shard_merge.py --key KEY http://127.0.0.1:8080/shard/a http://127.0.0.1:8080/shard/b
"""
import argparse
import json
import sys
import urllib.request


def fetch(base, key, query):
    request = urllib.request.Request(base.rstrip("/") + "/predictions/current" + query, headers={"X-API-Key": key})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def merge(answers):
    merged = {"predictions": {}, "alerts": [], "shards": len(answers)}
    counts = ["total_servers", "critical", "warning", "degraded", "healthy", "servers_warming_up"]
    summary = {name: 0 for name in counts}
    health = risk = 0.0
    keep_30m = keep_8h = 1.0
    max_risk = 0.0
    for answer in answers:
        overlap = merged["predictions"].keys() & answer.get("predictions", {}).keys()
        if overlap:
            raise SystemExit(f"servers answered by two shards: {sorted(overlap)[:5]} (is the proxy's hashing consistent?)")
        merged["predictions"].update(answer.get("predictions", {}))
        merged["alerts"] += answer.get("alerts", [])
        s = answer.get("summary", {})
        for name in counts:
            summary[name] += s.get(name, 0)
        n = s.get("total_servers", 0)
        health += s.get("fleet_health", 100.0) * n
        risk += s.get("avg_risk_score", 0.0) * n
        keep_30m *= 1 - s.get("prob_30m", 0.0)
        keep_8h *= 1 - s.get("prob_8h", 0.0)
        max_risk = max(max_risk, s.get("max_risk_score", 0.0))
    n = summary["total_servers"]
    summary.update(fleet_health=round(health / n, 1) if n else 100.0, prob_30m=round(1 - keep_30m, 4),
                   prob_8h=round(1 - keep_8h, 4), avg_risk_score=round(risk / n, 1) if n else 0.0,
                   max_risk_score=max_risk)
    merged["summary"] = summary
    # The daemon's order: critical first, then sooner, then server name, then metric.
    merged["alerts"].sort(key=lambda a: (a.get("level") != "critical", a.get("minutes_to_issue", 0),
                                         a.get("server_name", ""), a.get("metric", "")))
    stamps = [a["timestamp"] for a in answers if a.get("timestamp")]
    merged["timestamp"] = min(stamps) if stamps else None
    return merged


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--key", required=True, help="the API key (the same on every shard)")
    parser.add_argument("--query", default="?compact=true", help="query string of each shard's request")
    parser.add_argument("shards", nargs="+", help="base URL of each shard (directly, or the proxy's /shard/<name>)")
    args = parser.parse_args()
    merged = merge([fetch(base, args.key, args.query) for base in args.shards])
    json.dump(merged, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
