import Foundation
import TFTCore

/// Collects feed samples (any order, any rate) and puts them on the model's step grid: every sample
/// lands in the step `floor(epoch / step)`; several samples in a step are averaged (status: the last one
/// seen). Gaps of up to ``maxFillGap`` steps are forward-filled; a longer gap splits the server's history
/// into separate series (a window never spans hours of invented data), as the daemon's ring buffer does.
public struct SeriesAccumulator {
    public let spec: FeatureSpec
    public var maxFillGap: Int
    struct Server {
        var profile: ServerProfile
        var steps: [Int64: Int] = [:]          // step → slot
        var sums: [Float] = []                 // slot * 14 + metric
        var counts: [Int32] = []
        var status: [UInt8] = []
        var stepOf: [Int64] = []
    }
    private var servers: [String: Server] = [:]
    private var order: [String] = []
    public private(set) var samples = 0

    public init(spec: FeatureSpec, maxFillGap: Int = 12) {
        self.spec = spec
        self.maxFillGap = maxFillGap
    }

    /// Adds one sample: the 14 feed metrics in ``FeedMetric`` order (`NaN` = not reported).
    public mutating func add(server: String, profile: ServerProfile?, epoch: Int64, feed: [Float], status: ServerStatus) {
        precondition(feed.count == FeedMetric.count)
        let step = Int64((Double(epoch) / Double(spec.stepSeconds)).rounded(.down))
        if servers[server] == nil {
            servers[server] = Server(profile: profile ?? ServerProfile.infer(serverName: server))
            order.append(server)
        }
        samples += 1
        servers[server]!.add(step: step, feed: feed, status: UInt8(status.index))
    }

    /// Adds a simulator record.
    public mutating func add(_ r: FleetRecord, epoch: Int64? = nil) {
        guard let epoch = epoch ?? FleetTimestamp.parse(r.timestamp) else { return }
        add(server: r.serverName, profile: r.profile, epoch: epoch, feed: Self.feedValues(r), status: r.status)
    }

    public static func feedValues(_ r: FleetRecord) -> [Float] {
        [r.cpuUserPct, r.cpuSysPct, r.cpuIowaitPct, r.cpuIdlePct, r.javaCpuPct, r.memUsedPct, r.swapUsedPct,
         r.diskUsagePct, r.netInMBs, r.netOutMBs, Double(r.backCloseWait), Double(r.frontCloseWait), r.loadAverage,
         Double(r.uptimeDays)].map { Float($0) }
    }

    public var serverCount: Int { order.count }

    /// The series, one or more per server (split at long gaps), in first-seen server order.
    public func build() -> [ServerSeries] {
        var out: [ServerSeries] = []
        let sources = spec.metricSources
        for name in order {
            let s = servers[name]!
            let sortedSteps = s.steps.keys.sorted()
            var segments: [[Int64]] = []
            var current: [Int64] = []
            for st in sortedSteps {
                if let last = current.last, st - last - 1 > Int64(maxFillGap) { segments.append(current); current = [] }
                current.append(st)
            }
            if !current.isEmpty { segments.append(current) }
            for seg in segments {
                let first = seg.first!, n = Int(seg.last! - first) + 1
                var values = [Float](repeating: 0, count: sources.count * n)
                var status = [UInt8](repeating: 0, count: n)
                var lastFeed = [Float](repeating: .nan, count: FeedMetric.count)
                var lastStatus: UInt8 = 0
                // First observed value of each field, for leading NaNs.
                var firstFeed = [Float](repeating: 0, count: FeedMetric.count)
                for f in 0..<FeedMetric.count {
                    for st in seg { let slot = s.steps[st]!; if s.counts[slot * FeedMetric.count + f] > 0 { firstFeed[f] = s.sums[slot * FeedMetric.count + f] / Float(s.counts[slot * FeedMetric.count + f]); break } }
                }
                var si = 0
                for i in 0..<n {
                    let st = first + Int64(i)
                    if si < seg.count, seg[si] == st {
                        let slot = s.steps[st]!
                        for f in 0..<FeedMetric.count {
                            let c = s.counts[slot * FeedMetric.count + f]
                            if c > 0 { lastFeed[f] = s.sums[slot * FeedMetric.count + f] / Float(c) }
                        }
                        lastStatus = s.status[slot]
                        si += 1
                    }
                    for (m, src) in sources.enumerated() {
                        var x = lastFeed[src.feed]
                        if !x.isFinite { x = firstFeed[src.feed] }
                        values[m * n + i] = src.complement ? 100 - x : x
                    }
                    status[i] = lastStatus
                }
                out.append(ServerSeries(name: name, profile: s.profile, startEpoch: first * Int64(spec.stepSeconds),
                                        stepSeconds: spec.stepSeconds, count: n, values: values, status: status))
            }
        }
        return out
    }
}

extension SeriesAccumulator.Server {
    mutating func add(step: Int64, feed: [Float], status st: UInt8) {
        let F = FeedMetric.count
        let slot: Int
        if let existing = steps[step] { slot = existing } else {
            slot = counts.count / F
            steps[step] = slot
            sums.append(contentsOf: repeatElement(0, count: F))
            counts.append(contentsOf: repeatElement(0, count: F))
            status.append(0)
            stepOf.append(step)
        }
        for f in 0..<F where feed[f].isFinite {
            sums[slot * F + f] += feed[f]
            counts[slot * F + f] += 1
        }
        status[slot] = st
    }
}
