import Foundation
import Testing
import TFTCore
@testable import Training

/// One shared simulated week (20 servers, 5-min steps, more incidents than the default so every kind
/// shows up), generated once for all behavioural tests.
let week: (records: [FleetRecord], truth: FleetGroundTruth) = {
    var config = FleetSimulatorConfig(servers: 20, days: 7, seed: 7)
    config.incidentRate = 0.35
    let out = try! FleetSimulator.generateAll(config: config)
    return (out.records, out.groundTruth)
}()

/// Records of one server in time order.
let weekByServer: [String: [FleetRecord]] = Dictionary(grouping: week.records, by: \.serverName)

struct SimulatorDeterminismTests {
    @Test func sameSeedSameOutputDifferentSeedDifferentOutput() throws {
        let config = FleetSimulatorConfig(servers: 12, days: 1.5, seed: 42, incidentRate: 1)
        let a = try FleetSimulator.generateAll(config: config)
        let b = try FleetSimulator.generateAll(config: config)
        #expect(a.records == b.records)
        #expect(a.groundTruth == b.groundTruth)
        #expect(!a.groundTruth.incidents.isEmpty)
        var other = config
        other.seed = 43
        let c = try FleetSimulator.generateAll(config: other)
        #expect(c.records.count == a.records.count)
        #expect(c.records != a.records)
        #expect(c.records.map(\.serverName) == a.records.map(\.serverName))  // same fleet, other values
    }

    @Test func streamingEqualsGenerateAll() throws {
        let config = FleetSimulatorConfig(servers: 5, days: 1, seed: 3)
        var sim = try FleetSimulator(config: config)
        var streamed: [FleetRecord] = []
        var ticks = 0
        while let tick = sim.next() {
            #expect(tick.index == ticks)
            #expect(tick.epochSeconds == config.startEpoch + Int64(ticks * 300))
            #expect(tick.records.allSatisfy { $0.timestamp == tick.timestamp })
            #expect(tick.records.count == 5)
            streamed += tick.records
            ticks += 1
        }
        #expect(ticks == 288)
        #expect(sim.next() == nil)
        #expect(streamed == (try FleetSimulator.generateAll(config: config)).records)
    }

    @Test func endlessStreamKeepsGoing() throws {
        var config = FleetSimulatorConfig(servers: 3, days: nil, seed: 1)
        config.stepSeconds = 3_600
        var sim = try FleetSimulator(config: config)
        #expect(sim.totalSteps == nil)
        for _ in 0..<(24 * 40) { #expect(sim.next() != nil) }
        #expect(throws: FleetSimulatorError.self) { try FleetSimulator.generateAll(config: config) }
    }

    @Test func rejectsInvalidConfigs() {
        for bad in [FleetSimulatorConfig(servers: 0), FleetSimulatorConfig(days: 0), FleetSimulatorConfig(stepSeconds: 0),
                    FleetSimulatorConfig(incidentRate: -1)] {
            #expect(throws: FleetSimulatorError.self) { try FleetSimulator(config: bad) }
        }
    }
}

struct SimulatorFleetTests {
    @Test func fleetMixNamesAndProfilesAgreeWithTheSharedTable() throws {
        let counts = FleetLayout.counts(total: 45)
        #expect(counts.values.reduce(0, +) == 45)
        #expect(ServerProfile.allCases.allSatisfy { counts[$0, default: 0] >= 1 })
        #expect(counts[.webAPI]! > counts[.database]! && counts[.database]! > counts[.conductor]!)
        let names = FleetLayout.serverNames(total: 45)
        #expect(Set(names).count == 45)
        #expect(names.contains("ppml0001") && names.contains("ppdb001") && names.contains("ppweb003")
            && names.contains("ppcon01") && names.contains("pprisk001"))
        let sim = try FleetSimulator(config: FleetSimulatorConfig(servers: 45))
        for server in sim.servers {
            #expect(ServerProfile.infer(serverName: server.name) == server.profile)
        }
        // Every web/API server depends on a database; ML servers on a conductor and an ETL server.
        for server in sim.servers where server.profile == .webAPI {
            #expect(server.dependsOn.count == 1 && ServerProfile.infer(serverName: server.dependsOn[0]) == .database)
        }
        for server in sim.servers where server.profile == .mlCompute {
            #expect(Set(server.dependsOn.map { ServerProfile.infer(serverName: $0) }) == [.conductor, .etlIngest])
        }
    }

