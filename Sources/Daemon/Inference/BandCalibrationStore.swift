import Foundation
import Synchronization
import TFTCore
import Training

/// Per-server, per-target online calibration (``BandCalibration``: which median to serve — the model's,
/// shrunk toward the last value, or around a smoothed level — and band widths) for the inference engine, kept in memory and persisted in its own SQLite file
/// (`calibration.sqlite` in the data directory).
///
/// The engine calls ``calibrate(_:windows:spec:builder:)`` on its queue every tick, between the forward
/// pass and risk scoring: each server's newest observation scores its own earlier forecasts, and the new
/// forecast's quantiles are rescaled around its P50 by that server's factors. The factors and counters
/// are written every ``persistEveryTicks`` ticks (off the engine's queue) and at ``close()``; pending
/// forecasts are not persisted, so a restart only delays the next scores by up to the horizon.
public final class BandCalibrationStore: Sendable {
    public static let fileName = "calibration.sqlite"
    public let persistEveryTicks: Int
    /// Shrink each server's medians toward its last value by its own recent errors (else widths only).
    public let shrinkMedian: Bool
    let database: SQLiteDatabase?
    private let states = Mutex<[String: [String: BandCalibration]]>([:])
    private let ticks = Mutex(0)
    private let writes = DispatchQueue(label: "argus.calibration.persist", qos: .utility)

    static let migrations = [Migration(version: 1, name: "band calibration", sql: """
        CREATE TABLE band_calibration (
            server TEXT NOT NULL, target TEXT NOT NULL, log_factors TEXT NOT NULL, shrink_errors TEXT NOT NULL,
            scored INTEGER NOT NULL, inside_raw INTEGER NOT NULL, inside_served INTEGER NOT NULL,
            PRIMARY KEY (server, target)) WITHOUT ROWID;
        """),
        // The median selection's state: levels (fast, medium, slow, running median) and the step spread.
        Migration(version: 2, name: "median selection levels", sql: """
        ALTER TABLE band_calibration ADD COLUMN levels TEXT NOT NULL DEFAULT '';
        ALTER TABLE band_calibration ADD COLUMN spread REAL NOT NULL DEFAULT 0;
        """),
        // The step that last moved the levels and its value: a restart's first tick sees that step again.
        Migration(version: 3, name: "median selection level step", sql: """
        ALTER TABLE band_calibration ADD COLUMN level_step INTEGER;
        ALTER TABLE band_calibration ADD COLUMN previous REAL;
        """),
        // The persistence guard's long-memory errors at the short horizons.
        Migration(version: 4, name: "persistence guard errors", sql: """
        ALTER TABLE band_calibration ADD COLUMN guard_errors TEXT NOT NULL DEFAULT '';
        """),
        // The values the rolling median is taken over, oldest first (`previous` is no longer read or written,
        // nor was `spread` until version 6: the running median they stepped has given way to the rolling one).
        Migration(version: 5, name: "rolling median window", sql: """
        ALTER TABLE band_calibration ADD COLUMN recent TEXT NOT NULL DEFAULT '';
        """),
        // `spread` is read and written again: the running one-step change the 2-hour and 8-hour errors are
        // scored in. Rows saved before (errors_scaled 0) hold absolute errors there, converted at load.
        Migration(version: 6, name: "scaled long-horizon errors", sql: """
        ALTER TABLE band_calibration ADD COLUMN errors_scaled INTEGER NOT NULL DEFAULT 0;
        """),
        // The damped trend's slope (NULL in rows saved before it: it starts from the saved window's changes,
        // and rows of 9 candidate errors get a tenth, their largest, for the trend).
        Migration(version: 7, name: "damped trend slope", sql: """
        ALTER TABLE band_calibration ADD COLUMN slope REAL;
        """),
        // The model the row was last calibrated for and its raw band widths: a restart with another model
        // hands the widths over as a hot swap does.
        Migration(version: 8, name: "width handover", sql: """
        ALTER TABLE band_calibration ADD COLUMN model TEXT;
        ALTER TABLE band_calibration ADD COLUMN raw_widths TEXT NOT NULL DEFAULT '';
        """),
        // The served median's error per horizon over the guard's memory: the live skill against the last value
        // (empty in rows saved before: estimated from the guard's error of the candidate served now).
        Migration(version: 9, name: "served errors", sql: """
        ALTER TABLE band_calibration ADD COLUMN served_errors TEXT NOT NULL DEFAULT '';
        """),
        // The union band's own factors and both bands' interval scores (empty in rows saved before: the union's
        // factors start from `log_factors`, which were the union's then, and the scores from 0). Since this
        // version the rows hold seven horizons; rows of four are interpolated at load (``BandCalibration``).
        Migration(version: 10, name: "band selection", sql: """
        ALTER TABLE band_calibration ADD COLUMN union_log_factors TEXT NOT NULL DEFAULT '';
        ALTER TABLE band_calibration ADD COLUMN band_scores TEXT NOT NULL DEFAULT '';
        """)]

