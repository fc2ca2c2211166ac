#!/usr/bin/env python3
"""A collector that splits its batches per server for a sharded Argus (docs/sharding.md).

Reads feed records (JSON lines, e.g. from `argusd simulate --format jsonl`) and posts them to
`URL/feed/data` one server at a time, in batches of at most --batch records, each with the header
`X-Argus-Server: <server_name>` that the proxy hashes on. Standard library only.

    python3 tools/shard_feed.py --url http://127.0.0.1:8080 --key KEY fleet.jsonl
"""
import argparse
import collections
import json
import sys
import urllib.error
import urllib.request


def post(url, key, server, records):
    body = json.dumps({"records": records}).encode()
    request = urllib.request.Request(url + "/feed/data", data=body, method="POST", headers={
        "Content-Type": "application/json", "X-API-Key": key, "X-Argus-Server": server})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="the proxy, e.g. http://127.0.0.1:8080")
    parser.add_argument("--key", required=True, help="the API key (the same on every shard)")
    parser.add_argument("--batch", type=int, default=500, help="records per POST (one server each)")
    parser.add_argument("records", help="JSON lines file of feed records")
    args = parser.parse_args()

    by_server = collections.defaultdict(list)
    with open(args.records) as lines:
        for line in lines:
            if line.strip():
                record = json.loads(line)
                by_server[record["server_name"]].append(record)
    statuses = collections.Counter()
    for server, records in sorted(by_server.items()):
        records.sort(key=lambda r: r["timestamp"])
        for start in range(0, len(records), args.batch):
            statuses[post(args.url, args.key, server, records[start:start + args.batch])] += 1
    print(f"{len(by_server)} servers, {sum(map(len, by_server.values()))} records, "
          f"POST statuses: {dict(sorted(statuses.items()))}")
    return 0 if set(statuses) == {200} else 1


if __name__ == "__main__":
    sys.exit(main())
