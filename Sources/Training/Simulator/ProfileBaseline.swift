import Foundation
import TFTCore

/// Mean and standard deviation of one metric.
public struct MetricBaseline: Sendable, Codable, Equatable {
    public let mean: Double
    public let std: Double
    public init(_ mean: Double, _ std: Double) {
        self.mean = mean
        self.std = std
    }
}

/// Per-profile metric baselines of a healthy server at average activity, in feed units (percent 0–100,
/// MB/s, counts, load). Taken from the original generator's `PROFILE_BASELINES`
/// (research/argus-original.md, Appendix A; its 0–1 fractions × 100). `cpu_idle` is not simulated
/// independently: the simulator emits idle = 100 − user − sys − iowait.
public struct ProfileBaseline: Sendable, Equatable {
    public let cpuUser: MetricBaseline
    public let cpuSys: MetricBaseline
    public let cpuIowait: MetricBaseline
    public let cpuIdle: MetricBaseline
    public let javaCpu: MetricBaseline
    public let memUsed: MetricBaseline
    public let swapUsed: MetricBaseline
    public let diskUsage: MetricBaseline
    public let netIn: MetricBaseline
    public let netOut: MetricBaseline
    public let backCloseWait: MetricBaseline
    public let frontCloseWait: MetricBaseline
    public let loadAverage: MetricBaseline

    public static func `for`(_ profile: ServerProfile) -> ProfileBaseline {
        switch profile {
        case .mlCompute: mlCompute
        case .database: database
        case .webAPI: webAPI
        case .conductor: conductor
        case .etlIngest: etlIngest
        case .riskAnalytics: riskAnalytics
        case .generic: generic
        }
    }

    private typealias B = MetricBaseline
    static let mlCompute = ProfileBaseline(
        cpuUser: B(45, 12), cpuSys: B(8, 3), cpuIowait: B(2, 1), cpuIdle: B(45, 15), javaCpu: B(50, 15),
        memUsed: B(72, 10), swapUsed: B(5, 3), diskUsage: B(55, 8), netIn: B(8.5, 3), netOut: B(5.2, 2),
        backCloseWait: B(2, 1), frontCloseWait: B(2, 1), loadAverage: B(6.5, 2))
    static let database = ProfileBaseline(
        cpuUser: B(25, 8), cpuSys: B(12, 4), cpuIowait: B(15, 5), cpuIdle: B(48, 12), javaCpu: B(10, 5),
        memUsed: B(68, 10), swapUsed: B(3, 2), diskUsage: B(70, 10), netIn: B(35, 12), netOut: B(28, 10),
        backCloseWait: B(8, 3), frontCloseWait: B(6, 2), loadAverage: B(4.2, 1.5))
    static let webAPI = ProfileBaseline(
        cpuUser: B(18, 6), cpuSys: B(5, 2), cpuIowait: B(3, 2), cpuIdle: B(74, 10), javaCpu: B(25, 8),
        memUsed: B(45, 10), swapUsed: B(2, 1), diskUsage: B(35, 8), netIn: B(85, 25), netOut: B(120, 35),
        backCloseWait: B(15, 5), frontCloseWait: B(12, 4), loadAverage: B(2.8, 1))
    static let conductor = ProfileBaseline(
        cpuUser: B(15, 6), cpuSys: B(6, 2), cpuIowait: B(2, 1), cpuIdle: B(77, 8), javaCpu: B(20, 6),
        memUsed: B(42, 8), swapUsed: B(2, 1), diskUsage: B(40, 8), netIn: B(22, 8), netOut: B(18, 6),
        backCloseWait: B(5, 2), frontCloseWait: B(4, 2), loadAverage: B(3.2, 1.2))
    static let etlIngest = ProfileBaseline(
        cpuUser: B(35, 10), cpuSys: B(10, 3), cpuIowait: B(8, 3), cpuIdle: B(47, 12), javaCpu: B(45, 12),
        memUsed: B(62, 12), swapUsed: B(4, 2), diskUsage: B(65, 12), netIn: B(150, 45), netOut: B(95, 30),
        backCloseWait: B(10, 4), frontCloseWait: B(8, 3), loadAverage: B(5.5, 2))
    static let riskAnalytics = ProfileBaseline(
        cpuUser: B(55, 15), cpuSys: B(8, 3), cpuIowait: B(2, 1), cpuIdle: B(35, 15), javaCpu: B(60, 15),
        memUsed: B(70, 10), swapUsed: B(5, 3), diskUsage: B(50, 10), netIn: B(12, 4), netOut: B(8, 3),
        backCloseWait: B(3, 1), frontCloseWait: B(2, 1), loadAverage: B(8.2, 2.5))
    static let generic = ProfileBaseline(
        cpuUser: B(12, 5), cpuSys: B(4, 2), cpuIowait: B(1, 1), cpuIdle: B(83, 8), javaCpu: B(8, 3),
        memUsed: B(35, 8), swapUsed: B(1, 1), diskUsage: B(30, 8), netIn: B(15, 8), netOut: B(12, 6),
        backCloseWait: B(2, 1), frontCloseWait: B(2, 1), loadAverage: B(1.5, 0.8))
}