    /// Steps after which a server no longer forecast is forgotten, in memory and in the file: a fleet
    /// that replaces servers must not keep the calibration of every name it ever saw.
    public let forgetAfterSteps: Int64
    /// Each calibrated server's newest step (fleet grid), to find the servers that left.
    private let lastSeen = Mutex<[String: Int64]>([:])
    /// Forgotten servers whose rows the next ``persist()`` deletes.
    private let forgotten = Mutex<Set<String>>([])

    /// Opens (or creates) the store in `dataDirectory` and loads its factors; nil directory = memory only.
    public init(dataDirectory: URL?, persistEveryTicks: Int = 12, shrinkMedian: Bool = true, forgetAfterSteps: Int = 2_880) throws {
        self.persistEveryTicks = max(1, persistEveryTicks)
        self.forgetAfterSteps = Int64(max(1, forgetAfterSteps))
        self.shrinkMedian = shrinkMedian
        guard let dataDirectory else { database = nil; return }
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        let db = try SQLiteDatabase(path: dataDirectory.appendingPathComponent(Self.fileName).path, migrations: Self.migrations)
        database = db
        let rows = try db.read { c in
            try c.query("""
                SELECT server, target, log_factors, shrink_errors, scored, inside_raw, inside_served, levels, level_step, guard_errors, recent,
                       spread, errors_scaled, slope, model, raw_widths, served_errors, union_log_factors, band_scores
                FROM band_calibration
                """) { s in
                (s.string(0) ?? "", s.string(1) ?? "", s.string(2) ?? "", s.string(3) ?? "", Int(s.int64(4)), Int(s.int64(5)), Int(s.int64(6)),
                 s.string(7) ?? "", s.isNull(8) ? nil : s.int64(8), s.string(9) ?? "", s.string(10) ?? "", Float(s.double(11)), s.int64(12) == 1,
                 s.isNull(13) ? nil : Float(s.double(13)), s.string(14), s.string(15) ?? "", s.string(16) ?? "", s.string(17) ?? "",
                 s.string(18) ?? "")
            }
        }
        var loaded: [String: [String: BandCalibration]] = [:]
        for (server, target, factors, errors, scored, raw, served, levels, levelStep, guardErrors, recent, spread, scaled, slope, model, widths,
             servedErrors, unionFactors, bandScores) in rows {
            var c = BandCalibration()
            let values = factors.split(separator: ",").compactMap { Float($0) }
            c.restoreLogFactors(values, union: unionFactors.isEmpty ? nil : unionFactors.split(separator: ",").compactMap { Float($0) })
            c.restoreBandScores(Self.matrix(bandScores))
            c.restoreErrors(Self.matrix(errors))
            c.restoreGuardErrors(Self.matrix(guardErrors))
            c.restoreLevels(levels.split(separator: ",").compactMap { Float($0) }, step: levelStep,
                            recent: recent.split(separator: ",").compactMap { Float($0) })
            c.restoreSpread(spread, errorsScaled: scaled)
            c.restoreSlope(slope)
            c.restoreWidths(widths.split(separator: ",", omittingEmptySubsequences: false).map { Float($0).flatMap { $0.isFinite ? $0 : nil } },
                            model: model)
            c.restoreServedErrors(servedErrors.isEmpty ? nil : servedErrors.split(separator: ",").compactMap { Float($0) })
            c.scored = scored; c.insideRaw = raw; c.insideServed = served
            loaded[server, default: [:]][target] = c
        }
        states.withLock { $0 = loaded }
    }

