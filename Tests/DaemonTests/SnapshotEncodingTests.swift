import Foundation
import TFTCore
import Testing
@testable import Daemon

/// The snapshot encoder, `JSONWriter`'s number formatting, `ISO8601Timestamp.format` and the quantile
/// exceedance were rewritten for speed (no per-number / per-timestamp allocation, shared timestamp arrays,
/// both shapes of a server from one pass, work split across cores). These tests hold the fast versions to
/// byte-identical output against the straightforward versions they replaced (kept below as references;
/// timestamps against Foundation's `DateFormatter` instead).
@Suite struct SnapshotEncodingTests {
    // MARK: - references (the previous implementations, verbatim in behaviour)

    enum Reference {
        static func number(_ value: Double, decimals: Int = 2) -> String {
            guard value.isFinite, abs(value) < 1e15 else { return "null" }
            let scale = [1.0, 10.0, 100.0, 1000.0, 10000.0][max(0, min(4, decimals))]
            var scaled = Int64((abs(value) * scale).rounded())
            if scaled == 0 { return "0" }
            var out = value < 0 ? "-" : ""
            var d = max(0, min(4, decimals))
            while d > 0 && scaled % 10 == 0 { scaled /= 10; d -= 1 }
            var digits: [Character] = []
            var v = scaled
            repeat { digits.append(Character(String(v % 10))); v /= 10 } while v > 0
            while digits.count <= d { digits.append("0") }
            for i in stride(from: digits.count - 1, through: 0, by: -1) {
                if i == d - 1 { out += "." }
                out.append(digits[i])
            }
            return out
        }

        static func format(_ v: Double, _ decimals: Int) -> String {
            var s = number(v, decimals: decimals)
            if decimals > 0 && !s.contains(".") && s != "null" { s += "." + String(repeating: "0", count: decimals) }
            return s
        }

        static func percent(_ v: Double) -> String { format(v, 1) + "%" }

