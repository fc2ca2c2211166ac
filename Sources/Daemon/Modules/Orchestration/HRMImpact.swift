import HTTPServer

/// The original's impact formula (`calculate_impact`): a static table of relative changes per knob. Kept
/// as is because it *is* the contract's behaviour; the terms for caching, auto mode and strategy depend on
/// the new config alone.
struct HRMImpact: Sendable, Equatable {
    var cost = 0.0, speed = 0.0, quality = 0.0, tokens = 0.0

    init(current: JSONValue, proposed: JSONValue) {
        func num(_ c: JSONValue, _ s: String, _ k: String) -> Double {
            switch c[s]?[k] { case .int(let v): Double(v); case .double(let v): v; default: 0 }
        }
        if proposed["latent_reasoning"]?["enabled"] == .bool(true) {
            let old = num(current, "latent_reasoning", "dimensionality"), new = num(proposed, "latent_reasoning", "dimensionality")
            if new < old { cost -= 0.15; speed += 0.20; quality -= 0.05; tokens += 0.20 }
            else if new > old { cost += 0.15; speed -= 0.15; quality += 0.08; tokens += 0.10 }
        }
        switch proposed["agent_switching"]?["strategy"]?.stringValue {
        case "cost_optimized": cost -= 0.40; quality -= 0.08; speed += 0.15
        case "quality_first": cost += 0.35; quality += 0.15; speed -= 0.10
        case "speed_optimized": speed += 0.35; cost += 0.10; quality -= 0.05
        default: break
        }
        let workers = num(proposed, "parallel_evaluation", "worker_count") - num(current, "parallel_evaluation", "worker_count")
        if workers > 0 { speed += 0.15 * workers / 4; cost += 0.05 * workers / 4 }
        if proposed["caching"]?["aggressive_mode"] == .bool(true) { speed += 0.25; cost -= 0.10 }
        if proposed["ml_iteration_prediction"]?["mode"]?.stringValue == "auto" { cost -= 0.12; speed += 0.18 }
        func r(_ x: Double) -> Double { (x * 100).rounded() / 100 }
        cost = r(cost); speed = r(speed); quality = r(quality); tokens = r(tokens)
    }

    var json: JSONValue {
        .object([("cost_change", .double(cost)), ("speed_change", .double(speed)), ("quality_change", .double(quality)),
                 ("token_reduction", .double(tokens))])
    }
}
