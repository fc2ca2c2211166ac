import Foundation
import TFTCore

/// An incident in progress on one server.
struct ActiveIncident {
    enum Phase { case ramp, hold, resolve }
    enum Remedy { case restart, cleanup, recover }

    let id: Int
    let kind: IncidentKind
    let startTick: Int
    let rampSteps: Int
    /// Ramp shape: blend weight = progress^shape (1 = linear leak, > 1 = accelerating).
    let shape: Double
    let peak: Double
    let warning: Double
    let critical: Double
    let holdSteps: Int
    let remedy: Remedy
    /// Offline steps at the start of a restart remedy.
    let offlineSteps: Int
    let resolveSteps: Int

    var phase: Phase = .ramp
    var phaseStartTick: Int
    var crossingTick: Int?
    var warned = false
    /// Blend weight of the incident level (0 = normal behaviour, 1 = at peak); also the source severity
    /// that drives cascades.
    var weight: Double = 0
    /// Severity seen by dependents (1 while a restarted source is offline).
    var severity: Double = 0
}

/// A cascade edge in progress.
struct ActiveCascade {
    let id: Int
    let source: Int
    let incidentId: Int
    let dependent: Int
    let effect: CascadeEffect
    let strength: Double
    let onsetTick: Int
    var impact: Double = 0
}

/// Summed cascade impacts on one server for the current tick.
struct CascadeLoad {
    var connection = 0.0, starvation = 0.0, idleResources = 0.0
    var isZero: Bool { connection == 0 && starvation == 0 && idleResources == 0 }
}

/// Mutable per-server state of the simulator.
struct ServerRuntime {
    let index: Int
    let name: String
    let profile: ServerProfile
    let thresholds: ProfileThresholds
    let cores: Double
    var rng: SimulatorRNG

    /// Server-specific mean levels and noise scales (feed units).
    let mean: Channels
    let std: Channels
    let javaRatio: Double
    let busy0: Double
    /// Disk growth, percentage points per day.
    let diskDriftPerDay: Double

    // AR(1) noise states (unit variance).
    var zUser = 0.0, zSys = 0.0, zIow = 0.0, zMem = 0.0, zSwap = 0.0
    var zNetIn = 0.0, zNetOut = 0.0, zBack = 0.0, zFront = 0.0, zLoad = 0.0

    var smoothed = Channels.one
    var diskLevel: Double
    /// Memory after a restart starts low and warms up (caches refill).
    var memWarm = 1.0
    var swapWarm = 1.0
    var bootEpoch: Int64
    var lastDisk: Double

    // State machine.
    var status: ServerStatus = .healthy
    var stateEndTick = 0
    var rebootWhenOnline = false
    var spikeTick = -1
    var maintStartTick = -1
    var maintEndTick = -1
    var maintReboot = false

    var incident: ActiveIncident?
    var cooldownUntil = 0

    init(index: Int, name: String, profile: ServerProfile, seed: UInt64, startEpoch: Int64) {
        self.index = index
        self.name = name
        self.profile = profile
        thresholds = ProfileThresholds.for(profile)
        cores = Double(profile.nominalCores)
        var rng = SimulatorRNG(seed: seed, stream: UInt64(index) &+ 1)
        let b = ProfileBaseline.for(profile)
        func level(_ m: MetricBaseline, _ spread: Double) -> Double {
            max(m.mean * 0.3, m.mean * (1 + spread * rng.normal()))
        }
        let memThreshold = thresholds.memory.warning
        let mean = Channels(
            user: level(b.cpuUser, 0.15), sys: level(b.cpuSys, 0.15), iowait: level(b.cpuIowait, 0.15),
            java: b.javaCpu.mean, mem: min(memThreshold - 8, max(15, b.memUsed.mean + 0.4 * b.memUsed.std * rng.normal())),
            swap: level(b.swapUsed, 0.2), disk: min(thresholds.disk.warning - 8, max(10, b.diskUsage.mean + b.diskUsage.std * rng.normal())),
            netIn: level(b.netIn, 0.2), netOut: level(b.netOut, 0.2), back: level(b.backCloseWait, 0.2),
            front: level(b.frontCloseWait, 0.2), load: level(b.loadAverage, 0.15))
        self.mean = mean
        std = Channels(user: b.cpuUser.std, sys: b.cpuSys.std, iowait: b.cpuIowait.std, java: b.javaCpu.std,
                       mem: b.memUsed.std, swap: b.swapUsed.std, disk: b.diskUsage.std, netIn: b.netIn.std,
                       netOut: b.netOut.std, back: b.backCloseWait.std, front: b.frontCloseWait.std,
                       load: b.loadAverage.std)
        javaRatio = b.javaCpu.mean / b.cpuUser.mean
        busy0 = mean.user + mean.sys + mean.iowait
        switch profile {
        case .database: diskDriftPerDay = 0.3
        case .etlIngest: diskDriftPerDay = 0.4
        case .mlCompute: diskDriftPerDay = 0.15
        default: diskDriftPerDay = 0.08
        }
        diskLevel = mean.disk
        lastDisk = mean.disk
        bootEpoch = startEpoch - Int64(rng.uniform(1, 120) * 86_400)
        zUser = rng.normal(); zSys = rng.normal(); zIow = rng.normal(); zMem = rng.normal()
        zSwap = rng.normal(); zNetIn = rng.normal(); zNetOut = rng.normal(); zLoad = rng.normal()
        self.rng = rng
    }

    /// Typical current value of a metric without an incident (the level an incident ramps away from).
    func typicalLevel(_ metric: ThresholdMetric) -> Double {
        switch metric {
        case .cpu: busy0
        case .memory: mean.mem
        case .iowait: mean.iowait
        case .swap: mean.swap
        case .disk: diskLevel
        case .loadPerCore: mean.load / cores
        }
    }
}

/// Smoothly limits `value` to stay below `limit` (identity well below it). Normal operation never
/// reaches a critical level; only incidents do.
@inline(__always)
func softCap(_ value: Double, limit: Double, band: Double) -> Double {
    let knee = limit - band
    if value <= knee { return value }
    return knee + band * tanh((value - knee) / band)
}

@inline(__always)
func round2(_ x: Double) -> Double { (x * 100).rounded() / 100 }
