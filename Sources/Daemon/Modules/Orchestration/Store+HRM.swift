import HTTPServer

/// HRM configurations (per project, optionally per task), their history, and presets.
extension OrchestrationStore {
    struct StoredConfig: Sendable {
        var id: String
        var config: JSONValue
        var presetName: String?
        var updatedAt: Double
        var updatedBy: String
    }

    func hrmConfig(projectID: String, taskID: String?) throws -> StoredConfig? {
        try db.read { c in
            try c.query("SELECT id, config, preset_name, updated_at, updated_by FROM hrm_configs WHERE project_id = ? AND COALESCE(task_id, '') = ?",
                        [.text(projectID), .text(taskID ?? "")]) { s in
                StoredConfig(id: s.string(0) ?? "", config: Self.document(s.string(1)), presetName: s.string(2),
                             updatedAt: s.double(3), updatedBy: s.string(4) ?? "")
            }.first
        }
    }

    func hrmConfigExists(_ id: String) throws -> Bool {
        try db.read { try $0.scalar("SELECT 1 FROM hrm_configs WHERE id = ?", [.text(id)]) != nil }
    }

    /// Upserts the config for (project, task) and appends a history entry, in one transaction.
    func saveHRMConfig(projectID: String, taskID: String?, config: JSONValue, presetName: String?, changeType: String?,
                       impact: HRMImpact, changedBy: String) throws -> String {
        let now = now()
        return try db.writeTransaction { c in
            let existing = try c.query("SELECT id, config FROM hrm_configs WHERE project_id = ? AND COALESCE(task_id, '') = ?",
                                       [.text(projectID), .text(taskID ?? "")]) { ($0.string(0) ?? "", $0.string(1)) }.first
            let id = existing?.0 ?? Self.newID()
            if existing != nil {
                try c.run("UPDATE hrm_configs SET config = ?, preset_name = ?, updated_by = ?, updated_at = ? WHERE id = ?",
                          [.text(Self.text(config)), SQLiteValue(presetName), .text(changedBy), .real(now), .text(id)])
            } else {
                try c.run("INSERT INTO hrm_configs (id, project_id, task_id, config, preset_name, updated_by, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
                          [.text(id), .text(projectID), SQLiteValue(taskID), .text(Self.text(config)), SQLiteValue(presetName),
                           .text(changedBy), .real(now), .real(now)])
            }
            try c.run("INSERT INTO hrm_config_history (id, config_id, changed_by, change_type, old_config, new_config, impact, created_at) VALUES (?,?,?,?,?,?,?,?)",
                      [.text(Self.newID()), .text(id), .text(changedBy), .text(changeType ?? (existing == nil ? "create" : "update")),
                       SQLiteValue(existing?.1), .text(Self.text(config)), .text(Self.text(impact.json)), .real(now)])
            return id
        }
    }

    func hrmHistory(configID: String, limit: Int) throws -> [JSONValue] {
        try db.read { c in
            try c.query("""
                SELECT id, changed_by, change_type, old_config, new_config, impact, created_at FROM hrm_config_history
                WHERE config_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?
                """, [.text(configID), .integer(Int64(limit))]) { s in
                .object([("id", .string(s.string(0) ?? "")), ("changed_by", .string(s.string(1) ?? "")),
                         ("change_type", .string(s.string(2) ?? "")), ("old_config", Self.document(s.string(3))),
                         ("new_config", Self.document(s.string(4))), ("impact_metrics", Self.document(s.string(5))),
                         ("created_at", Self.iso(s.double(6)))])
            }
        }
    }

    // MARK: Presets

    struct Preset: Sendable {
        var id: String, name: String, description: String, icon: String, color: String, visibility: String
        var builtin: Bool
        var config: JSONValue
    }

    /// Inserts the four built-in presets if missing (idempotent; runs at every start).
    func seedBuiltinPresets(_ presets: [Preset]) throws {
        let now = now()
        try db.writeTransaction { c in
            for p in presets {
                try c.run("""
                    INSERT OR IGNORE INTO hrm_presets (id, name, description, icon, color, visibility, builtin, config, created_at, updated_at)
                    VALUES (?,?,?,?,?,?,1,?,?,?)
                    """, [.text(p.id), .text(p.name), .text(p.description), .text(p.icon), .text(p.color), .text(p.visibility),
                          .text(Self.text(p.config)), .real(now), .real(now)])
            }
        }
    }

