import Foundation
import TFTCore

/// A deterministic simulated fleet: server metrics with daily and weekly seasonality, a per-server state
/// machine over the eight feed statuses, slow-burn incidents with a forecastable lead time, and cascades
/// from sick databases/conductors/ETL servers to the servers that depend on them.
///
/// Stream it tick by tick (each tick yields one record per server) or generate everything at once:
/// ```swift
/// var sim = try FleetSimulator(config: FleetSimulatorConfig(servers: 45, days: 14, seed: 1))
/// while let tick = sim.next() { feed(tick.records) }
/// let truth = sim.groundTruth            // incidents and cascades, for scoring
/// ```
/// The same config (including the seed) always yields the same records and ground truth.
public struct FleetSimulator: Sequence, IteratorProtocol, Sendable {
    public let config: FleetSimulatorConfig
    /// The fleet: names, profiles, dependencies.
    public let servers: [SimulatedServer]
    /// Number of ticks, `nil` when the stream is endless.
    public let totalSteps: Int?

    var runtimes: [ServerRuntime]
    private let dependents: [[Int]]
    private var tick = 0
    private var currentDay: Int64 = .min
    private var fleetRNG: SimulatorRNG
    private var cascades: [ActiveCascade] = []
    private var incidentLog: [IncidentTruth] = []
    private var cascadeLog: [CascadeTruth] = []
    private var finished = false
    private var loads: [CascadeLoad]

    // Per-step constants.
    private let step: Double
    private let stateAlpha: Double
    private let cascadeAlpha: Double
    private let phiCPU, phiMem, phiSwap, phiNet, phiConn, phiLoad: Double
    private let incidentProbability: Double

    /// Creates a simulator; throws when the config is invalid.
    public init(config: FleetSimulatorConfig) throws {
        try config.validate()
        self.config = config
        totalSteps = config.totalSteps
        let names = config.serverNames ?? FleetLayout.serverNames(total: config.servers)
        let profiles = names.map { ServerProfile.infer(serverName: $0) }
        let deps = FleetLayout.dependencies(profiles: profiles)
        servers = names.indices.map { i in
            SimulatedServer(name: names[i], profile: profiles[i], dependsOn: deps[i].map { names[$0] })
        }
        var reverse = Array(repeating: [Int](), count: names.count)
        for (i, ds) in deps.enumerated() { for d in ds { reverse[d].append(i) } }
        dependents = reverse
        runtimes = names.indices.map { i in
            ServerRuntime(index: i, name: names[i], profile: profiles[i], seed: config.seed, startEpoch: config.startEpoch)
        }
        fleetRNG = SimulatorRNG(seed: config.seed, stream: 0)
        loads = Array(repeating: CascadeLoad(), count: names.count)
        step = Double(config.stepSeconds)
        stateAlpha = 1 - exp(-step / 600)
        cascadeAlpha = 1 - exp(-step / 900)
        phiCPU = exp(-step / 1_200)
        phiMem = exp(-step / 10_800)
        phiSwap = exp(-step / 21_600)
        phiNet = exp(-step / 900)
        phiConn = exp(-step / 600)
        phiLoad = exp(-step / 900)
        incidentProbability = config.incidentRate * step / 86_400
    }

    /// Ground truth so far: finished incidents and cascades, and those in progress (with `end == nil`).
    /// After the last tick every open incident is closed as `truncated`.
    public var groundTruth: FleetGroundTruth {
        FleetGroundTruth(seed: config.seed, stepSeconds: config.stepSeconds,
                         start: FleetTimestamp.format(config.startEpoch), steps: tick,
                         servers: servers, incidents: incidentLog, cascades: cascadeLog)
    }

    /// Generates every tick of a finite simulation.
    public static func generateAll(config: FleetSimulatorConfig) throws
        -> (records: [FleetRecord], groundTruth: FleetGroundTruth) {
        var sim = try FleetSimulator(config: config)
        guard let total = sim.totalSteps else {
            throw FleetSimulatorError.invalidConfig("generateAll needs a finite number of days")
        }
        var records: [FleetRecord] = []
        records.reserveCapacity(total * sim.servers.count)
        while let t = sim.next() { records.append(contentsOf: t.records) }
        return (records, sim.groundTruth)
    }

