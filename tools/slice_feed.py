#!/usr/bin/env python3
"""Cut feed JSONL files (optionally .gz) by timestamp, for time-split experiments on recordings.

    python3 tools/slice_feed.py IN.jsonl[.gz] [IN2 ...] --out OUT.jsonl [--from TS] [--before TS]

Keeps the records with `--from` <= timestamp < `--before` (ISO-8601 UTC, as in the feed, e.g.
2025-03-07T10:00:00), in input order. Timestamps compare as strings, which is exact for the feed's
fixed `YYYY-MM-DDTHH:MM:SS` format. Used by models/README.md, "Fine-tuning on real data".
"""
import argparse
import gzip
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("--out", required=True)
    ap.add_argument("--from", dest="start", default="")
    ap.add_argument("--before", default="\uffff")
    a = ap.parse_args()
    n = 0
    with open(a.out, "w") as out:
        for path in a.inputs:
            f = gzip.open(path, "rt") if path.endswith(".gz") else open(path)
            with f:
                for line in f:
                    i = line.find('"timestamp": "')
                    if i < 0:
                        continue
                    ts = line[i + 14:i + 33]
                    if a.start <= ts < a.before:
                        out.write(line if line.endswith("\n") else line + "\n")
                        n += 1
    print(f"slice_feed: {n} records -> {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