    @Test func explicitServerNamesUseInferredProfiles() throws {
        var config = FleetSimulatorConfig(servers: 1, days: 0.5, seed: 1)
        config.serverNames = ["postgres-1", "nginx-a", "nginx-b", "gpu-7"]
        let out = try FleetSimulator.generateAll(config: config)
        let profiles = Dictionary(out.records.map { ($0.serverName, $0.profile) }, uniquingKeysWith: { a, _ in a })
        #expect(profiles == ["postgres-1": .database, "nginx-a": .webAPI, "nginx-b": .webAPI, "gpu-7": .mlCompute])
        #expect(out.groundTruth.servers.first { $0.name == "nginx-a" }?.dependsOn == ["postgres-1"])
    }
}

struct SimulatorRecordTests {
    @Test func everyRecordIsWithinTheSpecRanges() {
        #expect(week.records.count == 20 * 7 * 288)
        for r in week.records {
            let pcts = [r.cpuUserPct, r.cpuSysPct, r.cpuIowaitPct, r.cpuIdlePct, r.javaCpuPct, r.memUsedPct,
                        r.swapUsedPct, r.diskUsagePct]
            #expect(pcts.allSatisfy { $0 >= 0 && $0 <= 100 }, "\(r)")
            #expect(r.netInMBs >= 0 && r.netOutMBs >= 0 && r.loadAverage >= 0)
            #expect(r.backCloseWait >= 0 && r.frontCloseWait >= 0)
            #expect((0...365).contains(r.uptimeDays))
            let cpuSum = r.cpuUserPct + r.cpuSysPct + r.cpuIowaitPct + r.cpuIdlePct
            #expect(cpuSum <= 100 + 1e-9, "\(r)")
            if r.status == .offline {
                #expect(cpuSum == 0 && r.uptimeDays == 0)
            } else {
                #expect(abs(cpuSum - 100) < 1e-6, "\(r)")
            }
            #expect(FleetTimestamp.parse(r.timestamp) != nil && r.timestamp.count == 19)
        }
    }

    @Test func seasonalityWebBusierAtMiddayThanAtNightAndOnWeekdays() {
        var day: [Double] = [], night: [Double] = []
        for r in week.records where r.profile == .webAPI && r.status != .offline {
            let e = FleetTimestamp.parse(r.timestamp)!
            let h = FleetTimestamp.secondOfDay(e) / 3600
            guard FleetTimestamp.weekday(e) < 5 else { continue }
            if (12..<15).contains(h) { day.append(r.netOutMBs) }
            if (2..<5).contains(h) { night.append(r.netOutMBs) }
        }
        let mean = { (xs: [Double]) in xs.reduce(0, +) / Double(xs.count) }
        #expect(mean(day) > 1.5 * mean(night))
    }

    @Test func statesDwellForRealisticTimes() {
        var runs: [ServerStatus: [Int]] = [:]
        var changes = 0
        for (_, rs) in weekByServer {
            var current = rs[0].status, length = 1
            for r in rs.dropFirst() {
                if r.status == current { length += 1; continue }
                runs[current, default: []].append(length)
                changes += 1
                current = r.status
                length = 1
            }
            runs[current, default: []].append(length)
        }
        func median(_ xs: [Int]) -> Int { xs.sorted()[xs.count / 2] }
        let all = runs.values.flatMap { $0 }
        #expect(median(all) >= 6, "median dwell \(median(all)) steps")  // ≥ 30 min at 5-min steps
        let serverHours = Double(week.records.count) / 12
        #expect(Double(changes) / serverHours < 0.5)  // the original changed state ~140×/server-hour
        #expect(median(runs[.healthy]!) >= 6)
        #expect(median(runs[.morningSpike]!) >= 6)
        let offline = runs[.offline] ?? []
        #expect(offline.allSatisfy { $0 <= 6 })  // short: at most 30 min
        #expect(Double(offline.reduce(0, +)) / Double(week.records.count) < 0.01)  // rare
        #expect(Set(runs.keys) == Set(ServerStatus.allCases))
    }