    /// The next step's records, or `nil` after the last step.
    public mutating func next() -> FleetTick? {
        if let total = totalSteps, tick >= total {
            if !finished { finish() }
            return nil
        }
        let t = tick
        let epoch = config.startEpoch + Int64(t) * Int64(config.stepSeconds)
        let day = TFTCore_floorDiv(epoch, 86_400)
        let secondOfDay = Int(epoch - day * 86_400)
        let weekday = Int(((day + 3) % 7 + 7) % 7)
        if day != currentDay {
            currentDay = day
            for i in runtimes.indices { planDay(&runtimes[i], dayStart: day * 86_400) }
        }
        let hour = Double(secondOfDay) / 3600
        var activity = [Double](repeating: 1, count: ServerProfile.count)
        for p in ServerProfile.allCases { activity[p.index] = Seasonality.activity(p, hour: hour, weekday: weekday) }
        let stamp = FleetTimestamp.format(epoch)

        updateCascades(t: t, stamp: stamp)

        var records: [FleetRecord] = []
        records.reserveCapacity(runtimes.count)
        for i in runtimes.indices {
            var server = runtimes[i]  // taken out: stepping may read other servers (cascades)
            let record = stepServer(&server, t: t, epoch: epoch, hour: hour, weekday: weekday,
                                    activity: activity[server.profile.index], stamp: stamp, load: loads[i])
            runtimes[i] = server
            if record.status != .offline || config.emitOfflineRecords { records.append(record) }
        }
        tick += 1
        return FleetTick(index: t, epochSeconds: epoch, timestamp: stamp, records: records)
    }

    // MARK: - Daily plan

    private func tickAtOrAfter(_ epoch: Int64) -> Int {
        let delta = epoch - config.startEpoch
        let s = Int64(config.stepSeconds)
        return Int((delta + s - 1) / s)
    }

    /// Morning spike (weekdays, around 08:00) and night maintenance windows for one server and day.
    private func planDay(_ s: inout ServerRuntime, dayStart: Int64) {
        let weekday = Int(((dayStart / 86_400 + 3) % 7 + 7) % 7)
        let spikeChance: Double = switch s.profile {
        case .webAPI: 0.85
        case .database: 0.7
        case .conductor, .riskAnalytics: 0.6
        case .generic: 0.5
        case .etlIngest: 0.3
        case .mlCompute: 0.2
        }
        s.spikeTick = -1
        if weekday < 5, s.rng.chance(spikeChance) {
            s.spikeTick = tickAtOrAfter(dayStart + 27_000 + Int64(s.rng.uniform(0, 3_600)))  // 07:30–08:30
        }
        if s.rng.chance(0.1) {  // ~3 windows a month, 01:00–04:30 start
            let start = dayStart + 3_600 + Int64(s.rng.uniform(0, 12_600))
            s.maintStartTick = tickAtOrAfter(start)
            s.maintEndTick = s.maintStartTick + steps(minutes: s.rng.uniform(30, 120))
            s.maintReboot = s.rng.chance(0.5)
        }
    }

    private func steps(minutes: Double) -> Int { Swift.max(1, Int((minutes * 60 / step).rounded())) }

    private func logUniformSteps(_ rng: inout SimulatorRNG, _ lo: Double, _ hi: Double) -> Int {
        steps(minutes: exp(rng.uniform(log(lo), log(hi))))
    }

    // MARK: - State machine

