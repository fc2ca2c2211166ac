import HTTPServer

/// Projects (spec §2): at most three, one per slot Projekt-A/B/C; statistics computed from their tasks.
extension OrchestrationStore {
    static let slots = ["Projekt-A", "Projekt-B", "Projekt-C"]
    static let projectTypes = ["python", "typescript", "react", "node", "general"]
    static let projectStatuses = ["active", "paused", "archived"]

    private static let projectSelect = """
        SELECT p.id, p.name, p.type, p.status, p.github_repo, p.slot, p.config, p.created_at, p.updated_at,
          (SELECT COUNT(*) FROM tasks t WHERE t.project_id = p.id),
          (SELECT COUNT(*) FROM tasks t WHERE t.project_id = p.id AND t.status = 'completed'),
          (SELECT AVG(final_quality) FROM tasks t WHERE t.project_id = p.id AND t.status = 'completed'),
          (SELECT COALESCE(SUM(actual_cost), 0) FROM tasks t WHERE t.project_id = p.id)
        FROM projects p
        """

    private static func project(_ s: SQLiteStatement) -> JSONValue {
        .object([
            ("id", .string(s.string(0) ?? "")), ("name", .string(s.string(1) ?? "")), ("type", .string(s.string(2) ?? "")),
            ("status", .string(s.string(3) ?? "")), ("github_repo", s.optionalString(4)), ("slot", .string(s.string(5) ?? "")),
            ("config", document(s.string(6))), ("total_tasks", .int(Int(s.int64(9)))),
            ("successful_tasks", .int(Int(s.int64(10)))), ("avg_quality", round(s.optionalDouble(11), 3)),
            ("total_cost", round(s.double(12))), ("created_at", iso(s.double(7))), ("updated_at", iso(s.double(8))),
        ])
    }

    func projects() throws -> [JSONValue] {
        try db.read { try $0.query(Self.projectSelect + " ORDER BY p.slot", [], Self.project) }
    }

    func project(_ id: String) throws -> JSONValue? {
        try db.read { try $0.query(Self.projectSelect + " WHERE p.id = ?", [.text(id)], Self.project).first }
    }

    /// Stored configuration of a project (nil when the project does not exist).
    func projectConfig(_ id: String) throws -> JSONValue? {
        try db.read { try $0.query("SELECT config FROM projects WHERE id = ?", [.text(id)]) { Self.document($0.string(0)) }.first }
    }

    func projectStatus(_ id: String) throws -> String? {
        try db.read { try $0.query("SELECT status FROM projects WHERE id = ?", [.text(id)]) { $0.string(0) ?? "" }.first }
    }

    /// Inserts a project into the first free slot; 400 when all three are taken (the original's rule).
    func createProject(name: String, type: String, githubRepo: String?, config: JSONValue) throws -> String {
        let id = Self.newID()
        let now = now()
        try db.writeTransaction { c in
            let taken = Set(try c.query("SELECT slot FROM projects", []) { $0.string(0) ?? "" })
            guard let slot = Self.slots.first(where: { !taken.contains($0) }) else {
                throw HTTPError(.badRequest, "No available project slots (max 3)")
            }
            try c.run("INSERT INTO projects (id, name, type, status, github_repo, slot, config, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
                      [.text(id), .text(name), .text(type), .text("active"), SQLiteValue(githubRepo), .text(slot),
                       .text(Self.text(config)), .real(now), .real(now)])
        }
        return id
    }

    /// Updates the given fields (nil = unchanged; `githubRepo` `.some(nil)` clears it). False when absent.
    func updateProject(_ id: String, name: String?, status: String?, githubRepo: String??, config: JSONValue?) throws -> Bool {
        try db.writeTransaction { c in
            guard try c.scalar("SELECT 1 FROM projects WHERE id = ?", [.text(id)]) != nil else { return false }
            if let name { try c.run("UPDATE projects SET name = ? WHERE id = ?", [.text(name), .text(id)]) }
            if let status { try c.run("UPDATE projects SET status = ? WHERE id = ?", [.text(status), .text(id)]) }
            if let githubRepo { try c.run("UPDATE projects SET github_repo = ? WHERE id = ?", [SQLiteValue(githubRepo), .text(id)]) }
            if let config { try c.run("UPDATE projects SET config = ? WHERE id = ?", [.text(Self.text(config)), .text(id)]) }
            try c.run("UPDATE projects SET updated_at = ? WHERE id = ?", [.real(now()), .text(id)])
            return true
        }
    }

    /// Deletes a project with its tasks, events and HRM configs (foreign-key cascade). False when absent.
    func deleteProject(_ id: String) throws -> Bool {
        try db.writeTransaction { c in
            guard try c.scalar("SELECT 1 FROM projects WHERE id = ?", [.text(id)]) != nil else { return false }
            try c.run("DELETE FROM hrm_config_history WHERE config_id IN (SELECT id FROM hrm_configs WHERE project_id = ?)", [.text(id)])
            try c.run("DELETE FROM projects WHERE id = ?", [.text(id)])
            return true
        }
    }
}
