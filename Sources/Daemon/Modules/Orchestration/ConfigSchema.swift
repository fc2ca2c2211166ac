import HTTPServer

/// A nested settings document (project configuration, HRM configuration) described once: types, ranges
/// and defaults. ``normalize(_:over:at:into:)`` validates client input, merges it over a base, and emits the
/// complete document in schema order, so stored configs are always whole and valid.
indirect enum ConfigSchema: Sendable {
    case object([(String, ConfigSchema)])
    case bool(Bool)
    case int(ClosedRange<Int>, Int)
    case number(ClosedRange<Double>, Double)
    case string(oneOf: [String]?, String)
    case numbers(ClosedRange<Double>, [Double], maxItems: Int)
    case strings([String], maxItems: Int)
    /// Free-form object, absent by default (`priority.custom_weights`).
    case optionalObject

    /// The document with every default.
    var defaults: JSONValue {
        switch self {
        case .object(let fields):
            return .object(fields.compactMap { key, schema in
                if case .optionalObject = schema { return nil }
                return (key, schema.defaults)
            })
        case .bool(let value): return .bool(value)
        case .int(_, let value): return .int(value)
        case .number(_, let value): return .double(value)
        case .string(_, let value): return .string(value)
        case .numbers(_, let values, _): return .array(values.map(JSONValue.double))
        case .strings(let values, _): return .array(values.map(JSONValue.string))
        case .optionalObject: return .null
        }
    }

    /// `input` (a client's partial document) validated and merged over `base` (already valid; defaults when nil).
    func normalize(_ input: JSONValue?, over base: JSONValue?, at loc: [Loc], into validator: inout Validator) -> JSONValue {
        let base = base ?? defaults
        guard let input, !input.isNull else { return base }
        switch self {
        case .object(let fields):
            guard input.members != nil else {
                validator.fail(loc, "value is not a valid dict", "type_error.dict")
                return base
            }
            validator.rejectUnknown(input, loc, allowed: fields.map(\.0))
            var out: [(String, JSONValue)] = []
            for (key, schema) in fields {
                let value = schema.normalize(input[key], over: base[key], at: loc + [.key(key)], into: &validator)
                if case .optionalObject = schema, value.isNull { continue }
                out.append((key, value))
            }
            return .object(out)
        case .bool:
            return validator.bool(input, loc).map(JSONValue.bool) ?? base
        case .int(let range, _):
            return validator.int(input, loc, range: range).map(JSONValue.int) ?? base
        case .number(let range, _):
            return validator.number(input, loc, range: range).map(JSONValue.double) ?? base
        case .string(let oneOf, _):
            return validator.string(input, loc, minLength: 1, maxLength: 100, oneOf: oneOf).map(JSONValue.string) ?? base
        case .strings(_, let maxItems):
            return validator.strings(input, loc, maxItems: maxItems, maxLength: 100).map { .array($0.map(JSONValue.string)) } ?? base
        case .numbers(let range, _, let maxItems):
            guard case .array(let items) = input else { validator.fail(loc, "value is not a valid list", "type_error.list"); return base }
            guard items.count <= maxItems else {
                validator.fail(loc, "ensure this value has at most \(maxItems) items", "value_error.list.max_items"); return base
            }
            let values = items.enumerated().compactMap { index, item in validator.number(item, loc + [.index(index)], required: true, range: range) }
            guard values.count == items.count else { return base }
            guard zip(values, values.dropFirst()).allSatisfy({ $0 < $1 }) else {
                validator.fail(loc, "values must be strictly increasing", "value_error.list.order"); return base
            }
            return .array(values.map(JSONValue.double))
        case .optionalObject:
            guard input.members != nil else { validator.fail(loc, "value is not a valid dict", "type_error.dict"); return base }
            return input
        }
    }
}

/// `ProjectConfiguration` (spec §9.2) with the original's defaults.
enum ProjectConfigSchema {
    static let schema: ConfigSchema = .object([
        ("priority", .object([("mode", .string(oneOf: ["balanced", "speed", "quality", "cost"], "balanced")),
                              ("custom_weights", .optionalObject)])),
        ("timeframe", .object([("max_minutes", .int(1...1_440, 30)),
                               ("preset", .string(oneOf: ["quick", "standard", "thorough", "custom"], "standard"))])),
        ("risk_tolerance", .object([("level", .int(0...100, 50)), ("allow_experimental", .bool(false)),
                                    ("ml_features_enabled", .bool(true))])),
        ("deployment", .object([("targets", .strings(["windows"], maxItems: 10)), ("docker_enabled", .bool(false)),
                                ("kubernetes_enabled", .bool(false))])),
        ("ml_components", .object([("adaptive_iterations", .bool(true)), ("quality_weight_learning", .bool(true)),
                                   ("latent_reasoning", .bool(true)), ("agent_switching", .bool(true)),
                                   ("inference_time_scaling", .bool(true))])),
    ])
}

