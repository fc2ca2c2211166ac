import Daemon
import Foundation
import Glibc
import Synchronization
import Training

/// `Benchmarks soak [--servers 1000] [--days 7] [--retention-days 2] [--window 576] [--prune-interval 30]
/// [--epochs 1] [--batches 40] [--churn 10] [--print-every 6] [--max-minutes M] [--csv FILE] [--models-dir DIR]`: issue 15's soak. A real
/// daemon (in this process, ephemeral loopback port, temporary data directory, a copy of the shipped models)
/// is fed a simulated fleet one 5-minute step per `POST /feed/data`, each tick awaited, as fast as it takes
/// them: the daemon's clock is the feed's, so simulated days pass in minutes. Every simulated hour: GETs of
/// `/predictions/current` (full and compact) and `/historical/*`; every 6 hours: `/explain/{server}`; every
/// simulated day: `POST /admin/reload-model`, one real training (`/admin/trigger-training`, awaited), and
/// `--churn` servers replaced (the old name stops reporting, `<name>-r<day>` starts: a fleet that changes).
/// Sampled every hour: RSS, tick time, database files and row counts. Verdict: RSS and tick slopes over the
/// last 5 days, database size against the retention bound (docs/retention.md, docs/soak.md).
enum SoakBenchmark {
    struct Options {
        var servers = 1_000, days = 7.0, retentionDays = 2, window = 576, pruneInterval = 30
        var epochs = 1, batches = 40, printEvery = 6, churn = 10, seed: UInt64 = 15
        /// Wall-clock budget: the run stops at the first simulated hour past it (a shared machine's deadline).
        var maxMinutes: Double?
        var csv: String?, modelsDir = "./models"

        init(_ args: [String]) throws {
            func value(_ name: String) -> String? {
                guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
                return args[i + 1]
            }
            func int(_ name: String, _ current: Int) throws -> Int {
                guard let text = value(name) else { return current }
                guard let v = Int(text), v > 0 else { throw BenchmarkError("\(name) needs a positive integer, got \(text)") }
                return v
            }
            servers = try int("--servers", servers)
            if let text = value("--days") {
                guard let d = Double(text), d > 0 else { throw BenchmarkError("--days needs a positive number, got \(text)") }
                days = d
            }
            retentionDays = try int("--retention-days", retentionDays)
            window = try int("--window", window)
            pruneInterval = try int("--prune-interval", pruneInterval)
            epochs = try int("--epochs", epochs)
            batches = try int("--batches", batches)
            printEvery = try int("--print-every", printEvery)
            churn = value("--churn").flatMap { Int($0) }.map { max(0, $0) } ?? churn
            seed = UInt64(try int("--seed", Int(seed)))
            csv = value("--csv")
            maxMinutes = value("--max-minutes").flatMap(Double.init)
            modelsDir = value("--models-dir") ?? modelsDir
        }
    }

    static let stepsPerHour = 12, stepsPerDay = 288

    /// One hourly sample.
    struct Sample {
        var hour: Int, wall: Double, rssMiB: Double, tickP50: Double, runP50: Double, historyP50: Double
        var mainMiB: Double, walMiB: Double, calibrationMiB: Double, modulesMiB: Double, freeMiB: Double
        var metricsRows: Int, riskRows: Int, eventRows: Int, environmentRows: Int
        var day: Double { Double(hour) / 24 }
    }

