import Daemon
import Foundation
import Glibc
import HTTPServer
import Synchronization
import TFTCore
import Training

/// `Benchmarks daemon [--quick] [--small-only [--no-wrk] | --large-only] [--servers N] [--reuse-data DIR] [--model DIR] [--models-dir DIR]`:
/// issue 6's (and for `--servers 10000` issue 15's) performance figures, each next
/// to its target, on a real daemon (ephemeral loopback port, temporary data directory, the shipped model):
///
/// 1. `POST /feed/data` with 45 records (one step of a 45-server fleet), p50/p99 over real HTTP, next to
///    the raw `fsync` time of the same disk (the floor: every batch is committed before the answer).
/// 2. A tick for 45 servers end to end: POST sent → commit → inference run → snapshot published.
/// 3. `GET /predictions/current` req/s on the 45-server snapshot, `wrk -t2 -c64 -d10s`.
/// 4. N servers (`--servers`, default 1,000) with full 2,880-step windows (in a child process, so its RSS is
///    that fleet's alone): start, tick time, compact GET under wrk, RSS, restart (DaemonBenchmarkFleet.swift).
enum DaemonBenchmark {
    static let key = "daemon-benchmark-key-0123456789"

    static func run(_ args: [String]) throws {
        let quick = args.contains("--quick")
        func value(_ name: String) -> String? {
            guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
            return args[i + 1]
        }
        let modelsDir = URL(fileURLWithPath: value("--models-dir") ?? "./models")
        let model = value("--model").map { URL(fileURLWithPath: $0) }
        let servers = value("--servers").flatMap(Int.init) ?? 1_000
        if args.contains("--large-only") {
            try large(servers: servers, quick: quick, modelsDir: modelsDir, model: model,
                      reuse: value("--reuse-data").map { URL(fileURLWithPath: $0) })
            return
        }
        print("Benchmarks daemon\(quick ? " --quick" : "") — \(ProcessInfo.processInfo.activeProcessorCount) cores, "
            + "load average \(loadAverage()) (shared machine: figures are noisy)")
        try small(quick: quick, modelsDir: modelsDir, model: model, noWrk: args.contains("--no-wrk"))
        if args.contains("--small-only") { return }

        // The N-server fleet in a child process (its RSS is not mixed with the 45-server daemon's).
        fflush(nil)   // every output stream: the parent's lines come before the child's
        let child = Process()
        // /proc/self/exe: this very binary, even if a rebuild has replaced the file meanwhile.
        child.executableURL = URL(fileURLWithPath: FileManager.default.fileExists(atPath: "/proc/self/exe")
                                  ? "/proc/self/exe" : CommandLine.arguments[0])
        child.arguments = ["daemon", "--large-only", "--servers", String(servers), "--models-dir", modelsDir.path]
            + (model.map { ["--model", $0.path] } ?? []) + (quick ? ["--quick"] : [])
            + (value("--reuse-data").map { ["--reuse-data", $0] } ?? [])
        try child.run()
        child.waitUntilExit()
        if child.terminationStatus != 0 { print("  (\(grouped(servers))-server part failed: exit \(child.terminationStatus))") }
    }

    // MARK: - 45 servers