    /// Scores each server's due forecasts against its newest value, records the new raw forecasts and
    /// rescales them (then clamps to each metric's range). `windows[i]` is the window `forecasts[i]` came from;
    /// `model` names the model that made them (a new name hands each server's band widths over).
    public func calibrate(_ forecasts: inout [ServerForecast], windows: [ServerWindow], spec: FeatureSpec, builder: FeatureBuilder,
                          model: String? = nil) {
        let targets = spec.targets
        let ranges = targets.indices.map { t in builder.clamp(-.greatestFiniteMagnitude, target: t)...builder.clamp(.greatestFiniteMagnitude, target: t) }
        let departed = states.withLock { all -> [String] in
            for i in forecasts.indices {
                let window = windows[i]
                let lastStep = window.lastEpoch / Int64(window.stepSeconds)
                let quantiles = forecasts[i].quantiles
                for (t, target) in targets.enumerated() where forecasts[i].values[target] != nil {
                    let actual = spec.lastValue(of: target, in: window) ?? .nan
                    var riskBand: [[Float]] = []
                    // In place through the default subscripts and the forecast's own arrays: no copies.
                    all[window.serverName, default: [:]][target, default: BandCalibration()]
                        .update(lastStep: lastStep, actual: actual, forecast: &forecasts[i].values[target]!, quantiles: quantiles,
                                shrinkMedian: shrinkMedian, range: ranges[t], model: model, riskBand: &riskBand)
                    if !riskBand.isEmpty { forecasts[i].riskBands[target] = riskBand }
                }
            }
            return forgetDeparted(in: &all, seen: windows)
        }
        if !departed.isEmpty { forgotten.withLock { $0.formUnion(departed) } }
        let due = ticks.withLock { n -> Bool in n += 1; return n % persistEveryTicks == 0 }
        if due { writes.async { [self] in try? persist() } }
    }

    /// Writes every server's factors and counters in one transaction.
    public func persist() throws {
        guard let database else { return }
        let rows = states.withLock { all in
            all.flatMap { server, targets in targets.map { (server, $0.key, $0.value) } }
        }
        let forget = forgotten.withLock { names -> Set<String> in
            defer { names.removeAll() }
            return names
        }
        try database.writeTransaction { c in
            for server in forget { try c.run("DELETE FROM band_calibration WHERE server = ?", [.text(server)]) }
            let insert = try c.cached("""
                INSERT OR REPLACE INTO band_calibration (server, target, log_factors, shrink_errors, scored, inside_raw, inside_served, levels,
                                                         level_step, guard_errors, recent, spread, errors_scaled, slope, model, raw_widths,
                                                         served_errors, union_log_factors, band_scores)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)
                """)
            for (server, target, cal) in rows {
                try insert.execute([.text(server), .text(target), .text(cal.logFactors.map { "\($0)" }.joined(separator: ",")),
                                    .text(Self.text(cal.shrinkErrors)),
                                    .integer(Int64(cal.scored)), .integer(Int64(cal.insideRaw)), .integer(Int64(cal.insideServed)),
                                    .text((0..<4).map { "\(cal.levels[$0])" }.joined(separator: ",")),
                                    cal.levelStep == .min ? .null : .integer(cal.levelStep), .text(Self.text(cal.guardErrors)),
                                    .text(cal.recent.map { "\($0)" }.joined(separator: ",")), .real(Double(cal.spread)),
                                    .real(Double(cal.slope)), cal.model.map { .text($0) } ?? .null,
                                    .text(cal.rawWidths.map { $0.isFinite ? "\($0)" : "" }.joined(separator: ",")),
                                    .text(BandCalibration.horizons.indices.map { "\(cal.servedErrors[$0])" }.joined(separator: ",")),
                                    .text(cal.unionLogFactors.map { "\($0)" }.joined(separator: ",")),
                                    .text(Self.text(cal.bandScores.map { [$0[0], $0[1]] }))])
            }
        }
    }