    /// Next status when the current one has run its course (no incident forcing it).
    private func chooseNormalState(_ s: inout ServerRuntime, t: Int, hour: Double, weekday: Int, allowOffline: Bool) {
        let weekend = weekday >= 5
        let business = !weekend && hour >= 9 && hour < 18
        let night = hour >= 22 || hour < 6
        let heavy: Double, idle: Double, batch: Bool
        switch s.profile {
        case .webAPI: heavy = 0.3; idle = 0.35; batch = false
        case .database: heavy = 0.3; idle = 0.2; batch = false
        case .riskAnalytics: heavy = 0.35; idle = 0.3; batch = false
        case .etlIngest: heavy = 0.25; idle = 0.1; batch = true
        case .mlCompute: heavy = 0.25; idle = 0.1; batch = true
        case .conductor: heavy = 0.2; idle = 0.3; batch = false
        case .generic: heavy = 0.15; idle = 0.35; batch = false
        }
        if allowOffline, s.rng.chance(0.003) {  // crash or network blip: 5–20 min, then a restart
            s.status = .offline
            s.stateEndTick = t + logUniformSteps(&s.rng, 5, 20)
            s.rebootWhenOnline = true
            return
        }
        if business, s.rng.chance(heavy) {
            s.status = .heavyLoad
            s.stateEndTick = t + logUniformSteps(&s.rng, 30, 180)
        } else if night && batch && s.rng.chance(0.3) {
            s.status = .heavyLoad
            s.stateEndTick = t + logUniformSteps(&s.rng, 60, 240)
        } else if (night || weekend), s.rng.chance(idle) {
            s.status = .idle
            s.stateEndTick = t + logUniformSteps(&s.rng, 45, 240)
        } else {
            s.status = .healthy
            s.stateEndTick = t + logUniformSteps(&s.rng, 30, 240)
        }
    }

    /// Advances the status machine of a server without an incident in hold/resolve.
    private func advanceState(_ s: inout ServerRuntime, t: Int, epoch: Int64, hour: Double, weekday: Int) {
        let ramping = s.incident != nil
        switch s.status {
        case .offline:
            if t >= s.stateEndTick {
                if s.rebootWhenOnline { reboot(&s, epoch: epoch) }
                s.status = .recovery
                s.stateEndTick = t + logUniformSteps(&s.rng, 15, 45)
            }
            return
        case .maintenance:
            if t >= s.stateEndTick {
                if s.maintReboot || uptimeDays(s, epoch: epoch) > 300 {
                    s.status = .offline
                    s.stateEndTick = t + logUniformSteps(&s.rng, 5, 12)
                    s.rebootWhenOnline = true
                } else {
                    chooseNormalState(&s, t: t, hour: hour, weekday: weekday, allowOffline: false)
                }
            }
            return
        default:
            break
        }
        if !ramping, t == s.maintStartTick {
            s.status = .maintenance
            s.stateEndTick = Swift.max(t + 1, s.maintEndTick)
        } else if t == s.spikeTick, s.status != .recovery || t >= s.stateEndTick {
            s.status = .morningSpike
            s.stateEndTick = t + logUniformSteps(&s.rng, 45, 120)
        } else if t >= s.stateEndTick {
            chooseNormalState(&s, t: t, hour: hour, weekday: weekday, allowOffline: !ramping)
        }
    }

    private func reboot(_ s: inout ServerRuntime, epoch: Int64) {
        s.bootEpoch = epoch
        s.memWarm = 0.75
        s.swapWarm = 0.2
        s.rebootWhenOnline = false
    }

    private func uptimeDays(_ s: ServerRuntime, epoch: Int64) -> Int {
        Swift.min(365, Swift.max(0, Int((epoch - s.bootEpoch) / 86_400)))
    }

    // MARK: - Incidents