    static func configuration(dir: URL, modelsDir: URL, model: URL?) -> DaemonConfiguration {
        var c = DaemonConfiguration()
        c.host = "127.0.0.1"
        c.port = 0
        c.dataDirectory = dir
        c.modelsDirectory = modelsDir
        c.modelPath = model
        c.apiKey = key
        c.announceKeyFile = false
        c.logLevel = "error"
        c.maxFutureSkewSeconds = nil
        c.tickDebounceMilliseconds = 0          // measure the run, not the deliberate coalescing delay
        c.feedRateLimit = 100_000_000
        c.predictionsRateLimit = 100_000_000
        c.adminRateLimit = 100_000_000
        c.orchestrationPort = nil             // the benchmark measures the Argus API alone
        return c
    }

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("argus-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Records the time at which each snapshot (by data clock) was published: complete and swapped in, so
    /// GETs serve it (the history recorder, a snapshot observer, runs after that and is reported apart).
    final class PublishTimes: Sendable {
        let times = Mutex<[Int64: UInt64]>([:])
        func observe(_ engine: InferenceEngine) {
            engine.onSnapshot { [self] s in
                times.withLock { if $0[s.dataEpoch] == nil { $0[s.dataEpoch] = s.readyUptimeNanoseconds } }
            }
        }
        func time(_ epoch: Int64) -> UInt64? { times.withLock { $0[epoch] } }
    }

    static func small(quick: Bool, modelsDir: URL, model: URL?, noWrk: Bool = false) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let daemon = try ArgusDaemon(configuration: configuration(dir: dir, modelsDir: modelsDir, model: model))
        try daemon.start()
        defer { daemon.shutdown() }
        guard let served = daemon.models.current, let port = daemon.port else {
            print("  no model in \(model?.path ?? modelsDir.path): the tick and predictions figures need one")
            return
        }
        let publish = PublishTimes()
        publish.observe(daemon.engine)
        print("model \(served.name); 45 servers (simulated), 300 steps backfilled; data dir on \(dir.path)")

        let backfill = 300, measured = quick ? 60 : 300
        var sim = try FleetSimulator(config: FleetSimulatorConfig(servers: 45, days: Double(backfill + measured + 1) * 300 / 86_400,
                                                                  stepSeconds: 300, seed: 11))
        var ticks: [FleetTick] = []
        while let t = sim.next() { ticks.append(t) }
        let encoder = JSONEncoder()
        struct Body: Encodable { var records: [FleetRecord] }
        let headers = ["Content-Type": "application/json", "X-API-Key": key]
        func post(_ records: [FleetRecord], to port: Int) throws {
            let body = Array(try encoder.encode(Body(records: records)))
            let (status, reply) = try LoopbackHTTPClient.send(port: port, method: "POST", path: "/feed/data", headers: headers, body: body)
            guard status == 200 else { throw BenchmarkError("POST /feed/data: \(status) \(String(decoding: reply.prefix(200), as: UTF8.self))") }
        }
        for start in stride(from: 0, to: backfill, by: 20) { try post(ticks[start..<min(start + 20, backfill)].flatMap(\.records), to: port) }
        daemon.engine.drain()

        // Ingest and tick, one step per POST, the run drained before the next POST (no overlap).
        var ingest: [Double] = [], tickEnd: [Double] = [], run: [Double] = [], forward: [Double] = []
        var stages: [RunTimings] = [], observers: [Double] = []
        for step in backfill..<(backfill + measured) {
            let body = Array(try encoder.encode(Body(records: ticks[step].records)))
            let t0 = DispatchTime.now().uptimeNanoseconds
            let (status, _) = try LoopbackHTTPClient.send(port: port, method: "POST", path: "/feed/data", headers: headers, body: body)
            let t1 = DispatchTime.now().uptimeNanoseconds
            guard status == 200 else { throw BenchmarkError("POST /feed/data: \(status)") }
            daemon.engine.drain()
            ingest.append(Double(t1 - t0) / 1e6)
            if let published = publish.time(ticks[step].epochSeconds) { tickEnd.append(Double(published - t0) / 1e6) }
            if let s = daemon.engine.latest, s.dataEpoch == ticks[step].epochSeconds {
                run.append(s.inferenceMilliseconds)
                forward.append(s.forwardMilliseconds)
                stages.append(s.timings)
                observers.append(daemon.engine.lastObserversMilliseconds)
            }
        }
        let fsyncs = fsyncTimes(dir: dir, count: quick ? 50 : 200)
        // The HTTP floor: the same client, a new connection, a request that does nothing.
        var floor: [Double] = []
        for _ in 0..<(quick ? 60 : 300) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try LoopbackHTTPClient.send(port: port, method: "GET", path: "/health")
            floor.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        // POST latency with the default configuration: a second daemon with the default 200 ms debounce, so
        // the run a POST starts begins after the collector has read its answer. (In the loop above the debounce
        // is 0: the run starts as the answer leaves, and this client, on the same 2 cores, reads it beside the
        // run's two forward threads.)
        var ingestDefault: [Double] = []
        do {
            let defaultDir = dir.appendingPathComponent("default-debounce")
            var c = configuration(dir: defaultDir, modelsDir: modelsDir, model: model)
            c.tickDebounceMilliseconds = DaemonConfiguration().tickDebounceMilliseconds
            let second = try ArgusDaemon(configuration: c)
            try second.start()
            defer { second.shutdown() }
            guard let secondPort = second.port else { throw BenchmarkError("second daemon: no port") }
            for start in stride(from: 0, to: backfill, by: 20) {
                try post(ticks[start..<min(start + 20, backfill)].flatMap(\.records), to: secondPort)
            }
            second.engine.drain()
            for step in backfill..<(backfill + (quick ? 30 : 100)) {
                let body = Array(try encoder.encode(Body(records: ticks[step].records)))
                let t0 = DispatchTime.now().uptimeNanoseconds
                let (status, _) = try LoopbackHTTPClient.send(port: secondPort, method: "POST", path: "/feed/data", headers: headers, body: body)
                let t1 = DispatchTime.now().uptimeNanoseconds
                guard status == 200 else { throw BenchmarkError("POST /feed/data: \(status)") }
                ingestDefault.append(Double(t1 - t0) / 1e6)
                second.engine.drain()
            }
        }
        // The same bodies straight into a feed store (no HTTP): validation alone, and the whole ingest.
        var validate: [Double] = [], direct: [Double] = []
        do {
            let directDir = dir.appendingPathComponent("direct")
            let store = try FeedStore.open(dataDirectory: directDir, configuration: configuration(dir: directDir, modelsDir: modelsDir,
                                                                                                   model: model).feedStoreConfiguration)
            defer { store.close() }
            for start in stride(from: 0, to: backfill, by: 20) {
                _ = try store.ingest(body: Data(try encoder.encode(Body(records: ticks[start..<min(start + 20, backfill)].flatMap(\.records)))))
            }
            for step in backfill..<(backfill + measured) {
                let body = Data(try encoder.encode(Body(records: ticks[step].records)))
                let t0 = DispatchTime.now().uptimeNanoseconds
                _ = try store.validator.validate(body: body)
                let t1 = DispatchTime.now().uptimeNanoseconds
                _ = try store.ingest(body: body)
                let t2 = DispatchTime.now().uptimeNanoseconds
                validate.append(Double(t1 - t0) / 1e6)
                direct.append(Double(t2 - t1) / 1e6)
            }
        }
        print("")
        print("POST /feed/data, 45 records (one step of the fleet), new connection per request")
        row("p50, default configuration (\(ingestDefault.count) batches)", p(ingestDefault, 0.5), "ms", target: "≤ 2 ms",
            ok: p(ingestDefault, 0.5) <= 2)
        row("p99, default configuration", p(ingestDefault, 0.99), "ms", target: "—", ok: nil)
        row("p50, debounce 0: the run starts as the answer is read", p(ingest, 0.5), "ms", target: "—", ok: nil)
        row("p99, debounce 0", p(ingest, 0.99), "ms", target: "—", ok: nil)
        row("FeedStore.ingest alone (validate, commit, fsync, windows), p50", p(direct, 0.5), "ms", target: "—", ok: nil)
        row("  of which validation (parse + check), p50", p(validate, 0.5), "ms", target: "—", ok: nil)
        row("peer: raw fsync of 4 KiB on this disk, p50", p(fsyncs, 0.5), "ms", target: "(the floor)", ok: nil)
        row("peer: GET /health, new connection, same client, p50", p(floor, 0.5), "ms", target: "(HTTP floor)", ok: nil)
        print("")
        print("Tick, 45 servers (\(tickEnd.count) ticks; debounce 0 — the default 200 ms coalescing delay is not counted)")
        row("POST sent → snapshot published, p50", p(tickEnd, 0.5), "ms", target: "≤ 25 ms", ok: p(tickEnd, 0.5) <= 25)
        row("POST sent → snapshot published, p99", p(tickEnd, 0.99), "ms", target: "—", ok: nil)
        row("of which the run (features+forward+risk+JSON), p50", p(run, 0.5), "ms", target: "—", ok: nil)
        stageRows(stages, observers: observers)

        // GET /predictions/current under wrk.
        if noWrk { return }
        print("")
        let seconds = quick ? 3 : 10
        let size = daemon.engine.latest?.fullBody.count ?? 0
        print("GET /predictions/current, 45-server snapshot (\(size / 1024) KiB), wrk -t2 -c64 -d\(seconds)s")
        if let full = try wrk("http://127.0.0.1:\(port)/predictions/current", seconds: seconds) {
            row("full (p50 forecasts)", full.rps, "req/s", target: "≥ 10,000 req/s", ok: full.rps >= 10_000)
            if let compact = try wrk("http://127.0.0.1:\(port)/predictions/current?compact=true", seconds: seconds) {
                row("?compact=true", compact.rps, "req/s", target: "—", ok: nil)
            }
            if let health = try wrk("http://127.0.0.1:\(port)/health", seconds: seconds) {
                row("peer: GET /health on the same server (no payload)", health.rps, "req/s", target: "(the ceiling)", ok: nil)
            }
        }
        row("RSS of this process (45 servers, 300+ steps)", Double(residentKilobytes()) / 1024, "MiB", target: "—", ok: nil)
    }

