import Daemon
import Foundation
import Glibc

/// The large-fleet part of `Benchmarks daemon` (`--servers N`, default 1,000), run in a child process so its
/// RSS is that fleet's alone: N servers with full 2,880-step windows filled through the feed store, then a
/// daemon on that data directory — its start (restore + first run), ticks of N records over HTTP, the
/// payload sizes, `GET /predictions/current?compact=true` under wrk, RSS, and a restart on the same data
/// directory timed until `/predictions/current` answers with all N servers.
extension DaemonBenchmark {
    /// Targets of the large part: issue 6's for 1,000 servers, issue 15's for 10,000, none otherwise.
    struct FleetTargets {
        var tickSeconds: Double?
        var rssGiB: Double?
        var compactRequestsPerSecond: Double?
        var restartSeconds: Double?

        init(servers: Int) {
            switch servers {
            case 1_000: tickSeconds = 1; rssGiB = 1
            case 10_000: tickSeconds = 5; rssGiB = 6; compactRequestsPerSecond = 2_000; restartSeconds = 60
            default: break
            }
        }

        static func text(_ bound: Double?, _ unit: String, atLeast: Bool = false) -> String {
            guard let bound else { return "—" }
            let number = bound >= 1_000 ? String(format: "%.0fk", bound / 1_000) : String(format: "%g", bound)
            return (atLeast ? "≥ " : "≤ ") + number + " " + unit
        }
    }