    private mutating func maybeStartIncident(_ s: inout ServerRuntime, t: Int, stamp: String) {
        guard s.incident == nil, t >= s.cooldownUntil, incidentProbability > 0 else { return }
        switch s.status {
        case .healthy, .heavyLoad, .idle, .morningSpike: break
        default: return
        }
        guard s.rng.chance(incidentProbability) else { return }
        // Kind weights per profile: memory, disk, iowait, cpu.
        let w: [Double] = switch s.profile {
        case .database: [0.25, 0.3, 0.35, 0.1]
        case .mlCompute: [0.45, 0.1, 0.1, 0.35]
        case .webAPI: [0.4, 0.15, 0.1, 0.35]
        case .etlIngest: [0.2, 0.4, 0.3, 0.1]
        case .riskAnalytics: [0.35, 0.1, 0.1, 0.45]
        case .conductor: [0.4, 0.2, 0.1, 0.3]
        case .generic: [0.25, 0.25, 0.25, 0.25]
        }
        var u = s.rng.uniform() * w.reduce(0, +)
        var k = 0
        while k < 3, u >= w[k] { u -= w[k]; k += 1 }
        let kind: IncidentKind = [.memoryLeak, .diskFilling, .iowaitClimb, .cpuSaturation][k]
        let levels = s.thresholds[kind.metric]
        let crit = levels.critical
        let peak: Double, shape: Double, rampHours: Double, holdMinutes: Double
        let remedy: ActiveIncident.Remedy
        switch kind {
        case .memoryLeak:
            peak = crit + (100 - crit) * s.rng.uniform(0.5, 0.8); shape = 1
            rampHours = s.rng.uniform(3, 10); holdMinutes = s.rng.uniform(15, 60); remedy = .restart
        case .diskFilling:
            peak = crit + (100 - crit) * s.rng.uniform(0.4, 0.75); shape = 1
            rampHours = s.rng.uniform(6, 20); holdMinutes = s.rng.uniform(20, 90); remedy = .cleanup
        case .iowaitClimb:
            peak = crit * s.rng.uniform(1.15, 1.35); shape = 1.6
            rampHours = s.rng.uniform(2, 5); holdMinutes = s.rng.uniform(15, 45); remedy = .recover
        case .cpuSaturation:
            peak = crit + (100 - crit) * s.rng.uniform(0.5, 0.85); shape = 1.5
            rampHours = s.rng.uniform(2, 5); holdMinutes = s.rng.uniform(15, 60)
            remedy = s.rng.chance(0.3) ? .restart : .recover
        }
        // Guarantee a forecastable lead: the crossing (from the typical level) is ≥ 90 min after the start.
        let start = Swift.min(s.typicalLevel(kind.metric), crit - 5)
        let crossFraction = pow(Swift.max(0.05, (crit - start) / (peak - start)), 1 / shape)
        let minRamp = Int((90 * 60 / crossFraction / step).rounded(.up))
        let rampSteps = Swift.max(2, steps(minutes: rampHours * 60), minRamp)
        let offline = remedy == .restart ? logUniformSteps(&s.rng, 5, 15) : 0
        let resolve = offline + (remedy == .cleanup ? logUniformSteps(&s.rng, 20, 60) : logUniformSteps(&s.rng, 20, 90))
        let id = incidentLog.count
        s.incident = ActiveIncident(id: id, kind: kind, startTick: t, rampSteps: rampSteps, shape: shape, peak: peak,
                                    warning: levels.warning, critical: crit, holdSteps: steps(minutes: holdMinutes),
                                    remedy: remedy, offlineSteps: offline, resolveSteps: resolve, phaseStartTick: t)
        incidentLog.append(IncidentTruth(
            id: id, server: s.name, profile: s.profile, kind: kind, metric: kind.metric,
            feedField: kind.metric.feedField, warningLevel: levels.warning, criticalLevel: crit,
            plannedPeak: round2(peak), rampStart: stamp, rampStartStep: t, resolution: "in_progress",
            observedPeak: 0, cascadeIds: []))
    }