    @Test func morningSpikesStartAroundBusinessHoursOnWeekdays() {
        var starts = 0
        for (_, rs) in weekByServer {
            for (prev, r) in zip(rs, rs.dropFirst()) where r.status == .morningSpike && prev.status != .morningSpike {
                let e = FleetTimestamp.parse(r.timestamp)!
                let minute = FleetTimestamp.secondOfDay(e) / 60
                #expect(FleetTimestamp.weekday(e) < 5)
                #expect((450...515).contains(minute), "\(r.timestamp)")  // 07:30–08:35
                starts += 1
            }
        }
        #expect(starts > 10)
    }
}

struct SimulatorIncidentTests {
    func series(_ server: String) -> [FleetRecord] { weekByServer[server]! }

    @Test func incidentsRampThenCrossCriticalAtTheRecordedTime() {
        let incidents = week.truth.incidents.filter { $0.resolution != "truncated" }
        #expect(incidents.count >= 12)
        #expect(Set(incidents.map(\.kind)) == Set(IncidentKind.allCases))
        for inc in incidents {
            let rs = series(inc.server)
            guard let crit = inc.criticalStep, let critAt = inc.criticalAt else {
                Issue.record("incident \(inc.id) never crossed critical")
                continue
            }
            let value = { (step: Int) in rs[step].value(of: inc.metric) }
            // Crossing at the recorded step, and not before it since the ramp began.
            #expect(rs[crit].timestamp == critAt)
            #expect(value(crit) >= inc.criticalLevel)
            #expect(rs[crit].status == .criticalIssue)
            #expect((inc.rampStartStep..<crit).allSatisfy { value($0) < inc.criticalLevel })
            // A forecastable lead: at least an hour of rising values before the crossing.
            let lead = inc.leadTimeMinutes(stepSeconds: 300)!
            #expect(lead >= 60, "incident \(inc.id) lead \(lead) min")
            let rampStart = (inc.rampStartStep..<(inc.rampStartStep + 6)).map(value).reduce(0, +) / 6
            let hourBefore = ((crit - 12)..<(crit - 9)).map(value).reduce(0, +) / 3
            let justBefore = ((crit - 3)..<crit).map(value).reduce(0, +) / 3
            #expect(hourBefore > rampStart, "incident \(inc.id) not rising early")
            #expect(justBefore > hourBefore, "incident \(inc.id) not rising late")
            #expect(inc.warningStep! <= crit)
            #expect(inc.endStep! > inc.resolvedStep! && inc.resolvedStep! > crit)
            // After the remedy the metric is back below its warning level.
            #expect(value(inc.endStep!) < inc.warningLevel, "incident \(inc.id) did not recover")
        }
    }

    @Test func outsideIncidentsNoMetricReachesItsCriticalLevel() {
        var windows: [String: [(ClosedRange<Int>, Set<ThresholdMetric>)]] = [:]
        for inc in week.truth.incidents {
            windows[inc.server, default: []].append((inc.rampStartStep...inc.endStep!, Set(inc.kind.relatedMetrics)))
        }
        for (server, rs) in weekByServer {
            let levels = ProfileThresholds.for(rs[0].profile)
            for (step, r) in rs.enumerated() where r.status != .offline {
                let excused = windows[server, default: []].filter { $0.0.contains(step) }.reduce(into: Set<ThresholdMetric>()) { $0.formUnion($1.1) }
                for m in ThresholdMetric.allCases where !excused.contains(m) {
                    #expect(r.value(of: m) < levels[m].critical, "\(server) \(r.timestamp) \(m) = \(r.value(of: m)) \(r.status) \(r)")
                }
            }
        }
    }

