#!/usr/bin/env bash
# Bursty real load for the real-data check (models/README.md, "Real data check"): repeats, until
# killed or for --minutes, a cycle of an idle pause, a CPU burst (one busy process), a memory burst
# (holds ~MEM_MB MiB for a while) and a disk burst (writes then deletes a DISK_MB MiB file with fsync,
# which shows in iowait and disk usage). Run it next to tools/record_proc.py (and next to a build or a
# training run, which is the other real load). Usage: tools/load_bursts.sh [MINUTES] [DIR]
set -u
MINUTES=${1:-60}; DIR=${2:-/tmp}; MEM_MB=${MEM_MB:-1500}; DISK_MB=${DISK_MB:-2000}
end=$(( $(date +%s) + MINUTES * 60 ))
i=0
while [ "$(date +%s)" -lt "$end" ]; do
  i=$((i + 1))
  sleep $(( 60 + (i * 37) % 120 ))
  timeout $(( 45 + (i * 23) % 90 )) python3 -c 'while True: pass' || true
  python3 -c "import time; b = bytearray($MEM_MB * 1048576); [b.__setitem__(j, 1) for j in range(0, len(b), 4096)]; time.sleep(60 + $i % 3 * 30)" || true
  dd if=/dev/zero of="$DIR/argus_load_$$.bin" bs=1M count=$(( DISK_MB / 2 + (i * 300) % DISK_MB )) conv=fsync status=none || true
  sleep 30
  rm -f "$DIR/argus_load_$$.bin"
done