    /// Moves the incident through ramp → hold → resolve and sets the blend weight and status.
    private mutating func advanceIncident(_ s: inout ServerRuntime, t: Int, epoch: Int64, stamp: String) {
        guard var inc = s.incident else { return }
        switch inc.phase {
        case .ramp:
            let progress = Double(t - inc.startTick) / Double(inc.rampSteps)
            if progress >= 1 {
                inc.phase = .hold
                inc.phaseStartTick = t
                inc.weight = 1
            } else {
                inc.weight = pow(Swift.max(0, progress), inc.shape)
            }
        case .hold:
            let holdEnd = inc.crossingTick.map { $0 + inc.holdSteps } ?? (inc.phaseStartTick + 3 * inc.holdSteps)
            if t >= holdEnd {
                inc.phase = .resolve
                inc.phaseStartTick = t
                incidentLog[inc.id].resolvedAt = stamp
                incidentLog[inc.id].resolvedStep = t
                if inc.kind == .diskFilling {
                    s.diskLevel = Swift.min(s.diskLevel, s.mean.disk - s.rng.uniform(0, 5))
                }
            }
        case .resolve:
            break
        }
        if inc.phase == .resolve {
            let i = t - inc.phaseStartTick
            if i >= inc.resolveSteps {
                incidentLog[inc.id].end = stamp
                incidentLog[inc.id].endStep = t
                incidentLog[inc.id].resolution = switch inc.remedy {
                case .restart: "restart"
                case .cleanup: "cleanup"
                case .recover: "recovered"
                }
                s.incident = nil
                s.cooldownUntil = t + steps(minutes: 360)
                s.status = .healthy
                s.stateEndTick = t + logUniformSteps(&s.rng, 30, 180)
                return
            }
            switch inc.remedy {
            case .restart:
                if i < inc.offlineSteps {
                    s.status = .offline
                    inc.weight = 0
                    inc.severity = 1
                } else {
                    if i == inc.offlineSteps { reboot(&s, epoch: epoch) }
                    s.status = .recovery
                    inc.weight = 0
                    inc.severity = 0
                }
            case .cleanup:
                s.status = .maintenance
                inc.weight = Swift.max(0, 1 - Double(i + 1) / Double(inc.resolveSteps))
                inc.severity = inc.weight
            case .recover:
                s.status = .recovery
                inc.weight = exp(-4 * Double(i + 1) / Double(inc.resolveSteps))
                inc.severity = inc.weight
            }
        } else {
            inc.severity = inc.weight
            if inc.crossingTick != nil { s.status = .criticalIssue }
        }
        s.incident = inc
    }

    /// Records warning/critical crossings from the emitted record, spawns cascades at the warning.
    private mutating func observeIncident(_ s: inout ServerRuntime, record: inout FleetRecord, t: Int, stamp: String) {
        guard var inc = s.incident, inc.phase != .resolve else { return }
        let value = record.value(of: inc.kind.metric)
        if value > incidentLog[inc.id].observedPeak { incidentLog[inc.id].observedPeak = round2(value) }
        if !inc.warned, value >= inc.warning {
            inc.warned = true
            incidentLog[inc.id].warningAt = stamp
            incidentLog[inc.id].warningStep = t
            spawnCascades(source: s.index, incident: inc.id, t: t)
        }
        if inc.crossingTick == nil, value >= inc.critical {
            inc.crossingTick = t
            incidentLog[inc.id].criticalAt = stamp
            incidentLog[inc.id].criticalStep = t
            s.status = .criticalIssue
            record.status = .criticalIssue
        }
        s.incident = inc
    }

    // MARK: - Cascades

    private mutating func spawnCascades(source: Int, incident: Int, t: Int) {
        let profile = runtimes[source].profile
        guard [.database, .conductor, .etlIngest].contains(profile), !dependents[source].isEmpty,
              fleetRNG.chance(config.cascadeProbability) else { return }
        for d in dependents[source] {
            let lag = steps(minutes: fleetRNG.uniform(10, 30))
            let id = cascadeLog.count
            let effect = FleetLayout.effect(source: profile, dependent: runtimes[d].profile)
            let strength = fleetRNG.uniform(0.6, 1.0)
            cascades.append(ActiveCascade(id: id, source: source, incidentId: incident, dependent: d, effect: effect,
                                          strength: strength, onsetTick: t + lag))
            let onsetEpoch = config.startEpoch + Int64(t + lag) * Int64(config.stepSeconds)
            cascadeLog.append(CascadeTruth(
                id: id, sourceIncident: incident, source: runtimes[source].name, server: runtimes[d].name,
                profile: runtimes[d].profile, effect: effect, strength: round2(strength),
                onset: FleetTimestamp.format(onsetEpoch), onsetStep: t + lag, peakImpact: 0))
            incidentLog[incident].cascadeIds.append(id)
        }
    }