    /// Presets with usage statistics computed from the tasks that ran under them.
    func presets() throws -> [JSONValue] {
        try db.read { c in
            try c.query("""
                SELECT p.id, p.name, p.description, p.icon, p.color, p.builtin, p.config, p.visibility, p.usage_count, p.last_used_at,
                  (SELECT AVG(final_quality) FROM tasks t WHERE t.preset_id = p.id AND t.status = 'completed'),
                  (SELECT AVG(actual_cost) FROM tasks t WHERE t.preset_id = p.id AND t.status IN ('completed', 'failed')),
                  (SELECT AVG(duration_seconds) FROM tasks t WHERE t.preset_id = p.id AND t.status IN ('completed', 'failed')),
                  (SELECT COUNT(*) FROM tasks t WHERE t.preset_id = p.id)
                FROM hrm_presets p ORDER BY p.builtin DESC, p.created_at, p.name
                """) { s in
                .object([("id", .string(s.string(0) ?? "")), ("name", .string(s.string(1) ?? "")),
                         ("description", .string(s.string(2) ?? "")), ("icon", .string(s.string(3) ?? "")),
                         ("color", .string(s.string(4) ?? "")), ("builtin", .bool(s.int64(5) != 0)), ("config", Self.document(s.string(6))),
                         ("usage_stats", .object([("usage_count", .int(Int(s.int64(8)))), ("avg_quality", Self.round(s.optionalDouble(10), 3)),
                                                  ("avg_cost", Self.round(s.optionalDouble(11))), ("avg_duration", Self.round(s.optionalDouble(12), 6)),
                                                  ("tasks", .int(Int(s.int64(13)))), ("last_used_at", Self.iso(s.optionalDouble(9)))])),
                         ("visibility", .string(s.string(7) ?? ""))])
            }
        }
    }

    func preset(_ id: String) throws -> Preset? {
        try db.read { c in
            try c.query("SELECT id, name, description, icon, color, visibility, builtin, config FROM hrm_presets WHERE id = ?", [.text(id)]) { s in
                Preset(id: s.string(0) ?? "", name: s.string(1) ?? "", description: s.string(2) ?? "", icon: s.string(3) ?? "",
                       color: s.string(4) ?? "", visibility: s.string(5) ?? "", builtin: s.int64(6) != 0, config: Self.document(s.string(7)))
            }.first
        }
    }

    /// Inserts or replaces a custom preset; 400 on a duplicate name (the original's rule).
    func savePreset(_ p: Preset, isNew: Bool) throws {
        let now = now()
        try db.writeTransaction { c in
            if try c.scalar("SELECT 1 FROM hrm_presets WHERE name = ? AND id != ?", [.text(p.name), .text(p.id)]) != nil {
                throw HTTPError(.badRequest, "A preset named '\(p.name)' already exists")
            }
            if isNew {
                try c.run("INSERT INTO hrm_presets (id, name, description, icon, color, visibility, builtin, config, created_at, updated_at) VALUES (?,?,?,?,?,?,0,?,?,?)",
                          [.text(p.id), .text(p.name), .text(p.description), .text(p.icon), .text(p.color), .text(p.visibility),
                           .text(Self.text(p.config)), .real(now), .real(now)])
            } else {
                try c.run("UPDATE hrm_presets SET name = ?, description = ?, icon = ?, color = ?, visibility = ?, config = ?, updated_at = ? WHERE id = ?",
                          [.text(p.name), .text(p.description), .text(p.icon), .text(p.color), .text(p.visibility),
                           .text(Self.text(p.config)), .real(now), .text(p.id)])
            }
        }
    }

    func deletePreset(_ id: String) throws {
        try db.write { c in try c.run("DELETE FROM hrm_presets WHERE id = ? AND builtin = 0", [.text(id)]) }
    }

    func markPresetUsed(_ id: String) throws {
        try db.write { c in try c.run("UPDATE hrm_presets SET usage_count = usage_count + 1, last_used_at = ? WHERE id = ?", [.real(now()), .text(id)]) }
    }

    func presetID(named name: String) throws -> String? {
        try db.read { try $0.scalar("SELECT id FROM hrm_presets WHERE name = ?", [.text(name)])?.string }
    }
}