/// `HRMConfig` (spec §9.4): ranges from the spec's comments, defaults from its §6.1 example.
enum HRMConfigSchema {
    static let strategies = ["cost_optimized", "quality_first", "speed_optimized", "adaptive", "round_robin", "manual"]
    static let schema: ConfigSchema = .object([
        ("latent_reasoning", .object([("enabled", .bool(true)), ("dimensionality", .int(128...1_024, 512)),
                                      ("compression_ratio_target", .number(1...10, 3.8)), ("auto_adjust", .bool(false))])),
        ("ml_iteration_prediction", .object([("mode", .string(oneOf: ["auto", "manual", "fixed"], "auto")),
                                             ("max_iterations", .int(2...20, 7)), ("confidence_threshold", .number(0...1, 0.8))])),
        ("agent_switching", .object([("strategy", .string(oneOf: strategies, "adaptive")),
                                     ("quality_drop_threshold", .number(0...1, 0.2)), ("cost_ceiling", .number(0...1_000_000, 5)),
                                     ("max_switches_per_task", .int(0...10, 3))])),
        ("deep_supervision", .object([("enabled", .bool(true)), ("checkpoints", .numbers(0.01...1, [0.33, 0.66, 1.0], maxItems: 10)),
                                      ("quality_gate_threshold", .number(0...1, 0.75))])),
        ("parallel_evaluation", .object([("enabled", .bool(true)), ("worker_count", .int(1...16, 4)),
                                         ("timeout_seconds", .int(10...300, 60))])),
        ("caching", .object([("memory", .bool(true)), ("disk", .bool(true)), ("remote", .bool(false)),
                             ("aggressive_mode", .bool(true)), ("max_size_mb", .int(100...5_000, 500))])),
        ("bayesian_optimization", .object([("enabled", .bool(false)), ("iterations", .int(10...100, 30))])),
        ("rl_refinement", .object([("enabled", .bool(true)), ("epsilon", .number(0...1, 0.1)),
                                   ("learning_rate", .number(0.0001...0.1, 0.001))])),
        ("prometheus_metrics", .object([("enabled", .bool(true)), ("export_interval", .int(5...60, 15))])),
        ("multi_repo", .object([("enabled", .bool(true))])),
    ])

    /// Typed view of the knobs the task runner obeys.
    struct Knobs: Sendable {
        var latentEnabled: Bool
        var compression: Double
        var dimensionality: Int
        var maxIterations: Int
        var strategy: String
        var qualityDropThreshold: Double
        var costCeiling: Double
        var maxSwitches: Int
        var supervisionEnabled: Bool
        var checkpoints: [Double]
        var qualityGate: Double
        var rlEnabled: Bool
        var workerCount: Int

        init(_ config: JSONValue) {
            func num(_ section: String, _ key: String) -> Double {
                switch config[section]?[key] {
                case .int(let v): Double(v)
                case .double(let v): v
                default: 0
                }
            }
            func flag(_ section: String, _ key: String) -> Bool { config[section]?[key] == .bool(true) }
            latentEnabled = flag("latent_reasoning", "enabled")
            compression = max(1, num("latent_reasoning", "compression_ratio_target"))
            dimensionality = Int(num("latent_reasoning", "dimensionality"))
            maxIterations = max(1, Int(num("ml_iteration_prediction", "max_iterations")))
            strategy = config["agent_switching"]?["strategy"]?.stringValue ?? "adaptive"
            qualityDropThreshold = num("agent_switching", "quality_drop_threshold")
            costCeiling = num("agent_switching", "cost_ceiling")
            maxSwitches = Int(num("agent_switching", "max_switches_per_task"))
            supervisionEnabled = flag("deep_supervision", "enabled")
            if case .array(let items) = config["deep_supervision"]?["checkpoints"] {
                checkpoints = items.compactMap { if case .double(let v) = $0 { v } else if case .int(let v) = $0 { Double(v) } else { nil } }
            } else { checkpoints = [] }
            qualityGate = num("deep_supervision", "quality_gate_threshold")
            rlEnabled = flag("rl_refinement", "enabled")
            workerCount = Int(num("parallel_evaluation", "worker_count"))
        }
    }
}
