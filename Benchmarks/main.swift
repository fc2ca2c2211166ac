import Foundation

// `swift run -c release Benchmarks <name>`: each benchmark prints Argus's figure next to the peer's
// measured in the same run. Benchmarks are never tests: this machine is shared and noisy.
let arguments = Array(CommandLine.arguments.dropFirst())
let name = arguments.first ?? "help"
let rest = Array(arguments.dropFirst())

switch name {
case "tft": try TFTBenchmark.run(rest)
case "training": try TrainingBenchmark.run(rest)
case "http": try HTTPBenchmark.run(rest)
case "daemon": try DaemonBenchmark.run(rest)
case "metrics": try MetricsBenchmark.run(rest)
case "calibration": try CalibrationBenchmark.run(rest)
case "soak": try SoakBenchmark.run(rest)
case "training-memory": try TrainingMemoryBenchmark.run(rest)
default:
    print("""
    usage: swift run -c release Benchmarks <name> [options]
      tft       TFT forward latency and training throughput at config A, next to pytorch-forecasting
      training  the real Trainer + data pipeline on a simulated 45-server fleet, next to pytorch-forecasting
                (--config-a: config A's input counts instead of the daemon's feature set)
      http      GET /health under wrk and hostile clients, idle keep-alive memory, WebSocket broadcast fan-out
                (http churn-study: the open/drop loop pinned apart and against nginx; http ws-study: WebSocket rows only)
      daemon    feed ingest, tick, GET /predictions/current and an N-server fleet (--servers, default 1,000) through a real daemon
      metrics   what /metrics' request counting adds to each request (2 threads, the daemon's route table)
      calibration  per-server band calibration's cost on a 1,000-server tick
      soak      simulated days of a fleet through a real daemon: RSS, tick time and database size over time
                ([--servers 1000] [--days 7] [--retention-days 2] [--window 576] [--csv FILE]; docs/soak.md)
      training-memory  trainings in a row through a real daemon: RSS and glibc heap after each ([--no-trim]; docs/soak.md)
    """)
}
