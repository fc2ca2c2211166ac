import TFTCore
import Training

extension ExplainEngine {
    struct Scenario {
        var scenario: String
        var recommendation: String
        var changes: [(Int, (Float) -> Float)]
    }

    static func impact(_ before: Double, _ after: Double) -> String {
        let b = (before * 10).rounded() / 10, a = (after * 10).rounded() / 10
        if a < b { return "Risk drops from \(fmt(b)) to \(fmt(a))" }
        if a > b { return "Risk rises from \(fmt(b)) to \(fmt(a))" }
        return "Risk unchanged at \(fmt(b))"
    }

    static func fmt(_ x: Double) -> String {
        let r = (x * 10).rounded() / 10
        return r == r.rounded() ? String(format: "%.1f", r) : String(r)
    }

    /// The fixed what-if scenarios whose metrics this model sees.
    func scenarios(actual s: ExplainSeries, history h: ExplainSeries) -> [Scenario] {
        let name = s.name, Te = s.count
        func last(_ m: Int) -> Float { s.values[m * Te + Te - 1] }
        func fmtv(_ m: Int, _ v: Float) -> String { ExplainVariables.format(Double(v), source: spec.metrics[m].source) }
        var out: [Scenario] = []
        let mem = metricIndex(source: "mem_used_pct"), swap = metricIndex(source: "swap_used_pct")
        let back = metricIndex(source: "back_close_wait"), front = metricIndex(source: "front_close_wait")
        let cpu = metricIndex(source: "cpu_idle_pct"), load = metricIndex(source: "load_average")
        let iowait = metricIndex(source: "cpu_iowait_pct"), disk = metricIndex(source: "disk_usage_pct")
        if let mem {
            out.append(Scenario(scenario: "Reduce memory by 15%",
                                recommendation: "Free memory on \(name): restart or recycle the memory-heaviest process (JVM heap, cache) or move a tenant off; memory \(fmtv(mem, last(mem))) → \(fmtv(mem, last(mem) * 0.85))",
                                changes: [(mem, { $0 * 0.85 })]))
        }
        var restart: [(Int, (Float) -> Float)] = []
        var parts: [String] = []
        if let swap { restart.append((swap, { _ in 0 })); parts.append("swap \(fmtv(swap, last(swap))) → 0%") }
        if let back { restart.append((back, { _ in 0 })); parts.append("backend CLOSE_WAIT \(fmtv(back, last(back))) → 0") }
        if let front { restart.append((front, { _ in 0 })); parts.append("frontend CLOSE_WAIT \(fmtv(front, last(front))) → 0") }
        if let mem {
            // After a restart memory settles near the server's own low level (10th percentile of its history).
            let fresh = Self.quantile(h.values[(mem * h.count)..<((mem + 1) * h.count)], 0.10)
            restart.append((mem, { min($0, fresh) }))
            parts.append("memory → \(fmtv(mem, min(last(mem), fresh)))")
        }
        if !restart.isEmpty {
            out.append(Scenario(scenario: "Restart: reset swap and close-wait",
                                recommendation: "Schedule a controlled restart of the application on \(name) in a quiet window (drain it from the load balancer first): \(parts.joined(separator: ", "))",
                                changes: restart))
        }
        var cpuChanges: [(Int, (Float) -> Float)] = []
        if let cpu { cpuChanges.append((cpu, spec.metrics[cpu].transform == "complement100" ? { $0 * 0.75 } : { 100 - (100 - $0) * 0.75 })) }
        if let load { cpuChanges.append((load, { $0 * 0.75 })) }
        if !cpuChanges.isEmpty {
            out.append(Scenario(scenario: "Reduce CPU load by 25%",
                                recommendation: "Shift 25% of the work off \(name): add a node behind the load balancer, or move batch jobs and cron work off-peak",
                                changes: cpuChanges))
        }
        if let iowait {
            var changes: [(Int, (Float) -> Float)] = [(iowait, { $0 * 0.5 })]
            // CPU busy includes iowait: remove the same points from it.
            if let cpu, spec.metrics[cpu].transform == "complement100" {
                let cut = last(iowait) * 0.5
                changes.append((cpu, { $0 - cut }))
            }
            out.append(Scenario(scenario: "Halve I/O wait",
                                recommendation: "Cut disk I/O on \(name): move backups, compactions and ETL off-peak, or give the volume more IOPS; iowait \(fmtv(iowait, last(iowait))) → \(fmtv(iowait, last(iowait) * 0.5))",
                                changes: changes))
        }
        if let disk {
            out.append(Scenario(scenario: "Free 10% of disk",
                                recommendation: "Free space on \(name): rotate and compress logs, purge temp files and old artifacts, or grow the volume; disk \(fmtv(disk, last(disk))) → \(fmtv(disk, max(0, last(disk) - 10)))",
                                changes: [(disk, { $0 - 10 })]))
        }
        return out
    }

