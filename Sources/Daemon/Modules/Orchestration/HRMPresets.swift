import HTTPServer

/// The four built-in presets (seed names; the original's code called the fourth `speed_optimized`). Their
/// configs use the HRMConfig shape of spec §9.4, so applying one yields a valid config.
enum HRMPresets {
    static func builtins() -> [OrchestrationStore.Preset] {
        func config(_ changes: [String: JSONValue]) -> JSONValue {
            var validator = Validator()
            let patch = JSONValue.object(changes.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
            let result = HRMConfigSchema.schema.normalize(patch, over: nil, at: [], into: &validator)
            precondition(validator.issues.isEmpty, "built-in preset invalid: \(validator.issues)")
            return result
        }
        return [
            .init(id: "preset_balanced", name: "balanced", description: "Balanced performance, cost, and quality", icon: "balance-scale",
                  color: "#3b82f6", visibility: "public", builtin: true, config: config([:])),
            .init(id: "preset_cost_optimized", name: "cost_optimized", description: "Minimize cost", icon: "piggy-bank",
                  color: "#10b981", visibility: "public", builtin: true, config: config([
                    "agent_switching": ["strategy": "cost_optimized"],
                    "ml_iteration_prediction": ["max_iterations": 5],
                    "parallel_evaluation": ["worker_count": 2],
                  ])),
            .init(id: "preset_quality_first", name: "quality_first", description: "Maximize quality", icon: "gem",
                  color: "#8b5cf6", visibility: "public", builtin: true, config: config([
                    "latent_reasoning": ["dimensionality": 1024],
                    "agent_switching": ["strategy": "quality_first"],
                    "deep_supervision": ["checkpoints": [0.2, 0.4, 0.6, 0.8, 1.0], "quality_gate_threshold": 0.85],
                    "ml_iteration_prediction": ["max_iterations": 10],
                    "parallel_evaluation": ["worker_count": 5],
                  ])),
            .init(id: "preset_speed", name: "speed", description: "Maximize speed", icon: "bolt",
                  color: "#f59e0b", visibility: "public", builtin: true, config: config([
                    "latent_reasoning": ["dimensionality": 256],
                    "agent_switching": ["strategy": "speed_optimized"],
                    "ml_iteration_prediction": ["max_iterations": 4],
                    "parallel_evaluation": ["worker_count": 8],
                  ])),
        ]
    }
}

/// Which HRM config applies: the task's, else its project's, else the built-in `balanced` preset.
extension OrchestrationStore {
    struct EffectiveConfig: Sendable {
        var configID: String?
        var config: JSONValue
        var presetName: String?
        var presetID: String?
        var updatedAt: Double?
        var updatedBy: String?
    }

    func effectiveHRMConfig(projectID: String?, taskID: String?) throws -> EffectiveConfig {
        if let projectID {
            if let taskID, let stored = try hrmConfig(projectID: projectID, taskID: taskID) { return try effective(stored) }
            if let stored = try hrmConfig(projectID: projectID, taskID: nil) { return try effective(stored) }
        }
        let balanced = try preset("preset_balanced")
        return EffectiveConfig(configID: nil, config: balanced?.config ?? HRMConfigSchema.schema.defaults, presetName: "balanced",
                               presetID: "preset_balanced", updatedAt: nil, updatedBy: nil)
    }

    private func effective(_ stored: StoredConfig) throws -> EffectiveConfig {
        EffectiveConfig(configID: stored.id, config: stored.config, presetName: stored.presetName,
                        presetID: try stored.presetName.flatMap { try presetID(named: $0) }, updatedAt: stored.updatedAt,
                        updatedBy: stored.updatedBy)
    }
}