    /// Rows of errors as stored: values joined by ",", rows by ";".
    static func text(_ rows: [[Float]]) -> String { rows.map { $0.map { "\($0)" }.joined(separator: ",") }.joined(separator: ";") }
    static func matrix(_ text: String) -> [[Float]] { text.split(separator: ";").map { $0.split(separator: ",").compactMap { Float($0) } } }

    /// Drops the servers whose newest step is more than `forgetAfterSteps` behind this tick's newest (a
    /// server restored from the file but not forecast since gets its grace period from now). Called under
    /// the `states` lock; returns the names dropped.
    private func forgetDeparted(in all: inout [String: [String: BandCalibration]], seen windows: [ServerWindow]) -> [String] {
        guard let newest = windows.map({ $0.lastEpoch / Int64($0.stepSeconds) }).max() else { return [] }
        return lastSeen.withLock { last in
            for window in windows { last[window.serverName] = window.lastEpoch / Int64(window.stepSeconds) }
            var gone: [String] = []
            for name in all.keys {
                let step = last[name] ?? newest
                last[name] = step
                if newest - step > forgetAfterSteps { gone.append(name) }
            }
            for name in gone { all[name] = nil; last[name] = nil }
            return gone
        }
    }

    /// Persists and closes the database (waits for a write in flight).
    public func close() {
        writes.sync {}
        try? persist()
        database?.close()
    }

    /// One server's calibration per target (nil if the server was never calibrated).
    public func calibration(server: String) -> [String: BandCalibration]? { states.withLock { $0[server] } }

    /// Fleet figures per target: servers, forecasts scored, share inside the raw and the served P10–P90
    /// band, and the median width factor per horizon.
    public struct TargetSummary: Sendable {
        public var target: String
        public var servers = 0
        public var scored = 0
        public var insideRaw = 0
        public var insideServed = 0
        public var medianFactors: [Float] = []
        /// Median over servers of the chosen shrinkage α per horizon (1 = the model's median as is).
        public var medianAlphas: [Float] = []
        /// Per horizon, over the servers with a figure there: the median of the served error relative to the
        /// last value's (``BandCalibration/errorVsLastValue``) and the share of servers below 1 (nil: none yet).
        public var medianErrorVsLastValue: [Float?] = []
        public var shareBeatingLastValue: [Float?] = []
    }

    /// One target's figures while the fleet is walked: per horizon, the servers' factors, α and skill ratios.
    private struct Gathered {
        var summary: TargetSummary
        var factors = BandCalibration.reportedHorizons.map { _ in [Float]() }
        var alphas = BandCalibration.reportedHorizons.map { _ in [Float]() }
        var ratios = BandCalibration.reportedHorizons.map { _ in [Float]() }

        mutating func add(_ c: BandCalibration) {
            summary.servers += 1; summary.scored += c.scored
            summary.insideRaw += c.insideRaw; summary.insideServed += c.insideServed
            for (h, f) in c.factors.enumerated() { factors[h].append(f) }
            for (h, a) in c.shrinkAlphas.enumerated() { alphas[h].append(a) }
            for (h, r) in c.errorVsLastValue.enumerated() { if let r { ratios[h].append(r) } }
        }
    }

    /// Gathered under the lock (in place: appending to a copy of each target's lists would copy them per server),
    /// sorted after it: `/status` and `/metrics` scrapes must not hold up the tick.
    public func summary() -> [TargetSummary] {
        let byTarget = states.withLock { all in
            var byTarget: [String: Gathered] = [:]
            for (_, targets) in all {
                for (target, c) in targets { byTarget[target, default: Gathered(summary: TargetSummary(target: target))].add(c) }
            }
            return byTarget
        }
        return byTarget.keys.sorted().map { key in
            let g = byTarget[key]!
            var s = g.summary
            s.medianFactors = g.factors.map { $0.isEmpty ? 1 : $0.sorted()[$0.count / 2] }
            s.medianAlphas = g.alphas.map { $0.isEmpty ? 1 : $0.sorted()[$0.count / 2] }
            s.medianErrorVsLastValue = g.ratios.map { $0.isEmpty ? nil : $0.sorted()[$0.count / 2] }
            s.shareBeatingLastValue = g.ratios.map { $0.isEmpty ? nil : Float($0.count { $0 < 1 }) / Float($0.count) }
            return s
        }
    }
}