    func counterfactuals(actual: ExplainSeries, history: ExplainSeries, window: ServerWindow, before: ServerRisk,
                         attributions: [Explanation.Attribution], evaluations: inout Int) throws -> [Explanation.Counterfactual] {
        let steps = settings.actionSteps
        let fixed = scenarios(actual: actual, history: history)
        var variants = fixed.map { modified(actual, $0.changes, steps: steps) }

        // Search target: the level below the current one (warning → below 60; degraded → below 50).
        let target: Double? = before.score >= 60 ? 60 : (before.score >= 50 ? 50 : nil)
        let top = attributions.first { $0.contribution > 0 && $0.variable != "status" }
        let topIndex = top.flatMap { t in spec.metrics.firstIndex { $0.name == t.variable } }
        let grid = (1...max(1, settings.searchGrid)).map { Double($0) / 32 }
        if target != nil, let m = topIndex {
            variants += grid.map { r in modified(actual, [(m, { $0 * Float(1 - r) })], steps: steps) }
        }
        let first = try run(variants, window: window)
        evaluations += variants.count
        var out: [Explanation.Counterfactual] = []
        for (i, sc) in fixed.enumerated() {
            let after = first.risks[i]
            out.append(Explanation.Counterfactual(scenario: sc.scenario, impact: Self.impact(before.score, after.score),
                                                  recommendation: sc.recommendation, riskBefore: before.score, riskAfter: after.score,
                                                  levelAfter: after.level, foundBy: "scenario", reduction: nil, metric: nil))
        }
        out.sort { $0.riskAfter < $1.riskAfter }

        guard let target else {
            out.insert(Explanation.Counterfactual(
                scenario: "No change needed", impact: "Risk \(Self.fmt(before.score)) is already below the degraded level (50)",
                recommendation: "No action: keep watching the forecast", riskBefore: before.score, riskAfter: before.score,
                levelAfter: before.level, foundBy: "search", reduction: 0, metric: nil), at: 0)
            return out
        }
        guard let m = topIndex, let top else {
            out.insert(Explanation.Counterfactual(
                scenario: "Search: no metric raises the risk", impact: Self.impact(before.score, before.score),
                recommendation: "The risk does not come from a single metric's recent values; check the forecast bands and the reported status",
                riskBefore: before.score, riskAfter: before.score, levelAfter: before.level, foundBy: "search", reduction: nil, metric: nil), at: 0)
            return out
        }
        let gridRisks = Array(first.risks[fixed.count...])
        let metric = spec.metrics[m]
        let now = Double(actual.values[m * actual.count + actual.count - 1])
        let levelName = target == 60 ? "warning" : "degraded"
        guard let k = gridRisks.firstIndex(where: { $0.score < target }) else {
            let worst = gridRisks.last!
            out.insert(Explanation.Counterfactual(
                scenario: "Search: reduce \(top.feature.lowercased()) (largest contributor) until below \(levelName)",
                impact: "Even a \(Int((grid.last! * 100).rounded()))% reduction leaves risk at \(Self.fmt(worst.score)) (from \(Self.fmt(before.score)))",
                recommendation: "\(top.feature) alone cannot bring \(actual.name) below \(levelName); act on several metrics (see the other scenarios) or on the reported status",
                riskBefore: before.score, riskAfter: worst.score, levelAfter: worst.level, foundBy: "search", reduction: grid.last, metric: metric.name), at: 0)
            return out
        }
        // Refine between the last failing and the first passing reduction.
        var lo = k == 0 ? 0 : grid[k - 1], hi = grid[k], best = gridRisks[k]
        let refine = (1...max(1, settings.searchRefine)).map { lo + (hi - lo) * Double($0) / Double(settings.searchRefine + 1) }
        let second = try run(refine.map { r in modified(actual, [(m, { $0 * Float(1 - r) })], steps: steps) }, window: window)
        evaluations += refine.count
        if let j = second.risks.firstIndex(where: { $0.score < target }) {
            hi = refine[j]; best = second.risks[j]
            lo = j == 0 ? lo : refine[j - 1]
        }
        let pct = Int((hi * 100).rounded(.up))
        let to = now * (1 - hi)
        out.insert(Explanation.Counterfactual(
            scenario: "Reduce \(top.feature.lowercased()) by \(pct)% (smallest change found by search)",
            impact: Self.impact(before.score, best.score),
            recommendation: "Bring \(top.feature.lowercased()) on \(actual.name) from \(ExplainVariables.format(now, source: metric.source)) to at most \(ExplainVariables.format(to, source: metric.source)) and hold it there: that is the smallest reduction of the largest contributor that takes the server below \(levelName) (\(Int(target)))",
            riskBefore: before.score, riskAfter: best.score, levelAfter: best.level, foundBy: "search", reduction: hi, metric: metric.name), at: 0)
        return out
    }
}
