import Foundation
import HTTPServer
import Training

/// `GET /predictions/calibration`: the per-server band calibration (``BandCalibrationStore``), fleet
/// summary per target, or one server's factors with `?server=`.
struct CalibrationRoutes: Sendable {
    let daemon: ArgusDaemon

    func addRoutes(to group: RouterGroup<BasicRequestContext>) {
        group.get("calibration", execution: .eventLoop, docs: OpenAPIOperation(
            summary: "Online calibration: per target, forecasts scored against what happened, share inside the raw and the served P10–P90 band, width factors, and per horizon the served median's anchor (last_value, fast_level, level, slow_level, running_median, damped_trend) and the share α of the model's departure from the last value it keeps, the band served (chosen_median: its own, or union: spanning the same band around the model's median, whichever scored the lower interval score over about a day), the model the factors fit (a swap hands the served width over), and the live skill: per horizon the served median's error over about the last day relative to the last value's (below 1: it beats persistence; 1: persistence is served), and the model alone's",
            tags: ["predictions"],
            queryParameters: [OpenAPIParameter(query: "server", description: "One server's own calibration")],
            responses: [404: .init("Unknown server")])
        ) { [daemon] request, _ in
            guard let store = daemon.calibration else {
                return .json(bytes: Array(#"{"enabled":false}"#.utf8))
            }
            guard let name = request.query["server"] else {
                var w = JSONWriter(capacity: 512)
                daemon.writeCalibrationSummary(&w)
                return .json(bytes: w.bytes)
            }
            guard let targets = store.calibration(server: name) else {
                throw HTTPError(.notFound, "No calibration for server \(name) (unknown, or not forecast yet)")
            }
            let keys = daemon.forecastKeys
            var w = JSONWriter(capacity: 512)
            w.raw("{\"server\":"); w.string(name)
            w.raw(",\"horizons\":"); Self.writeInts(&w, BandCalibration.reportedHorizons)
            w.raw(",\"targets\":{")
            for (i, target) in targets.keys.sorted().enumerated() {
                let c = targets[target]!
                if i > 0 { w.raw(",") }
                w.string(target)
                w.raw(":"); Self.writeCounts(&w, scored: c.scored, raw: c.insideRaw, served: c.insideServed)
                w.raw(",\"forecast_key\":"); w.string(keys[target] ?? target)
                w.raw(",\"factors\":"); Self.writeFactors(&w, c.factors)
                w.raw(",\"shrink_alphas\":"); Self.writeFactors(&w, c.shrinkAlphas)
                w.raw(",\"median_anchors\":[")
                for (h, anchor) in c.medianAnchors.enumerated() { if h > 0 { w.raw(",") }; w.string(anchor.name) }
                w.raw("],\"served_bands\":[")
                for (h, band) in c.servedBands.enumerated() { if h > 0 { w.raw(",") }; w.string(band) }
                w.raw("]")
                w.raw(",\"model\":"); if let model = c.model { w.string(model) } else { w.null() }
                w.raw(",\"error_vs_last_value\":"); Self.writeOptionals(&w, c.errorVsLastValue)
                w.raw(",\"model_error_vs_last_value\":"); Self.writeOptionals(&w, c.modelErrorVsLastValue)
                w.raw("}")
            }
            w.raw("}}")
            return .json(bytes: w.bytes)
        }
    }

    static func writeInts(_ w: inout JSONWriter, _ values: [Int]) {
        w.raw("["); for (i, v) in values.enumerated() { if i > 0 { w.raw(",") }; w.int(v) }; w.raw("]")
    }

    static func writeFactors(_ w: inout JSONWriter, _ values: [Float]) {
        w.raw("["); for (i, v) in values.enumerated() { if i > 0 { w.raw(",") }; w.number(Double(v), decimals: 3) }; w.raw("]")
    }

    /// Numbers per horizon, null where there is none yet.
    static func writeOptionals(_ w: inout JSONWriter, _ values: [Float?]) {
        w.raw("[")
        for (i, v) in values.enumerated() {
            if i > 0 { w.raw(",") }
            if let v { w.number(Double(v), decimals: 3) } else { w.null() }
        }
        w.raw("]")
    }

    /// Opens an object with the counts and coverages (the caller closes it).
    static func writeCounts(_ w: inout JSONWriter, scored: Int, raw: Int, served: Int) {
        w.raw("{\"scored\":"); w.int(scored)
        w.raw(",\"coverage_raw\":"); if scored > 0 { w.number(Double(raw) / Double(scored), decimals: 3) } else { w.null() }
        w.raw(",\"coverage_served\":"); if scored > 0 { w.number(Double(served) / Double(scored), decimals: 3) } else { w.null() }
    }
}

extension ArgusDaemon {
    /// The served model's target names → their keys in `/predictions` forecasts (`mem_used_pct` → `mem_pct`).
    var forecastKeys: [String: String] { models.current.map { TargetMapping(spec: $0.spec).apiKey } ?? [:] }

    /// The fleet's calibration per target (`/status` → `band_calibration`, `/predictions/calibration`).
    func writeCalibrationSummary(_ w: inout JSONWriter) {
        guard let calibration else { w.raw("{\"enabled\":false}"); return }
        w.raw("{\"enabled\":true,\"median_shrinkage\":"); w.bool(calibration.shrinkMedian)
        w.raw(",\"nominal_coverage\":"); w.number(Double(BandCalibration.targetCoverage), decimals: 2)
        w.raw(",\"horizons\":"); CalibrationRoutes.writeInts(&w, BandCalibration.reportedHorizons)
        w.raw(",\"last_tick_ms\":"); if let s = engine.latest { w.number(s.timings.calibration, decimals: 2) } else { w.null() }
        w.raw(",\"targets\":{")
        let keys = forecastKeys
        for (i, t) in calibration.summary().enumerated() {
            if i > 0 { w.raw(",") }
            w.string(t.target); w.raw(":")
            CalibrationRoutes.writeCounts(&w, scored: t.scored, raw: t.insideRaw, served: t.insideServed)
            w.raw(",\"forecast_key\":"); w.string(keys[t.target] ?? t.target)
            w.raw(",\"servers\":"); w.int(t.servers)
            w.raw(",\"median_factors\":"); CalibrationRoutes.writeFactors(&w, t.medianFactors)
            w.raw(",\"median_error_vs_last_value\":"); CalibrationRoutes.writeOptionals(&w, t.medianErrorVsLastValue)
            w.raw(",\"share_beating_last_value\":"); CalibrationRoutes.writeOptionals(&w, t.shareBeatingLastValue)
            w.raw("}")
        }
        w.raw("}}")
    }
}