    static func run(_ args: [String]) throws {
        let o = try Options(args)
        let dir = try DaemonBenchmark.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Trainings write model folders: they go to a copy, never into the repository's models/.
        let models = dir.appendingPathComponent("models")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        for folder in try FileManager.default.contentsOfDirectory(atPath: o.modelsDir) where folder.hasPrefix("tft_model_") {
            try FileManager.default.copyItem(at: URL(fileURLWithPath: o.modelsDir).appendingPathComponent(folder),
                                             to: models.appendingPathComponent(folder))
        }
        let data = dir.appendingPathComponent("data")
        var c = DaemonBenchmark.configuration(dir: data, modelsDir: models, model: nil)
        c.rollingWindowSize = o.window
        c.metricsRetentionSeconds = Int64(o.retentionDays) * 86_400
        c.historyRetentionSeconds = Int64(o.retentionDays) * 86_400
        c.riskSampleRetentionSeconds = Int64(o.retentionDays) * 86_400
        c.retentionIntervalSeconds = Double(o.pruneInterval)
        var training = TrainingService.Settings()
        training.maxBatchesPerEpoch = o.batches
        let daemon = try ArgusDaemon(configuration: c, trainingSettings: training)
        try daemon.start()
        defer { daemon.shutdown() }
        guard let served = daemon.models.current, let port = daemon.port else {
            throw BenchmarkError("no model in \(o.modelsDir): the soak needs one")
        }
        let publish = DaemonBenchmark.PublishTimes()
        publish.observe(daemon.engine)
        let feed = c.feedStoreConfiguration, history = c.historyConfiguration
        print("""
        Benchmarks soak — \(o.servers) servers, \(o.days) simulated days at 300 s steps, \(ProcessInfo.processInfo.activeProcessorCount) cores, \
        load average \(DaemonBenchmark.loadAverage()), \(ISO8601Timestamp.format(Int64(Date().timeIntervalSince1970)))
        model \(served.name); window \(o.window) steps; retention: metrics \(feed.effectiveRetentionSeconds / 3_600) h (asked \(o.retentionDays) d, \
        never below window + fill), risk samples \(max(history.riskSampleRetentionSeconds, 86_400) / 3_600) h, events \(history.retentionSeconds / 3_600) h; \
        pruned every \(o.pruneInterval) s wall-clock; training \(o.epochs) epoch(s) × ≤ \(o.batches) batches per simulated day
        """)

        var sim = try FleetSimulator(config: FleetSimulatorConfig(servers: o.servers, days: o.days, stepSeconds: 300, seed: o.seed))
        var names = sim.servers.map(\.name)
        let original = names
        let index = Dictionary(uniqueKeysWithValues: original.enumerated().map { ($1, $0) })
        let client = SoakClient(port: port)
        let started = Date()
        var samples: [Sample] = [], reads = ReadTimes()
        var ticks: [Double] = [], runs: [Double] = [], observers: [Double] = []
        var step = 0
        printHeader()
        while let tick = sim.next() {
            let records = tick.records.map { r in
                var r = r
                r.serverName = index[r.serverName].map { names[$0] } ?? r.serverName
                return r
            }
            let t0 = DispatchTime.now().uptimeNanoseconds
            try client.postFeed(records)
            daemon.engine.drain()
            if let published = publish.take(tick.epochSeconds) { ticks.append(Double(published - t0) / 1e6) }
            if let s = daemon.engine.latest, s.dataEpoch == tick.epochSeconds {
                runs.append(s.inferenceMilliseconds)
                observers.append(daemon.engine.lastObserversMilliseconds)
            }
            step += 1
            if step % stepsPerHour == 0 {
                let hour = step / stepsPerHour
                try client.hourlyReads(server: names[hour % names.count], explain: hour % 6 == 0, into: &reads)
                let sample = try measure(hour: hour, wall: Date().timeIntervalSince(started), daemon: daemon, data: data,
                                         ticks: ticks, runs: runs, observers: observers)
                samples.append(sample)
                ticks.removeAll(keepingCapacity: true); runs.removeAll(keepingCapacity: true); observers.removeAll(keepingCapacity: true)
                if hour % o.printEvery == 0 { printRow(sample); fflush(nil) }   // a long run is watched through a pipe
                if let budget = o.maxMinutes, sample.wall > budget * 60 {
                    print(String(format: "  stopped by --max-minutes %.0f after %.2f simulated days", budget, sample.day))
                    if hour % o.printEvery != 0 { printRow(sample) }
                    break
                }
            }
            if step % stepsPerDay == 0 {
                let reload = try client.reload()
                let trained = try client.train(epochs: o.epochs)
                print("  day \(step / stepsPerDay): reload \(reload); training \(trained)")
                fflush(nil)
                let day = step / stepsPerDay
                for k in 0..<min(o.churn, names.count) {
                    let i = ((day - 1) * o.churn + k) % names.count
                    names[i] = "\(original[i])-r\(day)"
                }
            }
        }
        try writeCSV(samples, to: o.csv)
        print("")
        reads.report()
        verdict(samples, options: o, feed: feed, history: history, servers: o.servers,
                wall: Date().timeIntervalSince(started), models: models, keepModels: c.modelFolderRetention.keepNewest)
        // Per-server state kept for names that left the fleet (churn) is the memory leak a soak finds.
        let everSeen = Set(original).union(names).count
        let calibrated = daemon.calibration?.summary().map(\.servers).max() ?? 0
        print("  servers: \(o.servers) in the fleet, \(everSeen) names ever seen; feed windows \(daemon.store.status().serversTracked), "
            + "last snapshot \(daemon.engine.latest?.servers.count ?? 0), band calibration states \(calibrated)")
    }