    /// Moves every cascade's impact towards its source's severity (after the onset lag) and sums the
    /// impacts per dependent server for this tick.
    private mutating func updateCascades(t: Int, stamp: String) {
        for i in loads.indices where !loads[i].isZero { loads[i] = CascadeLoad() }
        guard !cascades.isEmpty else { return }
        var keep: [ActiveCascade] = []
        keep.reserveCapacity(cascades.count)
        for var c in cascades {
            let sourceIncident = runtimes[c.source].incident
            let alive = sourceIncident?.id == c.incidentId
            let severity = alive ? sourceIncident!.severity : 0
            let target = t >= c.onsetTick ? c.strength * severity : 0
            c.impact += (target - c.impact) * cascadeAlpha
            if c.impact >= 0.05, cascadeLog[c.id].startStep == nil {
                cascadeLog[c.id].start = stamp
                cascadeLog[c.id].startStep = t
            }
            if c.impact > cascadeLog[c.id].peakImpact {
                cascadeLog[c.id].peakImpact = round2(c.impact)
                cascadeLog[c.id].peakAt = stamp
                cascadeLog[c.id].peakStep = t
            }
            if !alive, c.impact < 0.02 {
                cascadeLog[c.id].end = stamp
                cascadeLog[c.id].endStep = t
                continue
            }
            switch c.effect {
            case .connectionFailures: loads[c.dependent].connection = Swift.min(1, loads[c.dependent].connection + c.impact)
            case .dataStarvation: loads[c.dependent].starvation = Swift.min(1, loads[c.dependent].starvation + c.impact)
            case .idleResources: loads[c.dependent].idleResources = Swift.min(1, loads[c.dependent].idleResources + c.impact)
            }
            keep.append(c)
        }
        cascades = keep
    }

    private mutating func finish() {
        finished = true
        let lastStep = Swift.max(0, tick - 1)
        let stamp = FleetTimestamp.format(config.startEpoch + Int64(lastStep) * Int64(config.stepSeconds))
        for i in incidentLog.indices where incidentLog[i].end == nil {
            incidentLog[i].end = stamp
            incidentLog[i].endStep = lastStep
            incidentLog[i].resolution = "truncated"
        }
        for i in cascadeLog.indices where cascadeLog[i].end == nil {
            cascadeLog[i].end = stamp
            cascadeLog[i].endStep = lastStep
        }
        cascades.removeAll()
    }

    // MARK: - Metrics