        /// Foundation's calendar as the oracle, not a second copy of the day arithmetic under test.
        static func iso(_ epochSeconds: Int64) -> String {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
            return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(epochSeconds)))
        }

        static func string(_ s: String) -> String {
            var w = JSONWriter()
            w.string(s)
            return String(decoding: w.bytes, as: UTF8.self)
        }

        static func numbers(_ values: [Float]) -> String {
            "[" + values.map { number(Double($0)) }.joined(separator: ",") + "]"
        }

        static func server(_ p: ServerPrediction, forecast detail: Snapshot.ForecastDetail) -> String {
            let level = p.risk.level
            var o = "{\"risk_score\":" + number(p.risk.score, decimals: 1)
            o += ",\"profile\":" + string(p.profile.displayName)
            o += ",\"alert\":{\"level\":" + string(level.rawValue)
            o += ",\"score\":" + number(p.risk.score, decimals: 1)
            o += ",\"color\":" + string(level.color) + ",\"emoji\":" + string(level.emoji) + ",\"label\":" + string(level.label) + "}"
            o += ",\"display_metrics\":{\"cpu\":" + string(percent(p.currentCPU))
            o += ",\"memory\":" + string(percent(p.currentMemory))
            o += ",\"disk_io\":" + string(percent(p.currentIowait) + " iowait")
            o += ",\"iowait\":" + string(percent(p.currentIowait))
            o += ",\"swap\":" + string(percent(p.currentSwap))
            o += ",\"disk\":" + string(percent(p.currentDisk))
            o += ",\"load\":" + string(format(p.currentLoad, 2))
            o += ",\"net_in\":" + string(format(p.currentNetIn, 1) + " MB/s")
            o += ",\"net_out\":" + string(format(p.currentNetOut, 1) + " MB/s") + "}"
            if detail != .none, !p.forecast.isEmpty {
                let q50 = SnapshotEncoder.nearest(0.5, in: p.quantiles)
                o += ",\"forecast\":{"
                for (t, key) in p.forecastKeys.enumerated() { o += string(key) + ":" + numbers(p.forecast[t][q50]) + "," }
                o += "\"timestamps\":["
                let steps = p.forecast.first?.first?.count ?? 0
                o += (0..<steps).map { string(iso(p.firstForecastEpoch + Int64($0) * p.stepSeconds)) }.joined(separator: ",") + "]"
                if detail == .bands {
                    for (name, lv) in [("p10", Float(0.1)), ("p90", Float(0.9))] {
                        let qi = SnapshotEncoder.nearest(lv, in: p.quantiles)
                        o += "," + string(name) + ":{"
                        o += p.forecastKeys.enumerated().map { string($0.element) + ":" + numbers(p.forecast[$0.offset][qi]) }
                            .joined(separator: ",") + "}"
                    }
                }
                o += "}"
            }
            o += ",\"prob_30m\":" + number(p.risk.prob30m, decimals: 4)
            o += ",\"prob_8h\":" + number(p.risk.prob8h, decimals: 4)
            o += ",\"profile_key\":" + string(p.profile.rawValue)
            o += ",\"last_observation\":" + string(iso(p.lastObservationEpoch)) + "}"
            return o
        }

        static func exceedance(_ threshold: Double, values: [Double], levels: [Double]) -> Double {
            let v = values.sorted()
            let n = v.count
            if n == 1 { return threshold <= v[0] ? 1 - levels[0] : 0 }
            let lowSlope = max(v[1] - v[0], 1e-9) / max(levels[1] - levels[0], 1e-9)
            let lower = v[0] - levels[0] * lowSlope
            let highSlope = max(v[n - 1] - v[n - 2], 1e-9) / max(levels[n - 1] - levels[n - 2], 1e-9)
            let upper = v[n - 1] + (1 - levels[n - 1]) * highSlope
            if threshold <= lower { return 1 }
            if threshold >= upper { return 0 }
            var xs = [lower] + v + [upper]
            let fs = [0.0] + levels + [1.0]
            for i in 1..<xs.count where xs[i] < xs[i - 1] { xs[i] = xs[i - 1] }
            var i = 1
            while i < xs.count && xs[i] < threshold { i += 1 }
            if i >= xs.count { return 0 }
            let x0 = xs[i - 1], x1 = xs[i]
            let f = x1 > x0 ? fs[i - 1] + (fs[i] - fs[i - 1]) * (threshold - x0) / (x1 - x0) : fs[i]
            return min(1, max(0, 1 - f))
        }
    }

    /// Deterministic values, including the awkward ones (halves, 9.995, negatives, NaN, ∞, huge).
    static func samples() -> [Double] {
        var rng = SplitMix64Doubles(seed: 7)
        var out: [Double] = [0, -0.0, 0.05, 0.005, 0.00005, 0.5, 1, 9.995, 45, 45.25, 45.05, 99.95, 100, -3.25, -0.004,
                             123_456.789, 1e14, 9.2e14, 1e15, 1e16, .nan, .infinity, -.infinity, 0.1 + 0.2, 2.675, 1.005]
        for _ in 0..<4_000 { out.append((rng.next() - 0.5) * pow(10, Double(Int(rng.next() * 12) - 4))) }
        return out
    }

    @Test func numbers_MatchTheReference() {
        for v in Self.samples() {
            for d in 0...4 {
                var w = JSONWriter()
                w.number(v, decimals: d)
                #expect(String(decoding: w.bytes, as: UTF8.self) == Reference.number(v, decimals: d), "\(v) decimals \(d)")
            }
            for (d, suffix) in [(1, "%"), (2, ""), (1, " MB/s")] {
                var w = JSONWriter()
                switch suffix {
                case "%": w.displayNumber(v, decimals: d, suffix: "%")
                case " MB/s": w.displayNumber(v, decimals: d, suffix: " MB/s")
                default: w.displayNumber(v, decimals: d)
                }
                #expect(String(decoding: w.bytes, as: UTF8.self) == Reference.string(Reference.format(v, d) + suffix), "\(v)")
            }
        }
    }

    @Test func integers_MatchStringConversion() {
        for v: Int64 in [0, 1, -1, 9, 10, 99, 100, 1_234_567, -98_765, .max, .min] {
            var w = JSONWriter()
            w.int(v)
            #expect(String(decoding: w.bytes, as: UTF8.self) == String(v))
        }
    }

    @Test func timestamps_MatchTheReference() {
        var epochs: [Int64] = [0, 1, 59, 86_399, 86_400, 951_782_400, 1_736_935_200, 4_102_444_800, 253_402_300_799, -1, -86_401]
        var rng = SplitMix64Doubles(seed: 3)
        for _ in 0..<2_000 { epochs.append(Int64(rng.next() * 5e9)) }
        for e in epochs {
            #expect(ISO8601Timestamp.format(e) == Reference.iso(e), "\(e)")
            var w = JSONWriter()
            w.timestamp(e)
            #expect(String(decoding: w.bytes, as: UTF8.self) == "\"" + Reference.iso(e) + "\"")
        }
    }

    @Test func exceedance_MatchesTheReference() {
        let levels: [Double] = [0.02, 0.1, 0.25, 0.5, 0.75, 0.9, 0.98]
        var rng = SplitMix64Doubles(seed: 11)
        for trial in 0..<5_000 {
            var values = (0..<levels.count).map { _ in rng.next() * 100 }
            if trial % 3 == 0 { values.sort() }              // well-formed quantiles
            if trial % 50 == 0 { values[2] = values[3] }     // ties
            let threshold = rng.next() * 120 - 10
            let fast = QuantileDistribution.exceedance(threshold, values: values, levels: levels)
            #expect(fast == Reference.exceedance(threshold, values: values, levels: levels))
        }
        #expect(QuantileDistribution.exceedance(5, values: [4], levels: [0.5]) == Reference.exceedance(5, values: [4], levels: [0.5]))
        #expect(QuantileDistribution.exceedance(3, values: [4], levels: [0.5]) == Reference.exceedance(3, values: [4], levels: [0.5]))
    }

    static func prediction(_ i: Int, rng: inout SplitMix64Doubles, horizon: Int = 12) -> ServerPrediction {
        let profile = ServerProfile.allCases[i % ServerProfile.allCases.count]
        let quantiles: [Float] = [0.02, 0.1, 0.25, 0.5, 0.75, 0.9, 0.98]
        let keys = ["cpu_pct", "mem_pct", "iowait_pct", "swap_pct", "disk_pct", "load_average"]
        let forecast = keys.map { _ in quantiles.map { _ in (0..<horizon).map { _ in Float(rng.next() * 100) } } }
        let score = (rng.next() * 1000).rounded() / 10
        let risk = ServerRisk(serverName: "ppdb\(i)", profile: profile, score: score, level: AlertLevel(score: score), metrics: [],
                              prob30m: rng.next(), prob8h: rng.next(), crossings: [])
        let samples = samples()
        func value() -> Double { samples[Int(rng.next() * Double(samples.count)) % samples.count] }
        // Most servers share the fleet's newest step; some lag behind (another timestamps array).
        let last: Int64 = 1_736_935_200 - (i % 5 == 0 ? Int64(i) * 300 : 0)
        return ServerPrediction(serverName: "ppdb\(i)", profile: profile, risk: risk, currentCPU: value(), currentMemory: value(),
                                currentIowait: value(), currentSwap: value(), currentDisk: value(), currentLoad: value(),
                                currentNetIn: value(), currentNetOut: value(), lastObservationEpoch: last,
                                firstForecastEpoch: last + 300, stepSeconds: 300, forecastKeys: keys, quantiles: quantiles,
                                forecast: i % 17 == 3 ? [] : forecast)
    }

    @Test func serverFragments_MatchTheReference_InBothShapesAndWithBands() {
        var rng = SplitMix64Doubles(seed: 5)
        let servers = (0..<60).map { Self.prediction($0, rng: &rng) }
        let (full, compact) = SnapshotEncoder.serverFragments(servers)
        #expect(full.count == servers.count && compact.count == servers.count)
        for (i, p) in servers.enumerated() {
            #expect(String(decoding: full[i], as: UTF8.self) == Reference.server(p, forecast: .median))
            #expect(String(decoding: compact[i], as: UTF8.self) == Reference.server(p, forecast: .none))
            #expect(String(decoding: SnapshotEncoder.server(p, forecast: .bands), as: UTF8.self) == Reference.server(p, forecast: .bands))
            #expect(String(decoding: SnapshotEncoder.server(p, forecast: .median), as: UTF8.self) == Reference.server(p, forecast: .median))
        }
        // Every fragment is valid JSON.
        for f in full + compact { #expect((try? JSONSerialization.jsonObject(with: Data(f))) != nil) }
    }

    @Test func parallelMap_KeepsOrder() {
        for count in [0, 1, 7, 8, 16, 17, 1_000] {
            #expect(Parallel.map(count, grain: 4) { $0 * 3 } == (0..<count).map { $0 * 3 })
            #expect(Parallel.map(count, grain: 4) { String($0) } == (0..<count).map { String($0) })
        }
    }
}

/// A small deterministic generator of doubles in [0, 1) (SplitMix64).
struct SplitMix64Doubles {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) / Double(1 << 53)
    }
}