    // MARK: - Sampling

    static func measure(hour: Int, wall: Double, daemon: ArgusDaemon, data: URL,
                        ticks: [Double], runs: [Double], observers: [Double]) throws -> Sample {
        let rss = Double(ProcessStats.read().residentBytes ?? 0) / 1_048_576
        let counts = try daemon.store.database.read { c -> [Int] in
            try ["metrics", "history_risk_samples", "history_alert_events", "history_environment"].map {
                Int(try c.scalar("SELECT count(*) FROM \($0)")?.int64 ?? 0)
            } + [Int(try c.pragma("freelist_count")?.int64 ?? 0) * Int(try c.pragma("page_size")?.int64 ?? 4_096)]
        }
        func mib(_ name: String) -> Double { Double(fileSize(data.appendingPathComponent(name).path)) / 1_048_576 }
        let main = "argus.sqlite", calibration = BandCalibrationStore.fileName
        let modules = Double(sqliteBytes(under: data, excluding: [main, main + "-wal", main + "-shm", calibration,
                                                                  calibration + "-wal", calibration + "-shm"])) / 1_048_576
        return Sample(hour: hour, wall: wall, rssMiB: rss, tickP50: DaemonBenchmark.p(ticks, 0.5), runP50: DaemonBenchmark.p(runs, 0.5),
                      historyP50: DaemonBenchmark.p(observers, 0.5), mainMiB: mib(main), walMiB: mib(main + "-wal"),
                      calibrationMiB: mib(calibration) + mib(calibration + "-wal"), modulesMiB: modules,
                      freeMiB: Double(counts[4]) / 1_048_576, metricsRows: counts[0], riskRows: counts[1], eventRows: counts[2],
                      environmentRows: counts[3])
    }

