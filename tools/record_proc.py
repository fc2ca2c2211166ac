#!/usr/bin/env python3
"""Record this machine's own /proc metrics as Argus feed records (JSONL), for the real-data check of
DESIGN §4 (`models/README.md`, "Real data check").

    python3 tools/record_proc.py --step 5 --minutes 60 --out procfeed.jsonl \
        --compressed-out procfeed_300s.jsonl

Every `--step` seconds one record with the 16 feed fields of `POST /feed/data` plus `status` and
`profile` is appended (and flushed, so the file is usable while recording and after Ctrl-C / SIGTERM):

- cpu_user/sys/iowait/idle_pct: deltas of the aggregate `cpu` line of /proc/stat over the step
  (user+nice, system+irq+softirq, iowait, idle; steal/guest count as busy "sys"), summing to 100;
- mem_used_pct = 100·(MemTotal − MemAvailable)/MemTotal; swap_used_pct = 100·(SwapTotal − SwapFree)/
  SwapTotal, 0 without swap (/proc/meminfo);
- disk_usage_pct: statvfs of `--disk-path` (default /), used/(used + available) as df prints it;
- load_average: 1-minute load (/proc/loadavg);
- net_in/out_mb_s: byte deltas of /proc/net/dev over all interfaces but lo, MB/s (10^6 bytes);
- back_close_wait / front_close_wait: TCP sockets in CLOSE_WAIT (/proc/net/tcp, tcp6);
- java_cpu_pct 0 (no JVM here), uptime_days from /proc/uptime; status "healthy".

`--out` gets the real wall-clock timestamps (UTC). `--compressed-out` gets the same records with
timestamps `--compressed-start + i·--compressed-step` (default 300 s): **time compression**, so a model
with a 300 s step can be run on a recording made at a short step (its encoder, horizon and "30 min /
8 h" are then counted in recorded steps, and its calendar features are synthetic). The decision and
its limits are written down in models/README.md.
"""
import argparse
import datetime as dt
import json
import os
import signal
import sys
import time


def read_cpu():
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu "):
                v = [int(x) for x in line.split()[1:]]
                v += [0] * (10 - len(v))
                user, nice, system, idle, iowait, irq, softirq, steal = v[:8]
                return (user + nice, system + irq + softirq + steal, iowait, idle)
    raise RuntimeError("no cpu line in /proc/stat")


def read_meminfo():
    m = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, rest = line.split(":", 1)
            m[k] = int(rest.split()[0])
    total = m["MemTotal"]
    avail = m.get("MemAvailable", m["MemFree"] + m.get("Cached", 0) + m.get("Buffers", 0))
    mem = 100.0 * (total - avail) / total
    st = m.get("SwapTotal", 0)
    swap = 100.0 * (st - m.get("SwapFree", 0)) / st if st > 0 else 0.0
    return mem, swap


def read_disk(path):
    s = os.statvfs(path)
    used = (s.f_blocks - s.f_bfree) * s.f_frsize
    avail = s.f_bavail * s.f_frsize
    return 100.0 * used / (used + avail) if used + avail > 0 else 0.0


def read_net():
    rx = tx = 0
    with open("/proc/net/dev") as f:
        for line in f.readlines()[2:]:
            name, data = line.split(":", 1)
            if name.strip() == "lo":
                continue
            v = data.split()
            rx += int(v[0]); tx += int(v[8])
    return rx, tx


def close_wait():
    n = 0
    for p in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(p) as f:
                for line in f.readlines()[1:]:
                    parts = line.split()
                    if len(parts) > 3 and parts[3] == "08":
                        n += 1
        except OSError:
            pass
    return n


def read_load():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def read_uptime_days():
    with open("/proc/uptime") as f:
        return int(float(f.read().split()[0]) // 86400)


def ts(epoch):
    return dt.datetime.fromtimestamp(epoch, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--step", type=float, default=5.0, help="seconds between records (default 5)")
    ap.add_argument("--minutes", type=float, default=60.0, help="how long to record (default 60)")
    ap.add_argument("--out", required=True, help="JSONL with real timestamps")
    ap.add_argument("--compressed-out", help="JSONL with timestamps on a --compressed-step grid")
    ap.add_argument("--compressed-step", type=int, default=300)
    ap.add_argument("--compressed-start", default="2025-03-03T00:00:00", help="first compressed timestamp (UTC)")
    ap.add_argument("--server", default="argus-self", help="server_name of the records")
    ap.add_argument("--profile", default="generic")
    ap.add_argument("--disk-path", default="/")
    a = ap.parse_args()

    stop = {"flag": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__("flag", True))
    signal.signal(signal.SIGINT, lambda *_: stop.__setitem__("flag", True))

    c0 = dt.datetime.strptime(a.compressed_start, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.timezone.utc).timestamp()
    out = open(a.out, "w")
    cout = open(a.compressed_out, "w") if a.compressed_out else None
    cpu_prev, net_prev, t_prev = read_cpu(), read_net(), time.monotonic()
    t_next = time.monotonic() + a.step
    end = time.monotonic() + a.minutes * 60
    i = 0
    while not stop["flag"] and time.monotonic() < end:
        delay = t_next - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if stop["flag"]:
            break
        t_next += a.step
        cpu, net, now = read_cpu(), read_net(), time.monotonic()
        d = [c - p for c, p in zip(cpu, cpu_prev)]
        tot = max(1, sum(d))
        user, sys_, iow = (round(100.0 * x / tot, 2) for x in d[:3])
        idle = max(0.0, round(100.0 - user - sys_ - iow, 2)) + 0.0  # (records before this fix may carry -0.01)
        secs = max(1e-3, now - t_prev)
        rx, tx = ((n - p) / secs / 1e6 for n, p in zip(net, net_prev))
        cpu_prev, net_prev, t_prev = cpu, net, now
        mem, swap = read_meminfo()
        cw = close_wait()
        rec = {
            "timestamp": "", "server_name": a.server, "status": "healthy", "profile": a.profile,
            "cpu_user_pct": user, "cpu_sys_pct": sys_, "cpu_iowait_pct": iow, "cpu_idle_pct": idle,
            "java_cpu_pct": 0.0, "mem_used_pct": round(mem, 2), "swap_used_pct": round(swap, 2),
            "disk_usage_pct": round(read_disk(a.disk_path), 3), "net_in_mb_s": round(rx, 3),
            "net_out_mb_s": round(tx, 3), "back_close_wait": cw, "front_close_wait": cw,
            "load_average": read_load(), "uptime_days": read_uptime_days(),
        }
        rec["timestamp"] = ts(time.time())
        out.write(json.dumps(rec) + "\n"); out.flush()
        if cout:
            rec["timestamp"] = ts(c0 + i * a.compressed_step)
            cout.write(json.dumps(rec) + "\n"); cout.flush()
        i += 1
    out.close()
    if cout:
        cout.close()
    print(f"record_proc: {i} records every {a.step:g} s -> {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
