import Foundation
import HTTPServer
import Testing
@testable import Daemon

/// `argusd collect`: the /proc parsers on fixture text, the derivations, the spool's delivery rules, and a
/// daemon killed with SIGKILL and restarted while the collector feeds it.
@Suite("Collector")
struct CollectorTests {
    // MARK: Parsers (fixture text, never the machine's /proc)

    @Test("parsers: /proc/stat, meminfo, net/dev, loadavg, uptime, tcp tables and a pid's stat")
    func parsers() throws {
        let cpu = try #require(ProcParsers.cpuTimes(procStat: ProcFixture.statText(step: 0)))
        #expect(cpu == ProcParsers.CPUTimes(user: 1010, system: 515, iowait: 100, idle: 9000))
        let memory = try #require(ProcParsers.memory(meminfo: ProcFixture.meminfo))
        #expect(memory.memUsedPct == 75 && memory.swapUsedPct == 25)
        // Without MemAvailable (kernels < 3.14): free + buffers + cached; without swap: 0.
        let old = try #require(ProcParsers.memory(meminfo: "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 250 kB\nSwapTotal: 0 kB\n"))
        #expect(old.memUsedPct == 60 && old.swapUsedPct == 0)
        #expect(ProcParsers.memory(meminfo: "garbage") == nil)
        let net = ProcParsers.networkBytes(netDev: ProcFixture.netDev(step: 0))
        #expect(net.received == 1_007_000 && net.transmitted == 509_000)   // lo excluded
        #expect(ProcParsers.loadAverage(loadavg: "0.42 0.30 0.20 1/100 42\n") == 0.42)
        #expect(ProcParsers.uptimeSeconds(uptime: "350735.47 234388.90\n") == 350_735.47)
        let closeWait = ProcParsers.closeWait(tcpTables: [ProcFixture.tcp, ProcFixture.tcp6])
        #expect(closeWait.front == 3 && closeWait.back == 1)
        let java = try #require(ProcParsers.processCPU(stat: ProcFixture.javaStat(step: 0)))
        #expect(java.command == "java" && java.jiffies == 500)
        let odd = try #require(ProcParsers.processCPU(stat: ProcFixture.otherStat))
        #expect(odd.command == "(sd-pam) x" && odd.jiffies == 19_998)
        #expect(ProcParsers.processCPU(stat: "12 (x") == nil)
    }