    static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }

    /// Every SQLite file (and its WAL) below `root` except the named ones: the modules' and auth databases.
    static func sqliteBytes(under root: URL, excluding: Set<String>) -> Int {
        guard let walker = FileManager.default.enumerator(atPath: root.path) else { return 0 }
        var total = 0
        while let path = walker.nextObject() as? String {
            let name = (path as NSString).lastPathComponent
            guard !excluding.contains(path), name.contains(".sqlite") || name.hasSuffix(".db") || name.hasSuffix(".db-wal") else { continue }
            total += fileSize(root.appendingPathComponent(path).path)
        }
        return total
    }

    // MARK: - Output

    static func printHeader() {
        print("")
        print("  hour   day  wall s  RSS MiB  tick p50 ms (run, history)  argus.sqlite MiB (wal, free)  calib  modules  metrics rows  risk rows  events  env")
    }

    static func printRow(_ s: Sample) {
        print(String(format: "  %4d  %4.1f  %6.0f  %7.1f  %6.0f (%4.0f, %4.0f)            %7.1f (%5.1f, %6.1f)          %5.2f  %7.2f  %12d  %9d  %6d  %5d",
                     s.hour, s.day, s.wall, s.rssMiB, s.tickP50, s.runP50, s.historyP50, s.mainMiB, s.walMiB, s.freeMiB,
                     s.calibrationMiB, s.modulesMiB, s.metricsRows, s.riskRows, s.eventRows, s.environmentRows))
    }

    static func writeCSV(_ samples: [Sample], to path: String?) throws {
        guard let path else { return }
        var text = "hour,day,wall_s,rss_mib,tick_p50_ms,run_p50_ms,history_p50_ms,main_mib,wal_mib,free_mib,calibration_mib,modules_mib,metrics_rows,risk_rows,event_rows,environment_rows\n"
        for s in samples {
            text += String(format: "%d,%.3f,%.1f,%.1f,%.1f,%.1f,%.1f,%.2f,%.2f,%.2f,%.3f,%.3f,%d,%d,%d,%d\n", s.hour, s.day, s.wall, s.rssMiB,
                           s.tickP50, s.runP50, s.historyP50, s.mainMiB, s.walMiB, s.freeMiB, s.calibrationMiB, s.modulesMiB,
                           s.metricsRows, s.riskRows, s.eventRows, s.environmentRows)
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        print("  (every hourly sample: \(path))")
    }

    /// Least-squares slope of `y` over `x`.
    static func slope(_ x: [Double], _ y: [Double]) -> Double {
        let n = Double(x.count)
        guard n >= 2 else { return .nan }
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        let sxy = zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }, sxx = x.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
        return sxx > 0 ? sxy / sxx : .nan
    }

    static func verdict(_ samples: [Sample], options o: Options, feed: FeedStoreConfiguration, history: HistoryConfiguration,
                        servers: Int, wall: Double, models: URL, keepModels: Int?) {
        guard let last = samples.last else { print("  no samples (run shorter than an hour)"); return }
        let tail = samples.filter { $0.day > last.day - 5 && $0.day >= 1 }
        let rssSlope = slope(tail.map(\.day), tail.map(\.rssMiB))
        let tickSlope = slope(tail.map(\.day), tail.map(\.tickP50))
        let tickMean = tail.map(\.tickP50).reduce(0, +) / Double(max(tail.count, 1))
        // After the retention span has passed (plus a day for the prune schedule), size should stay level.
        let retained = Double(feed.effectiveRetentionSeconds) / 86_400
        let level = samples.filter { $0.day >= retained + 1 }
        let fileSlope = slope(level.map(\.day), level.map { $0.mainMiB + $0.walMiB })
        // Between two pruning passes (`--prune-interval` wall-clock seconds) the fast fleet clock lets in as
        // many steps as the daemon takes in that time: that is the slack above the retained steps.
        let secondsPerStep = tail.count >= 2 ? (tail.last!.wall - tail.first!.wall) / Double((tail.last!.hour - tail.first!.hour) * stepsPerHour) : 1
        let slack = Int((Double(o.pruneInterval) / max(secondsPerStep, 0.01) * 1.5).rounded(.up)) + 1
        let stepsKept = Int(feed.effectiveRetentionSeconds / feed.stepSeconds) + slack
        let metricsBound = servers * stepsKept
        let riskBound = servers * (Int(max(history.riskSampleRetentionSeconds, 86_400) / feed.stepSeconds) + slack)
        let maxMetrics = samples.map(\.metricsRows).max() ?? 0, maxRisk = samples.map(\.riskRows).max() ?? 0
        let modelFolders = (try? FileManager.default.contentsOfDirectory(atPath: models.path))?.filter { $0.hasPrefix("tft_model_") }.count ?? 0
        print("")
        print("Verdict (\(String(format: "%.0f", wall)) s wall-clock for \(String(format: "%.1f", last.day)) simulated days, load average \(DaemonBenchmark.loadAverage()))")
        print(String(format: "  RSS slope over the last %.1f days: %+.1f MiB/day (RSS %.0f → %.0f MiB; peak %.0f MiB)", tail.last!.day - tail.first!.day,
                     rssSlope, tail.first!.rssMiB, last.rssMiB, Double(ProcessStats.read().peakResidentBytes ?? 0) / 1_048_576))
        print(String(format: "  tick p50 slope over the same days: %+.1f ms/day (mean of hourly p50s %.0f ms)", tickSlope, tickMean))
        print("  metrics rows: max \(maxMetrics), bound \(metricsBound) (servers × (retained steps + \(slack) steps fed between two passes, ×1.5)) — \(maxMetrics <= metricsBound ? "within" : "OVER")")
        print("  risk samples: max \(maxRisk), bound \(riskBound) — \(maxRisk <= riskBound ? "within" : "OVER")")
        if level.count >= 2 {
            print(String(format: "  argus.sqlite + WAL after day %.1f: %.1f → %.1f MiB, slope %+.1f MiB/day", retained + 1,
                         level.first!.mainMiB + level.first!.walMiB, last.mainMiB + last.walMiB, fileSlope))
        } else {
            print("  (the run ends before retention + 1 day: no plateau to judge)")
        }
        print("  model folders in the models directory: \(modelFolders) (the \(keepModels.map(String.init) ?? "all") newest kept after each training, plus the served and start-up ones: --keep-models)")
    }
}