    static func fsyncTimes(dir: URL, count: Int) -> [Double] {
        let path = dir.appendingPathComponent("fsync-probe").path
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { return [] }
        defer { close(fd); unlink(path) }
        let block = [UInt8](repeating: 0x5A, count: 4_096)
        var times: [Double] = []
        for _ in 0..<count {
            _ = block.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            let t0 = DispatchTime.now().uptimeNanoseconds
            fsync(fd)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        return times
    }

    // MARK: - the large fleet's records (DaemonBenchmarkFleet.swift)

    static let prefixes = ["ppweb", "ppml", "ppdb", "ppetl", "pprisk", "ppgen", "ppcon"]

    /// A cheap deterministic record (valid ranges; daily waves plus per-server offsets): the tick's cost does
    /// not depend on the values, and the simulator would take minutes for 2.88 M records.
    static func synthetic(server i: Int, step s: Int, epoch: Int64) -> [Double] {
        let phase = Double(s % 288) / 288 * 2 * .pi + Double(i % 17)
        let user = 20 + 10 * sin(phase) + Double(i % 7), sys = 5 + Double(i % 3), iowait = 2 + abs(sin(phase * 3)) * 3
        let idle = 100 - user - sys - iowait
        var v = [Double](repeating: 0, count: MetricField.count)
        v[MetricField.cpuUserPct.index] = user
        v[MetricField.cpuSysPct.index] = sys
        v[MetricField.cpuIowaitPct.index] = iowait
        v[MetricField.cpuIdlePct.index] = idle
        v[MetricField.javaCpuPct.index] = user * 0.6
        v[MetricField.memUsedPct.index] = 55 + 10 * sin(phase / 2) + Double(i % 11)
        v[MetricField.swapUsedPct.index] = 2 + Double(i % 4)
        v[MetricField.diskUsagePct.index] = 40 + Double(i % 30) + Double(s) * 0.002
        v[MetricField.netInMbS.index] = 20 + 5 * sin(phase)
        v[MetricField.netOutMbS.index] = 15 + 4 * cos(phase)
        v[MetricField.backCloseWait.index] = Double(3 + i % 5)
        v[MetricField.frontCloseWait.index] = Double(2 + i % 4)
        v[MetricField.loadAverage.index] = 2 + 1.5 * sin(phase) + Double(i % 3)
        v[MetricField.uptimeDays.index] = Double(30 + i % 200)
        return v
    }

    static func name(_ i: Int) -> String { prefixes[i % prefixes.count] + String(format: "%04d", i) }

    // MARK: - helpers

    static func stageRows(_ stages: [RunTimings], observers: [Double]) {
        row("  windows copied out of the feed store, p50", p(stages.map(\.feed), 0.5), "ms", target: "—", ok: nil)
        row("  feature building + forecasts, p50", p(stages.map(\.features), 0.5), "ms", target: "—", ok: nil)
        row("  the TFT forward, p50", p(stages.map(\.forward), 0.5), "ms", target: "—", ok: nil)
        row("  band calibration, p50", p(stages.map(\.calibration), 0.5), "ms", target: "—", ok: nil)
        row("  risk, alerts, summary, p50", p(stages.map(\.risk), 0.5), "ms", target: "—", ok: nil)
        row("  snapshot JSON encoding, p50", p(stages.map(\.encode), 0.5), "ms", target: "—", ok: nil)
        row("after publishing: history recording (SQLite), p50", p(observers, 0.5), "ms", target: "—", ok: nil)
    }

    static func p(_ values: [Double], _ q: Double) -> Double { AlertScorer.percentile(values, q) ?? .nan }

    static func row(_ label: String, _ value: Double, _ unit: String, target: String, ok: Bool?) {
        let number = value >= 1_000 ? String(format: "%.0f", value) : value >= 10 ? String(format: "%.1f", value) : String(format: "%.2f", value)
        let mark = ok.map { $0 ? "  ✓" : "  ✗" } ?? ""
        let left = "  \(label)".padding(toLength: 62, withPad: " ", startingAt: 0)
        print("\(left) \((number + " " + unit).padding(toLength: 16, withPad: " ", startingAt: 0)) target \(target)\(mark)")
    }

    struct WrkResult { var rps: Double; var p99: String }

    /// `wrk -t2 -c64 -dNs --latency -H "X-API-Key: …" [-H header …] URL`; nil (with install advice) when wrk is missing.
    static func wrk(_ url: String, seconds: Int, headers: [String] = []) throws -> WrkResult? {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/wrk") || FileManager.default.isExecutableFile(atPath: "/usr/local/bin/wrk") else {
            print("  wrk is not installed: sudo apt-get install -y wrk (or build it from github.com/wg/wrk)")
            return nil
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["wrk", "-t2", "-c64", "-d\(seconds)s", "--latency", "-H", "X-API-Key: \(key)"]
            + headers.flatMap { ["-H", $0] } + [url]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        var result = WrkResult(rps: 0, p99: "?")
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.first == "Requests/sec:", fields.count > 1 { result.rps = Double(fields[1]) ?? 0 }
            if fields.first == "99%", fields.count > 1 { result.p99 = String(fields[1]) }
            if line.contains("Socket errors") || line.contains("Non-2xx") { print("  wrk: \(line.trimmingCharacters(in: .whitespaces))") }
        }
        return result
    }

    static func peakResidentKilobytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }
        return 0
    }

    static func residentKilobytes() -> Int { HTTPBenchmark.residentKilobytes() }
    static func loadAverage() -> String { HTTPBenchmark.loadAverage() }
}