    @Test("derive: shares from jiffy deltas, java share, MB/s from byte deltas, front/back CLOSE_WAIT, step stamp")
    func derivation() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let fixture = try ProcFixture(in: dir.url)
        try fixture.write(step: 0)
        let first = try fixture.reader.read(monotonicSeconds: 1000)
        try fixture.write(step: 1)
        let second = try fixture.reader.read(monotonicSeconds: 1300)
        #expect(first.javaJiffies == [4242: 500] && second.javaJiffies == [4242: 600])
        let r = CollectorRecord.derive(from: first, to: second, serverName: "web01", timestamp: 1_767_225_600)
        #expect(r.cpuUserPct == 30 && r.cpuSysPct == 15 && r.cpuIowaitPct == 5 && r.cpuIdlePct == 50)
        #expect(r.javaCPUPct == 10)
        #expect(r.netInMBs == 0.01 && r.netOutMBs == 0.005)
        #expect(r.memUsedPct == 75 && r.swapUsedPct == 25)
        #expect(r.frontCloseWait == 3 && r.backCloseWait == 1)
        #expect(r.loadAverage == ProcFixture.load(step: 1) && r.uptimeDays == 3)
        #expect(r.diskUsagePct > 0 && r.diskUsagePct <= 100)
        // A counter that went backwards (interface reset) reads as 0, never negative.
        var reset = second
        reset.networkReceived = 0
        #expect(CollectorRecord.derive(from: first, to: reset, serverName: "w", timestamp: 0).netInMBs == 0)
        // The record a reading at 10:05:03 makes describes the step 10:00–10:05.
        #expect(Collector.stepStamp(for: Date(timeIntervalSince1970: 1_767_225_903), interval: 300) == 1_767_225_600)
        #expect(Collector.stepStamp(for: Date(timeIntervalSince1970: 1_767_225_900), interval: 300) == 1_767_225_600)
        // The daemon's own validator takes the JSON as is.
        let batch = try FeedValidator().validate(body: Data(#"{"records":["#.utf8 + r.json + "]}".utf8))
        #expect(batch.records.count == 1 && batch.records[0].serverName == "web01")
    }

    @Test("smoke: `argusd collect --interval 1` reads this machine's /proc and a daemon stores its records; SIGTERM exits 0")
    func thisMachine() throws {
        // In process: two readings make a record whose CPU shares sum to 100 and that the validator accepts.
        let reader = ProcReader()
        let first = try reader.read()
        usleep(200_000)
        let record = CollectorRecord.derive(from: first, to: try reader.read(), serverName: "self", timestamp: Self.t0)
        #expect(abs(record.cpuUserPct + record.cpuSysPct + record.cpuIowaitPct + record.cpuIdlePct - 100) < 0.05, "\(record)")
        #expect(try FeedValidator().validate(body: Data(#"{"records":["#.utf8 + record.json + "]}".utf8)).records.count == 1)

        // The CLI, as the README and the systemd unit run it.
        let d = try TestDaemon(withModel: false)
        defer { d.stop(); d.dir.cleanup() }
        let keyFile = d.dir.url.appendingPathComponent("collector_key")
        try (TestDaemon.key + "\n").write(to: keyFile, atomically: true, encoding: .utf8)
        let name = "smoke-\(UUID().uuidString.prefix(8))"
        let collector = Process()
        collector.executableURL = try DaemonProcess.binary()
        collector.arguments = ["collect", "--url", "http://127.0.0.1:\(d.port)", "--key-file", keyFile.path, "--interval", "1",
                               "--name", name, "--spool", d.dir.url.appendingPathComponent("spool.sqlite").path]
        collector.environment = ["PATH": "/usr/bin:/bin"]
        collector.standardError = FileHandle.nullDevice
        try collector.run()
        let arrived = eventuallyTrue(seconds: 60) { d.daemon.store.serverNames.contains(name) }
        collector.terminate()   // SIGTERM
        collector.waitUntilExit()
        #expect(arrived, "no record from argusd collect reached the daemon")
        #expect(collector.terminationStatus == 0)
        let window = try #require(d.daemon.store.window(server: name))
        #expect(window.count >= 1)
    }

    func eventuallyTrue(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }

    @Test("--url: host, port, IPv6 literal and path prefix; https and missing ports are refused with a reason")
    func endpoints() throws {
        #expect(try FeedEndpoint(url: "http://127.0.0.1:8000") == FeedEndpoint(url: "http://127.0.0.1:8000/"))
        let v6 = try FeedEndpoint(url: "http://[::1]:9000/argus/")
        #expect(v6.host == "::1" && v6.port == 9000 && v6.prefix == "/argus")
        #expect(try FeedEndpoint(url: "http://argus.internal").port == 80)
        #expect(throws: FeedEndpoint.Invalid.self) { try FeedEndpoint(url: "https://argus.internal:8443") }
        #expect(throws: FeedEndpoint.Invalid.self) { try FeedEndpoint(url: "http://host:notaport") }
        #expect(throws: FeedEndpoint.Invalid.self) { try FeedEndpoint(url: "http://:8000") }
        // A response cut after the status line still carries the daemon's verdict; no status line is "uncertain".
        #expect(HTTPFeedSender.parse(Array("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n{".utf8))
                == .answered(status: 200, body: Array("{".utf8), retryAfter: nil))
        #expect(HTTPFeedSender.parse(Array("HTTP/1.1 429 Too Many Requests\r\nretry-after: 17\r\n\r\n".utf8))
                == .answered(status: 429, body: [], retryAfter: 17))
        if case .uncertain = HTTPFeedSender.parse(Array("HTTP/1.1 20".utf8)) {} else { Issue.record("a cut status line must be uncertain") }
    }

    // MARK: Spool and delivery rules (a scripted sender, no daemon)

    static func collector(_ dir: TemporaryDirectory, sender: any FeedSending, batchSize: Int = 500) throws
        -> (Collector, ProcFixture) {
        let fixture = try ProcFixture(in: dir.url)
        try fixture.write(step: 0)
        var configuration = Collector.Configuration(serverName: "web01")
        configuration.batchSize = batchSize
        let spool = try CollectorSpool(path: dir.url.appendingPathComponent("spool/spool.sqlite").path)
        let collector = Collector(configuration: configuration, spool: spool, reader: fixture.reader, sender: sender,
                                  logger: Logger(label: "collector", sink: .discard))
        try collector.prime(monotonicSeconds: 0)
        return (collector, fixture)
    }

    static let t0: Int64 = 1_767_225_600   // 2026-01-01T00:00:00Z, on the 300 s grid

    /// Writes step `i` and collects it as a reading taken 1 s after its boundary.
    @discardableResult
    static func collect(_ collector: Collector, _ fixture: ProcFixture, step i: Int64) throws -> CollectorRecord? {
        try fixture.write(step: UInt64(i))
        return try collector.collect(at: Date(timeIntervalSince1970: Double(t0 + i * 300 + 1)), monotonicSeconds: Double(i * 300))
    }

    @Test("spool: one record per step, nothing at or before a delivered step, survives reopening")
    func spoolRules() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let path = dir.url.appendingPathComponent("s.sqlite").path
        var spool = try CollectorSpool(path: path)
        let a = CollectorRecord(serverName: "web01", timestamp: Self.t0)
        let b = CollectorRecord(serverName: "web01", timestamp: Self.t0 + 300)
        #expect(try spool.append(a))
        #expect(try !spool.append(a))
        #expect(try spool.append(b))
        spool.close()
        spool = try CollectorSpool(path: path)   // a restart of the collector
        let queued = try spool.oldest(limit: 10)
        #expect(queued.map(\.stepTimestamp) == [Self.t0, Self.t0 + 300])
        try spool.removeDelivered([queued[0]])
        #expect(try !spool.append(a), "a delivered step was queued again")
        #expect(try spool.append(CollectorRecord(serverName: "web02", timestamp: Self.t0)))
        #expect(try spool.count() == 2)
        spool.close()
    }

    @Test("delivery: daemon down keeps records; 429 waits Retry-After; a 422 batch is split and only the bad record is set aside")
    func deliveryRules() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let sender = ScriptedSender(inner: nil, script: [
            .notSent("connection refused"),
            .answered(status: 429, body: [], retryAfter: 30),
            .answered(status: 422, body: Array(#"{"detail":[]}"#.utf8), retryAfter: nil),   // the batch of 3
            nil, .answered(status: 422, body: [], retryAfter: nil), nil,                     // one by one
        ])
        let (collector, fixture) = try Self.collector(dir, sender: sender)
        for i in 1...3 { try Self.collect(collector, fixture, step: Int64(i)) }
        let t = Date(timeIntervalSince1970: Double(Self.t0 + 1000))

        var report = try collector.flush(now: t)
        #expect(report.delivered == 0 && report.remaining == 3 && report.stoppedBecause != nil)
        report = try collector.flush(now: t.addingTimeInterval(2))          // after the 1 s back-off: 429
        #expect(report.delivered == 0 && report.remaining == 3)
        let posts = sender.bodies.count
        report = try collector.flush(now: t.addingTimeInterval(20))         // Retry-After 30 not over: no POST
        #expect(sender.bodies.count == posts && report.remaining == 3)
        report = try collector.flush(now: t.addingTimeInterval(33))
        #expect(report.delivered == 2 && report.quarantined == 1 && report.remaining == 0)
        #expect(sender.bodies.count == posts + 4)
        // The records went oldest first, one by one after the 422.
        let singles = sender.bodies.suffix(3).map { String(decoding: $0, as: UTF8.self) }
        for (i, body) in singles.enumerated() { #expect(body.contains(ISO8601Timestamp.format(Self.t0 + Int64(i) * 300))) }
    }

    @Test("a real daemon's 429: the collector reads Retry-After and does not post again before it")
    func realRateLimit() throws {
        let d = try TestDaemon(withModel: false, configure: { $0.feedRateLimit = 1 })
        defer { d.stop(); d.dir.cleanup() }
        let http = HTTPFeedSender(endpoint: try FeedEndpoint(url: "http://127.0.0.1:\(d.port)"), apiKey: TestDaemon.key)
        let sender = ScriptedSender(inner: http)
        let (collector, fixture) = try Self.collector(d.dir, sender: sender, batchSize: 1)
        for i in 1...2 { try Self.collect(collector, fixture, step: Int64(i)) }
        let t = Date(timeIntervalSince1970: Double(Self.t0 + 5000))
        let report = try collector.flush(now: t)
        #expect(report.delivered == 1 && report.remaining == 1)
        #expect(report.stoppedBecause?.hasPrefix("429") == true, "\(String(describing: report.stoppedBecause))")
        let posts = sender.bodies.count
        #expect(try collector.flush(now: t.addingTimeInterval(0.5)).remaining == 1)
        #expect(sender.bodies.count == posts, "posted again before Retry-After")
    }

    // MARK: End to end: a real daemon process, killed with SIGKILL and restarted

    /// `argusd serve` as a child process (SIGKILL needs a process of its own).
    final class DaemonProcess: @unchecked Sendable {   // used by the test's thread and a killer thread, one at a time
        let process = Process()
        let port: Int
        static let key = "collector-test-key-0123"

        init(binary: URL, dataDirectory: URL, port: Int) throws {
            process.executableURL = binary
            process.arguments = ["serve", "--host", "127.0.0.1", "--port", String(port), "--data-dir", dataDirectory.path,
                                 "--models-dir", dataDirectory.appendingPathComponent("models").path,
                                 "--max-future-skew", "off", "--rate-feed", "100000", "--warmup-steps", "4", "--rolling-window", "64"]
            process.environment = ["TACHYON_API_KEY": Self.key, "PATH": "/usr/bin:/bin"]
            let out = dataDirectory.appendingPathComponent("serve-\(UUID().uuidString).out")
            FileManager.default.createFile(atPath: out.path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: out)
            process.standardError = FileHandle.nullDevice
            try process.run()
            // The CLI prints "argusd listening on http://127.0.0.1:PORT" once it listens.
            var found: Int?
            let deadline = Date().addingTimeInterval(60)
            while found == nil && Date() < deadline && process.isRunning {
                let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
                if let range = text.range(of: "listening on http://127.0.0.1:") {
                    found = Int(text[range.upperBound...].prefix { $0.isNumber })
                } else {
                    usleep(20_000)
                }
            }
            guard let found else { process.terminate(); throw LoopbackHTTPClient.Failure(description: "argusd serve did not start") }
            self.port = found
        }

        func kill9() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        func stop() {
            process.terminate()
            process.waitUntilExit()
        }

        /// The built `argusd` next to the test bundle (`swift build --build-tests` builds both).
        static func binary() throws -> URL {
            var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            for _ in 0..<4 {
                let candidate = folder.appendingPathComponent("argusd")
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
                folder = folder.deletingLastPathComponent()
            }
            let fromSource = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".build/debug/argusd")
            try #require(FileManager.default.isExecutableFile(atPath: fromSource.path), "argusd binary not found; build it first")
            return fromSource
        }
    }

    @Test("kill -9 and restart: every record the collector made is stored once, at its step, with its values")
    func survivesDaemonKill() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let data = dir.url.appendingPathComponent("daemon")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let binary = try DaemonProcess.binary()
        var daemon = try DaemonProcess(binary: binary, dataDirectory: data, port: 0)
        let port = daemon.port
        let http = HTTPFeedSender(endpoint: try FeedEndpoint(url: "http://127.0.0.1:\(port)"), apiKey: DaemonProcess.key, timeoutSeconds: 10)
        let sender = ScriptedSender(inner: http)
        let (collector, fixture) = try Self.collector(dir, sender: sender, batchSize: 2)
        var produced: [CollectorRecord] = []
        var clock = Self.t0 + 10_000
        func flushUntilEmpty() throws {
            for _ in 0..<50 {
                clock += 301   // past any back-off (at most one interval)
                if try collector.flush(now: Date(timeIntervalSince1970: Double(clock))).remaining == 0 { return }
                usleep(50_000)
            }
            Issue.record("the spool did not drain")
        }

        // 1. Normal operation, with one answer lost on purpose after the daemon stored the batch.
        for i in 1...6 {
            if let r = try Self.collect(collector, fixture, step: Int64(i)) { produced.append(r) }
            if i == 3 { sender.loseNextAnswer = true }
            _ = try collector.flush(now: Date(timeIntervalSince1970: Double(clock)))
            clock += 301
        }
        try flushUntilEmpty()
        #expect(sender.uncertainBodies.count == 1)

        // 2. SIGKILL: the daemon is gone; records pile up in the spool.
        daemon.kill9()
        for i in 7...12 {
            if let r = try Self.collect(collector, fixture, step: Int64(i)) { produced.append(r) }
            let report = try collector.flush(now: Date(timeIntervalSince1970: Double(clock)))
            #expect(report.delivered == 0)
            clock += 301
        }
        #expect(try collector.spool.count() == 6)

        // 3. Restart on the same port: the backlog is replayed in order.
        daemon = try DaemonProcess(binary: binary, dataDirectory: data, port: port)
        try flushUntilEmpty()

        // 4. SIGKILL while a backlog is being posted (2 records a batch), at whatever moment it lands.
        for i in 13...30 { if let r = try Self.collect(collector, fixture, step: Int64(i)) { produced.append(r) } }
        let victim = daemon
        let killer = Thread {
            let start = sender.bodies.count, deadline = Date().addingTimeInterval(30)
            while sender.bodies.count < start + 3 && Date() < deadline { usleep(200) }
            victim.kill9()
        }
        killer.start()
        _ = try collector.flush(now: Date(timeIntervalSince1970: Double(clock)))
        while victim.process.isRunning { usleep(10_000) }
        daemon = try DaemonProcess(binary: binary, dataDirectory: data, port: port)
        try flushUntilEmpty()
        daemon.stop()
        collector.spool.close()

        // Every produced record, at its step, with its values; a step counted twice only where an answer was lost.
        #expect(produced.count == 30)
        let connection = try SQLiteConnection(path: data.appendingPathComponent("argus.sqlite").path, mode: .readOnly)
        defer { connection.close() }
        let rows = try connection.query("""
            SELECT step_ts, sample_count, cpu_user_pct, mem_used_pct, load_average, front_close_wait, net_in_mb_s
            FROM metrics WHERE server_name = 'web01' ORDER BY step_ts
            """) { s in (s.int64(0), s.int64(1), s.double(2), s.double(3), s.double(4), s.double(5), s.double(6)) }
        #expect(rows.map(\.0) == produced.map(\.timestamp), "steps stored ≠ steps produced")
        let lostSteps = Set(sender.uncertainBodies.flatMap { body in
            produced.filter { String(decoding: body, as: UTF8.self).contains(ISO8601Timestamp.format($0.timestamp)) }.map(\.timestamp)
        })
        for (row, record) in zip(rows, produced) {
            #expect(row.2 == record.cpuUserPct && row.3 == record.memUsedPct && row.4 == record.loadAverage
                    && row.5 == Double(record.frontCloseWait) && row.6 == record.netInMBs, "values of \(record.timestamp)")
            if row.1 != 1 { #expect(lostSteps.contains(row.0), "step \(row.0) stored \(row.1) times without a lost answer") }
        }
        // The answer lost on purpose: the daemon had stored it, the resend made the count 2, the values stayed.
        #expect(rows.contains { $0.1 == 2 })
    }
}