/// Hourly read latencies per route.
struct ReadTimes {
    var times: [String: [Double]] = [:]
    mutating func add(_ route: String, _ ms: Double) { times[route, default: []].append(ms) }
    func report() {
        print("Reads during the soak (new connection each, ms)")
        for (route, values) in times.sorted(by: { $0.key < $1.key }) {
            DaemonBenchmark.row("\(route) (\(values.count)) p50 / max", DaemonBenchmark.p(values, 0.5), "ms",
                                target: String(format: "max %.0f ms", values.max() ?? 0), ok: nil)
        }
    }
}

/// The soak's HTTP side: feed, reads, reload and training over real loopback connections.
struct SoakClient {
    let port: Int
    let headers = ["Content-Type": "application/json", "X-API-Key": DaemonBenchmark.key]
    let encoder = JSONEncoder()
    struct Body: Encodable { var records: [FleetRecord] }

    func send(_ method: String, _ path: String, body: [UInt8] = []) throws -> (Int, [UInt8]) {
        try LoopbackHTTPClient.send(port: port, method: method, path: path, headers: headers, body: body)
    }

    func postFeed(_ records: [FleetRecord]) throws {
        let (status, reply) = try send("POST", "/feed/data", body: Array(try encoder.encode(Body(records: records))))
        guard status == 200 else { throw BenchmarkError("POST /feed/data: \(status) \(String(decoding: reply.prefix(200), as: UTF8.self))") }
    }

    /// GETs a dashboard makes; every answer must be 200, except 404/503 for a server not forecast yet (still
    /// warming up: a new name from the churn), counted apart.
    func hourlyReads(server: String, explain: Bool, into reads: inout ReadTimes) throws {
        var paths = [("predictions/current", "/predictions/current"), ("predictions/current?compact", "/predictions/current?compact=true"),
                     ("historical/summary", "/historical/summary?time_range=1d"),
                     ("historical/server", "/historical/server/\(server)?time_range=1d")]
        if explain {
            paths += [("explain", "/explain/\(server)"), ("historical/alerts", "/historical/alerts?time_range=1d"),
                      ("historical/environment", "/historical/environment?time_range=8h")]
        }
        for (label, path) in paths {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let (status, body) = try send("GET", path)
            if (status == 404 || status == 503) && path.contains(server) { reads.add(label + " (\(status): not warm yet)", Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6); continue }
            guard status == 200 else { throw BenchmarkError("GET \(path): \(status) \(String(decoding: body.prefix(200), as: UTF8.self))") }
            reads.add(label, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
    }

    func reload() throws -> String {
        let t0 = Date()
        let (status, body) = try send("POST", "/admin/reload-model")
        let model = (json(body)["model"] as? String) ?? "?"
        return status == 200 ? String(format: "%@ in %.2f s", model, Date().timeIntervalSince(t0)) : "HTTP \(status)"
    }

    /// Starts a training and waits for it to end (ingest pauses meanwhile, as on a quiet fleet clock).
    func train(epochs: Int) throws -> String {
        let t0 = Date()
        let (status, body) = try send("POST", "/admin/trigger-training?epochs=\(epochs)&incremental=true")
        guard status == 200 || status == 202 else {
            return "not started: HTTP \(status) \(String(decoding: body.prefix(160), as: UTF8.self))"
        }
        while true {
            Thread.sleep(forTimeInterval: 1)
            let (_, reply) = try send("GET", "/admin/training-status")
            let state = json(reply)
            if state["training_active"] as? Bool == true { continue }
            let outcome = state["status"] as? String ?? "?"
            let model = state["model_produced"] as? String ?? "-"
            let error = (state["error"] as? String).map { " (\($0.prefix(120)))" } ?? ""
            return String(format: "%@ in %.0f s, model %@%@", outcome, Date().timeIntervalSince(t0), model, error)
        }
    }

    func json(_ body: [UInt8]) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }
}

extension DaemonBenchmark.PublishTimes {
    /// The publish time of the snapshot for `epoch`, forgotten once read (the soak's map stays small).
    func take(_ epoch: Int64) -> UInt64? { times.withLock { $0.removeValue(forKey: epoch) } }
}