    @Test func restartsResetUptimeAndMemory() {
        let restarts = week.truth.incidents.filter { $0.resolution == "restart" }
        #expect(!restarts.isEmpty)
        for inc in restarts {
            let rs = series(inc.server)
            let window = rs[inc.resolvedStep!...inc.endStep!]
            #expect(window.contains { $0.status == .offline })
            let back = window.first { $0.status == .recovery }!
            #expect(back.uptimeDays == 0)
            if inc.kind == .memoryLeak {
                #expect(back.memUsedPct < inc.warningLevel - 10)
            }
        }
    }

    @Test func cascadesRaiseDependentMetricsAfterTheSourceIncident() {
        // Edges with a clear effect, on dependents that are not sick themselves at the time.
        let visible = week.truth.cascades.filter { c in
            let source = week.truth.incidents[c.sourceIncident]
            return c.effect == .connectionFailures && c.peakImpact >= 0.4 && !week.truth.incidents.contains {
                $0.server == c.server && $0.rampStartStep <= c.endStep! && $0.endStep! >= source.rampStartStep - 12
            }
        }
        #expect(visible.count >= 3)
        for c in visible {
            let source = week.truth.incidents[c.sourceIncident]
            #expect(source.server == c.source)
            let start = c.startStep!, peak = c.peakStep!
            // After the source started degrading, with a lag.
            #expect(c.onsetStep > source.warningStep!)
            #expect(start >= c.onsetStep && peak > start)
            let rs = series(c.server)
            let before = rs[max(0, source.rampStartStep - 12)..<source.rampStartStep]
            let during = rs[max(0, peak - 3)...min(rs.count - 1, peak + 3)]
            let mean = { (xs: ArraySlice<FleetRecord>, f: (FleetRecord) -> Double) in xs.map(f).reduce(0, +) / Double(xs.count) }
            let cwBefore = mean(before) { Double($0.backCloseWait) }, cwDuring = mean(during) { Double($0.backCloseWait) }
            #expect(cwDuring > cwBefore + 10, "\(c.server) close_wait \(cwBefore) → \(cwDuring)")
            #expect(mean(during, \.cpuIowaitPct) > mean(before, \.cpuIowaitPct) + 1)
            // Nothing happens to the dependent before the onset.
            #expect(rs[c.onsetStep - 1].backCloseWait < Int(cwDuring))
        }
    }
}

struct SimulatorFileTests {
    func tempPath(_ ext: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("argus-sim-\(UUID().uuidString).\(ext)").path
    }

    func sample() throws -> [FleetRecord] {
        var config = FleetSimulatorConfig(servers: 8, days: 0.5, seed: 11, incidentRate: 4)
        config.serverNames = ["ppdb001", "ppweb001", "ppweb002", "web \"edge\", 1", "ppml0001", "ppcon01", "ppetl001", "kafka-9"]
        return try FleetSimulator.generateAll(config: config).records
    }

    @Test(arguments: FleetFileFormat.allCases)
    func writingAndReadingRoundTrips(format: FleetFileFormat) throws {
        let records = try sample()
        let path = tempPath(format.rawValue)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try FleetRecordWriter(path: path, format: format)
        try writer.write(records)
        try writer.close()
        #expect(FleetFileFormat.infer(fromPath: path) == format)
        let back = try FleetRecordReader.read(path: path)
        #expect(back == records)
    }