/// Twelve simulated channels (idle is derived, uptime is a clock). Used for state multipliers and
/// per-server levels.
struct Channels: Sendable, Equatable {
    var user, sys, iowait, java, mem, swap, disk, netIn, netOut, back, front, load: Double

    static let one = Channels(user: 1, sys: 1, iowait: 1, java: 1, mem: 1, swap: 1, disk: 1, netIn: 1,
                              netOut: 1, back: 1, front: 1, load: 1)

    /// Moves every channel a fraction `alpha` of the way towards `target`.
    mutating func approach(_ target: Channels, alpha: Double) {
        user += (target.user - user) * alpha
        sys += (target.sys - sys) * alpha
        iowait += (target.iowait - iowait) * alpha
        java += (target.java - java) * alpha
        mem += (target.mem - mem) * alpha
        swap += (target.swap - swap) * alpha
        disk += (target.disk - disk) * alpha
        netIn += (target.netIn - netIn) * alpha
        netOut += (target.netOut - netOut) * alpha
        back += (target.back - back) * alpha
        front += (target.front - front) * alpha
        load += (target.load - load) * alpha
    }

    /// State multipliers (research/argus-original.md, Appendix B), with one deliberate change:
    /// `critical_issue` no longer multiplies CPU by 2.5 and iowait by 3.5 across the board — the incident
    /// that caused it drives its own metric (see ``IncidentKind``), the rest only shows collateral stress.
    static func multipliers(_ status: ServerStatus) -> Channels {
        switch status {
        case .healthy: .one
        case .idle: Channels(user: 0.3, sys: 0.5, iowait: 0.2, java: 0.2, mem: 0.8, swap: 0.5, disk: 1,
                             netIn: 0.2, netOut: 0.2, back: 0.3, front: 0.3, load: 0.4)
        case .morningSpike: Channels(user: 1.3, sys: 1.2, iowait: 1.4, java: 1.4, mem: 1.1, swap: 1.2, disk: 1,
                                     netIn: 1.5, netOut: 1.4, back: 1.3, front: 1.3, load: 1.3)
        case .heavyLoad: Channels(user: 1.4, sys: 1.3, iowait: 1.5, java: 1.5, mem: 1.2, swap: 1.3, disk: 1,
                                  netIn: 1.5, netOut: 1.4, back: 1.4, front: 1.4, load: 1.4)
        case .criticalIssue: Channels(user: 1.15, sys: 1.3, iowait: 1.3, java: 1.2, mem: 1.0, swap: 1.0, disk: 1,
                                      netIn: 0.6, netOut: 0.5, back: 2.0, front: 2.0, load: 1.3)
        case .maintenance: Channels(user: 0.3, sys: 0.5, iowait: 0.8, java: 0.2, mem: 0.8, swap: 0.5, disk: 1,
                                    netIn: 0.2, netOut: 0.2, back: 0.2, front: 0.2, load: 0.5)
        case .recovery: Channels(user: 0.8, sys: 0.9, iowait: 1.2, java: 0.7, mem: 1.0, swap: 1.1, disk: 1,
                                 netIn: 0.8, netOut: 0.7, back: 0.9, front: 0.9, load: 0.9)
        case .offline: Channels(user: 0, sys: 0, iowait: 0, java: 0, mem: 0, swap: 0, disk: 1,
                                netIn: 0, netOut: 0, back: 0, front: 0, load: 0)
        }
    }
}

/// Daily and weekly activity curves per profile: a multiplier around 1 applied to CPU, network,
/// connections and load (memory gets a quarter of the swing, iowait the square root).
enum Seasonality {
    /// Activity at `hour` (0 ..< 24, fractional) on `weekday` (Monday = 0).
    static func activity(_ profile: ServerProfile, hour: Double, weekday: Int) -> Double {
        let weekend = weekday >= 5
        func bump(_ center: Double, _ width: Double) -> Double {
            var d = abs(hour - center)
            if d > 12 { d = 24 - d }
            return exp(-0.5 * (d / width) * (d / width))
        }
        var a: Double
        var weekendFactor: Double
        switch profile {
        case .webAPI:  // strong day/night cycle, quiet weekends
            a = 0.6 + 0.6 * bump(13.5, 4.5); weekendFactor = 0.7
        case .database:
            a = 0.8 + 0.4 * bump(13, 4.5) + 0.15 * bump(2, 1.2); weekendFactor = 0.75
        case .mlCompute:  // training jobs run at night
            a = 0.95 + 0.2 * bump(2, 3) + 0.05 * bump(14, 4); weekendFactor = 1.0
        case .riskAnalytics:  // end-of-day risk runs
            a = 0.8 + 0.2 * bump(12, 4) + 0.45 * bump(17.5, 1.5); weekendFactor = 0.65
        case .etlIngest:  // business-hours feeds and a nightly batch
            a = 0.85 + 0.25 * bump(12, 4) + 0.35 * bump(2.5, 1.5); weekendFactor = 0.9
        case .conductor:
            a = 0.85 + 0.3 * bump(12.5, 5); weekendFactor = 0.85
        case .generic:
            a = 0.8 + 0.35 * bump(13, 5); weekendFactor = 0.8
        }
        if weekend { a *= weekendFactor }
        return a
    }
}