    static func grouped(_ n: Int) -> String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.groupingSeparator = ","
        formatter.usesGroupingSeparator = true
        return formatter.string(from: NSNumber(value: n)) ?? String(n)
    }

    /// `reuse`: a directory that keeps a copy of the filled database between runs (the fill of N × 2,880
    /// records takes minutes); it is filled on the first run and copied into the temporary directory afterwards.
    static func large(servers: Int, quick: Bool, modelsDir: URL, model: URL?, reuse: URL? = nil) throws {
        let window = 2_880
        let steps = quick ? 400 : window
        let start: Int64 = 1_735_689_600
        let targets = FleetTargets(servers: servers)
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = configuration(dir: dir, modelsDir: modelsDir, model: model)
        let n = grouped(servers)
        print("")
        print("\(n) servers, \(steps)-step windows\(quick ? " (--quick; the target is about full 2,880-step windows)" : "") — child process, "
            + "load average \(loadAverage())")

        let fill = try fillDatabase(servers: servers, steps: steps, start: start, dir: dir, config: config, reuse: reuse)
        row(fill.label, fill.seconds, "s", target: "—", ok: nil)
        let t1 = DispatchTime.now().uptimeNanoseconds
        var daemon: ArgusDaemon? = try ArgusDaemon(configuration: config)
        let restored = seconds(since: t1)
        try daemon!.start()
        daemon!.engine.drain()
        row("daemon start: restore from SQLite + first run", seconds(since: t1), "s", target: "—", ok: nil)
        row("  of which opening the stores (windows restored from SQLite)", restored, "s", target: "—", ok: nil)
        guard daemon!.models.current != nil, let port = daemon!.port else { print("  no model: no tick figures"); return }
        let publish = PublishTimes()
        publish.observe(daemon!.engine)

        // Ticks over HTTP: one step of N records per tick (in POSTs of at most the feed's 10,000 records).
        var tickEnd: [Double] = [], run: [Double] = [], stages: [RunTimings] = [], observers: [Double] = [], cpu: [Double] = []
        for s in steps..<(steps + (quick ? 3 : 5)) {
            let epoch = start + Int64(s) * 300
            let bodies = stride(from: 0, to: servers, by: 10_000).map { tickBody(servers: $0..<min($0 + 10_000, servers), step: s, epoch: epoch) }
            let t0 = DispatchTime.now().uptimeNanoseconds, cpu0 = processCPUSeconds()
            for body in bodies {
                let (status, reply) = try LoopbackHTTPClient.send(port: port, method: "POST", path: "/feed/data",
                                                                  headers: ["Content-Type": "application/json", "X-API-Key": key],
                                                                  body: body)
                guard status == 200 else { throw BenchmarkError("POST /feed/data: \(status) \(String(decoding: reply.prefix(200), as: UTF8.self))") }
            }
            daemon!.engine.drain()
            cpu.append(processCPUSeconds() - cpu0)
            if let published = publish.time(epoch) { tickEnd.append(Double(published - t0) / 1e6) }
            if let snap = daemon!.engine.latest, snap.dataEpoch == epoch {
                run.append(snap.inferenceMilliseconds)
                stages.append(snap.timings)
                observers.append(daemon!.engine.lastObserversMilliseconds)
            }
        }
        let tracked = daemon!.store.status().serversTracked
        let predicted = daemon!.engine.latest?.servers.count ?? 0
        let window0 = daemon!.store.window(server: name(0))?.count ?? 0
        print("  servers tracked \(tracked), predicted \(predicted), steps in a window \(window0); load average \(loadAverage())")
        let tick = p(tickEnd, 0.5) / 1_000
        row("tick: POST of \(n) records sent → snapshot published, p50", tick, "s",
            target: FleetTargets.text(targets.tickSeconds, "s"), ok: targets.tickSeconds.map { tick <= $0 })
        row("of which the run (features+forward+risk+JSON), p50", p(run, 0.5) / 1_000, "s", target: "—", ok: nil)
        stageRows(stages, observers: observers)
        // Wall time on a shared machine depends on the other tenants; CPU time does not. Half of it is what
        // the tick would take on these 2 cores alone if every stage used both.
        row("CPU time of a tick (this process, user+sys: POST, run, history), p50", p(cpu, 0.5), "s", target: "—", ok: nil)
        // What a dashboard downloads for the whole fleet, per shape.
        for (label, query) in [("full (p50 forecasts)", ""), ("?compact=true", "?compact=true"), ("?bands=true (p10/p90 too)", "?bands=true")] {
            let (status, body) = try LoopbackHTTPClient.send(port: port, method: "GET", path: "/predictions/current" + query,
                                                             headers: ["X-API-Key": key], body: [])
            guard status == 200 else { throw BenchmarkError("GET /predictions/current\(query): \(status)") }
            row("GET /predictions/current payload, \(label)", Double(body.count) / 1_048_576, "MiB", target: "—", ok: nil)
        }
        let rss = Double(residentKilobytes()) / 1024 / 1024, peak = Double(peakResidentKilobytes()) / 1024 / 1024
        row("RSS after the ticks", rss, "GiB", target: FleetTargets.text(targets.rssGiB, "GiB"), ok: targets.rssGiB.map { rss <= $0 })
        row("peak RSS (VmHWM, includes the fill)", peak, "GiB", target: "—", ok: nil)

        // The compact snapshot under wrk (the issue-6 shape of the 45-server figure, on the N-server snapshot).
        let wrkSeconds = quick ? 3 : 10
        print("  GET /predictions/current?compact=true, \(n)-server snapshot, wrk -t2 -c64 -d\(wrkSeconds)s, load average \(loadAverage())")
        if let compact = try wrk("http://127.0.0.1:\(port)/predictions/current?compact=true", seconds: wrkSeconds) {
            row("?compact=true, plain GETs (p99 \(compact.p99))", compact.rps, "req/s", target: FleetTargets.text(targets.compactRequestsPerSecond, "req/s", atLeast: true),
                ok: targets.compactRequestsPerSecond.map { compact.rps >= $0 })
        }
        // A dashboard polling between ticks: it sends back the ETag it holds and gets a bodiless 304.
        let tagged = try LoopbackHTTPClient.exchange(port: port, method: "GET", path: "/predictions/current?compact=true",
                                                     headers: ["X-API-Key": key])
        guard let etag = tagged.headers.first(where: { $0.name.lowercased() == "etag" })?.value else {
            throw BenchmarkError("GET /predictions/current?compact=true: no ETag")
        }
        let check = try LoopbackHTTPClient.exchange(port: port, method: "GET", path: "/predictions/current?compact=true",
                                                    headers: ["X-API-Key": key, "If-None-Match": etag])
        guard check.status == 304, check.body.isEmpty else { throw BenchmarkError("If-None-Match \(etag): \(check.status), not 304") }
        if let conditional = try wrk("http://127.0.0.1:\(port)/predictions/current?compact=true", seconds: wrkSeconds,
                                     headers: ["If-None-Match: \(etag)"]) {
            row("?compact=true with If-None-Match → 304 (p99 \(conditional.p99))", conditional.rps, "req/s",
                target: FleetTargets.text(targets.compactRequestsPerSecond, "req/s", atLeast: true),
                ok: targets.compactRequestsPerSecond.map { conditional.rps >= $0 })
        }

        // Restart: stop this daemon, start a new one on the same data directory, and time until
        // `/predictions/current` answers with every server.
        daemon!.shutdown()
        daemon = nil
        let restart = try timeRestart(servers: servers, config: config)
        row("restart: new daemon on the same data → /predictions/current with \(n) servers", restart.total, "s",
            target: FleetTargets.text(targets.restartSeconds, "s"), ok: targets.restartSeconds.map { restart.total <= $0 })
        row("  of which opening the stores (windows restored from SQLite)", restart.open, "s", target: "—", ok: nil)
        print("  (load average \(loadAverage()))")
    }

    static func seconds(since t: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9 }

    /// User + system CPU seconds of this process so far (every thread).
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Fills `dir` with `servers × steps` records through `FeedStore.ingest` (validated batches of 10 steps,
    /// one SQLite transaction each), or copies a database filled by an earlier run from `reuse`.
    static func fillDatabase(servers: Int, steps: Int, start: Int64, dir: URL, config: DaemonConfiguration,
                             reuse: URL?) throws -> (label: String, seconds: Double)
    {
        let t0 = DispatchTime.now().uptimeNanoseconds
        let fm = FileManager.default
        let marker = reuse?.appendingPathComponent("filled-\(servers)x\(steps)")
        if let reuse, let marker, fm.fileExists(atPath: marker.path) {
            for file in try fm.contentsOfDirectory(atPath: reuse.path) where file.hasPrefix("argus.sqlite") {
                try fm.copyItem(at: reuse.appendingPathComponent(file), to: dir.appendingPathComponent(file))
            }
            return ("fill: database copied (--reuse-data \(reuse.path))", seconds(since: t0))
        }
        let store = try FeedStore.open(dataDirectory: dir, configuration: config.feedStoreConfiguration)
        let stepsPerBatch = max(1, min(10, 10_000 / servers))
        var reported = 0
        for first in stride(from: 0, to: steps, by: stepsPerBatch) {
            var records: [FeedRecord] = []
            records.reserveCapacity(servers * stepsPerBatch)
            for s in first..<min(first + stepsPerBatch, steps) {
                let epoch = start + Int64(s) * 300
                for i in 0..<servers {
                    records.append(FeedRecord(serverName: name(i), timestamp: Double(epoch), status: .healthy,
                                              values: synthetic(server: i, step: s, epoch: epoch)))
                }
            }
            _ = try store.ingest(FeedBatch(records: records))
            let percent = 100 * (first + stepsPerBatch) / steps
            if percent / 10 > reported {
                reported = percent / 10
                FileHandle.standardError.write(Data("  fill \(min(percent, 100)) % after \(String(format: "%.0f", seconds(since: t0))) s\n".utf8))
            }
        }
        store.close()
        if let reuse, let marker {
            try? fm.removeItem(at: reuse)
            try fm.createDirectory(at: reuse, withIntermediateDirectories: true)
            for file in try fm.contentsOfDirectory(atPath: dir.path) where file.hasPrefix("argus.sqlite") {
                try fm.copyItem(at: dir.appendingPathComponent(file), to: reuse.appendingPathComponent(file))
            }
            _ = fm.createFile(atPath: marker.path, contents: Data())
        }
        return ("fill: \(grouped(servers * steps)) records via FeedStore.ingest", seconds(since: t0))
    }

    /// One step of `servers` as a `POST /feed/data` body.
    static func tickBody(servers: Range<Int>, step s: Int, epoch: Int64) -> [UInt8] {
        var json = "{\"records\":["
        json.reserveCapacity(servers.count * 520)
        let timestamp = ISO8601Timestamp.format(epoch)
        for i in servers {
            let v = synthetic(server: i, step: s, epoch: epoch)
            if i > servers.lowerBound { json += "," }
            json += "{\"timestamp\":\"\(timestamp)\",\"server_name\":\"\(name(i))\",\"status\":\"healthy\""
            for f in MetricField.allCases {
                let x = v[f.index]
                json += ",\"\(f.rawValue)\":" + (f == .backCloseWait || f == .frontCloseWait || f == .uptimeDays
                                                 ? String(Int(x)) : String(format: "%.2f", x))
            }
            json += "}"
        }
        json += "]}"
        return Array(json.utf8)
    }

    /// A new daemon on `config`'s data directory: seconds until `GET /predictions/current?compact=true`
    /// answers 200 with `servers` servers (polled over HTTP), and the part spent opening the stores.
    static func timeRestart(servers: Int, config: DaemonConfiguration) throws -> (total: Double, open: Double) {
        let t0 = DispatchTime.now().uptimeNanoseconds
        let daemon = try ArgusDaemon(configuration: config)
        let open = seconds(since: t0)
        try daemon.start()
        defer { daemon.shutdown() }
        guard let port = daemon.port else { throw BenchmarkError("restarted daemon: no port") }
        while true {
            let (status, body) = try LoopbackHTTPClient.send(port: port, method: "GET", path: "/predictions/current?compact=true",
                                                             headers: ["X-API-Key": key], body: [])
            if status == 200, let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
               let predictions = object["predictions"] as? [String: Any], predictions.count == servers {
                return (seconds(since: t0), open)
            }
            if seconds(since: t0) > 600 { throw BenchmarkError("restarted daemon: no \(servers)-server snapshot after 600 s (last status \(status))") }
            usleep(50_000)
        }
    }
}