    @Test func jsonLinesCarryTheSixteenFeedFieldsPlusStatusAndProfile() throws {
        let records = try sample()
        let path = tempPath("jsonl")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try FleetRecordWriter(path: path, format: .jsonl)
        try writer.write(records)
        try writer.close()
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == records.count)
        let object = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
        #expect(Set(object.keys) == Set(FleetRecord.feedFields + ["status", "profile"]))
        #expect(FleetRecord.feedFields.count == 16)
        #expect(object["back_close_wait"] is Int && object["uptime_days"] is Int)
        #expect(object["timestamp"] as? String == "2025-01-01T00:00:00")
    }

    @Test func csvHasAHeaderAndReportsMalformedLines() throws {
        let records = try sample()
        let path = tempPath("csv")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try FleetRecordWriter(path: path, format: .csv)
        try writer.write(Array(records.prefix(3)))
        try writer.close()
        var text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix(FleetRecordWriter.csvColumns.joined(separator: ",") + "\n"))
        text += "2025-01-01T00:00:00,ppdb001,abc,1,1,97,1,1,1,1,1,1,1,1,1,1,healthy,database\n"
        #expect(throws: FleetSimulatorError.malformedRecord(line: 5, reason: "cpu_user_pct is not a number")) {
            try FleetRecordReader.parseCSV(text)
        }
    }

    @Test func groundTruthEncodesAsJSON() throws {
        let data = try week.truth.jsonData()
        let decoded = try FleetGroundTruth.decode(from: data)
        #expect(decoded == week.truth)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"critical_at\"") && text.contains("\"ramp_start_step\"")
            && text.contains("\"kind\" : \"memory_leak\""))
    }

    @Test func offlineRecordsCanBeOmitted() throws {
        var config = FleetSimulatorConfig(servers: 20, days: 7, seed: 7)
        config.incidentRate = 0.35
        config.emitOfflineRecords = false
        let out = try FleetSimulator.generateAll(config: config)
        let offline = week.records.filter { $0.status == .offline }.count
        #expect(offline > 0)
        #expect(out.records.count == week.records.count - offline)
        #expect(!out.records.contains { $0.status == .offline })
    }
}

struct FleetTimestampTests {
    @Test func formatsAndParses() {
        #expect(FleetTimestamp.format(1_735_689_600) == "2025-01-01T00:00:00")
        #expect(FleetTimestamp.parse("2025-01-01T00:00:00") == 1_735_689_600)
        #expect(FleetTimestamp.parse("2025-01-01") == 1_735_689_600)
        #expect(FleetTimestamp.parse("2025-01-01T00:00:00Z") == 1_735_689_600)
        #expect(FleetTimestamp.parse("2025-01-01T02:00:00+02:00") == 1_735_689_600)
        #expect(FleetTimestamp.parse("2025-01-01T00:00:00.250") == 1_735_689_600)
        #expect(FleetTimestamp.format(FleetTimestamp.parse("2024-02-29T23:59:59")!) == "2024-02-29T23:59:59")
        for bad in ["2025-02-29T00:00:00", "2025-13-01", "2025-01-01T24:00:00", "hello", "2025-01-01T00:00:00junk"] {
            #expect(FleetTimestamp.parse(bad) == nil, "\(bad)")
        }
        var e: Int64 = -86_400 * 800
        while e < 86_400 * 30_000 {
            #expect(FleetTimestamp.parse(FleetTimestamp.format(e)) == e)
            e += 86_400 * 37 + 3_661
        }
        #expect(FleetTimestamp.weekday(1_735_689_600) == 2)  // 2025-01-01 was a Wednesday
    }

    @Test func seededGeneratorIsReproducibleAndUniform() {
        var a = SimulatorRNG(seed: 5), b = SimulatorRNG(seed: 5), c = SimulatorRNG(seed: 5, stream: 1)
        let xs = (0..<1000).map { _ in a.uniform() }
        #expect(xs == (0..<1000).map { _ in b.uniform() })
        #expect(xs != (0..<1000).map { _ in c.uniform() })
        #expect(abs(xs.reduce(0, +) / 1000 - 0.5) < 0.05)
        var n = SimulatorRNG(seed: 9)
        let normals = (0..<20_000).map { _ in n.normal() }
        let mean = normals.reduce(0, +) / 20_000
        let variance = normals.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 20_000
        #expect(abs(mean) < 0.03 && abs(variance - 1) < 0.05)
    }
}