    private mutating func stepServer(_ s: inout ServerRuntime, t: Int, epoch: Int64, hour: Double, weekday: Int,
                                     activity a: Double, stamp: String, load: CascadeLoad) -> FleetRecord {
        // 1. Status: incidents in hold/resolve own it; otherwise the state machine.
        if let inc = s.incident, inc.phase != .ramp {
            advanceIncident(&s, t: t, epoch: epoch, stamp: stamp)
        } else {
            advanceState(&s, t: t, epoch: epoch, hour: hour, weekday: weekday)
            maybeStartIncident(&s, t: t, stamp: stamp)
            if s.incident != nil { advanceIncident(&s, t: t, epoch: epoch, stamp: stamp) }
        }

        // Slow per-server processes advance even while offline.
        let dt = step / 86_400
        s.diskLevel += s.diskDriftPerDay * dt + (s.mean.disk - s.diskLevel) * dt / 5 + 0.03 * s.rng.normal() * (step / 300).squareRoot()
        s.memWarm += (1 - s.memWarm) * (1 - exp(-step / 14_400))
        s.swapWarm += (1 - s.swapWarm) * (1 - exp(-step / 43_200))

        if s.status == .offline {
            s.smoothed = Channels.multipliers(.offline)
            return FleetRecord(timestamp: stamp, serverName: s.name, status: .offline, profile: s.profile,
                               cpuUserPct: 0, cpuSysPct: 0, cpuIowaitPct: 0, cpuIdlePct: 0, javaCpuPct: 0,
                               memUsedPct: 0, swapUsedPct: 0, diskUsagePct: round2(s.lastDisk), netInMBs: 0,
                               netOutMBs: 0, backCloseWait: 0, frontCloseWait: 0, loadAverage: 0, uptimeDays: 0)
        }

        // 2. Normal behaviour: baseline × activity × smoothed state multiplier + AR(1) noise.
        let target = Channels.multipliers(s.status)
        if s.smoothed.user == 0 { s.smoothed = target } else { s.smoothed.approach(target, alpha: stateAlpha) }
        let m = s.smoothed
        var rng = s.rng
        func ar(_ z: inout Double, _ phi: Double) -> Double {
            z = phi * z + (1 - phi * phi).squareRoot() * rng.normal()
            return z
        }
        let aMem = 1 + 0.25 * (a - 1)
        let aIow = a.squareRoot()
        var user = s.mean.user * a * m.user + s.std.user * (0.55 * ar(&s.zUser, phiCPU) + 0.25 * rng.normal())
        var sys = s.mean.sys * a * m.sys + s.std.sys * (0.55 * ar(&s.zSys, phiCPU) + 0.25 * rng.normal())
        var iow = s.mean.iowait * aIow * m.iowait + s.std.iowait * (0.5 * ar(&s.zIow, phiCPU) + 0.2 * rng.normal())
        var mem = s.mean.mem * aMem * m.mem * s.memWarm + s.std.mem * 0.35 * ar(&s.zMem, phiMem)
        var swap = s.mean.swap * m.swap * s.swapWarm + s.std.swap * 0.4 * ar(&s.zSwap, phiSwap)
        var disk = s.diskLevel
        var netIn = s.mean.netIn * a * m.netIn * exp(0.2 * ar(&s.zNetIn, phiNet) + 0.08 * rng.normal() - 0.02)
        var netOut = s.mean.netOut * a * m.netOut * exp(0.2 * ar(&s.zNetOut, phiNet) + 0.08 * rng.normal() - 0.02)
        var back = s.mean.back * a * m.back + s.std.back * 0.6 * ar(&s.zBack, phiConn)
        var front = s.mean.front * a * m.front + s.std.front * 0.6 * ar(&s.zFront, phiConn)
        let zl = ar(&s.zLoad, phiLoad)
        user = Swift.max(0.1, user); sys = Swift.max(0.05, sys); iow = Swift.max(0, iow)

        // 3. Cascade effects on this server (dependents of a sick source).
        var loadFactor = 1.0
        if !load.isZero {
            let c = load.connection, st = load.starvation, ir = load.idleResources
            back += s.mean.back * 2 * c + 15 * c + 5 * st
            front += s.mean.front * 1.5 * c + 10 * c
            iow += 6 * c + 3 * st
            sys *= 1 + 0.4 * c
            netOut *= 1 - 0.3 * c - 0.3 * ir
            user *= 1 - 0.4 * st - 0.6 * ir
            netIn *= 1 - 0.5 * st - 0.5 * ir
            loadFactor = 1 + 0.5 * c - 0.4 * ir
        }

        // 4. Normal operation stays below every critical level.
        let th = s.thresholds
        mem = softCap(Swift.max(1, mem), limit: th.memory.critical - 1.5, band: 5)
        disk = softCap(Swift.max(1, disk), limit: th.disk.critical - 1.5, band: 4)
        iow = softCap(iow, limit: th.iowait.critical - 1.5, band: 5)
        let busyRaw = user + sys + iow
        let busyCapped = softCap(busyRaw, limit: th.cpu.critical - 1.5, band: 10)
        if busyCapped < busyRaw {
            let f = (busyCapped - iow) / Swift.max(0.01, user + sys)
            user *= f; sys *= f
        }

        // 5. Incident overlay: blend the metric towards the incident's level.
        var incidentKind: IncidentKind?
        if let inc = s.incident, inc.weight > 0 {
            incidentKind = inc.kind
            let w = inc.weight
            let jitter = inc.phase == .hold ? 0.15 * (inc.peak - inc.critical) * rng.normal() : 0.1 * rng.normal() * w
            switch inc.kind {
            case .memoryLeak:
                mem = Swift.min(99.95, mem * (1 - w) + inc.peak * w + jitter)
            case .diskFilling:
                disk = Swift.min(99.95, disk * (1 - w) + inc.peak * w + jitter)
            case .iowaitClimb:
                iow = Swift.min(90, iow * (1 - w) + inc.peak * w + jitter)
            case .cpuSaturation:
                let busy = user + sys + iow
                let extra = Swift.min(99.95, busy * (1 - w) + inc.peak * w + jitter) - busy
                user += 0.85 * extra
                sys += 0.15 * extra
            }
        }

        // 6. Derived metrics.
        let memCrit = th.memory.critical
        swap += Swift.max(0, mem - (memCrit - 8)) * 0.9 * th.swap.critical / 8
        if incidentKind != .memoryLeak { swap = softCap(swap, limit: th.swap.critical - 1.5, band: 5) }
        swap = Swift.min(100, Swift.max(0, swap))
        if incidentKind != .cpuSaturation {
            // Threads blocked on I/O burn less CPU: busy (which includes iowait) stays below the CPU cap.
            let raw = user + sys + iow
            let capped = softCap(raw, limit: th.cpu.critical - 1.5, band: 10)
            if capped < raw { let f = Swift.max(0, capped - iow) / (user + sys); user *= f; sys *= f }
        }
        if user + sys + iow > 100 {
            let f = Swift.max(0, 100 - iow) / (user + sys)
            user *= f; sys *= f
        }
        let busy = user + sys + iow
        var loadAvg = s.mean.load * (0.3 + 0.7 * busy / s.busy0) * (1 + 0.08 * zl) * loadFactor
            + s.cores * Swift.max(0, iow - s.mean.iowait) * 0.015
        if incidentKind != .cpuSaturation, incidentKind != .iowaitClimb {
            loadAvg = softCap(loadAvg, limit: (th.loadPerCore.critical - 0.1) * s.cores, band: 0.3 * s.cores)
        }
        let java = Swift.min(100, Swift.max(0, user * s.javaRatio * (m.java / Swift.max(0.05, m.user)) * (1 + 0.05 * rng.normal())))
        s.rng = rng
        s.lastDisk = disk

        // 7. Round in whole hundredths so the four CPU fields sum to exactly 100 (never more).
        var uc = Int((user * 100).rounded()), sc = Int((sys * 100).rounded()), wc = Int((iow * 100).rounded())
        let totalC = uc + sc + wc
        if totalC > 10_000 {
            uc = uc * 10_000 / totalC; sc = sc * 10_000 / totalC; wc = wc * 10_000 / totalC
        }
        let u = Double(uc) / 100, sy = Double(sc) / 100, w = Double(wc) / 100
        let idle = Double(10_000 - uc - sc - wc) / 100
        var record = FleetRecord(
            timestamp: stamp, serverName: s.name, status: s.status, profile: s.profile,
            cpuUserPct: u, cpuSysPct: sy, cpuIowaitPct: w, cpuIdlePct: idle, javaCpuPct: round2(java),
            memUsedPct: round2(Swift.min(100, mem)), swapUsedPct: round2(swap), diskUsagePct: round2(Swift.min(100, disk)),
            netInMBs: round2(Swift.max(0, netIn)), netOutMBs: round2(Swift.max(0, netOut)),
            backCloseWait: Swift.max(0, Int(back.rounded())), frontCloseWait: Swift.max(0, Int(front.rounded())),
            loadAverage: round2(Swift.max(0, loadAvg)), uptimeDays: uptimeDays(s, epoch: epoch))
        observeIncident(&s, record: &record, t: t, stamp: stamp)
        return record
    }
}

@inline(__always)
func TFTCore_floorDiv(_ a: Int64, _ b: Int64) -> Int64 { FleetTimestamp.floorDiv(a, b) }
