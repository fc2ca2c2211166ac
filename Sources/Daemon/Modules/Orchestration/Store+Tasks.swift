import HTTPServer

/// A task as the runner needs it.
struct TaskRecord: Sendable {
    var id: String
    var projectID: String?
    var prompt: String
    var taskType: String
    var files: [String]
    var workspace: String
    var requiresSecurity: Bool
    var requestedAgent: String?
    var status: String
    var maxIterations: Int
    var attempt: Int
    var sessionID: String
}

/// What a new task is created with (`POST /api/orchestration/execute`).
struct NewOrchestrationTask: Sendable {
    var projectID: String?
    var title: String
    var prompt: String
    var taskType: String
    var labels: [String]
    var files: [String]
    var workspace: String
    var requiresSecurity: Bool
    var requestedAgent: String?
    var issueNumber: Int?
    var maxIterations: Int
    var estimatedCost: Double
    var hrmConfigID: String?
    var presetID: String?
}

/// Tasks (spec §3) and their per-iteration events.
extension OrchestrationStore {
    static let taskStatuses = ["pending", "in_progress", "completed", "failed"]

    private static let taskColumns = """
        id, project_id, issue_number, title, description, labels, status, assigned_agent, agent_switches,
        current_iteration, max_iterations, current_quality, final_quality, tests_passing, security_issues, started_at,
        completed_at, duration_seconds, estimated_cost, actual_cost, created_at, updated_at, task_type, tokens, session_id,
        error, attempt, content, test_coverage, security_score, selected_agent, selection_reason
        """

    private static func task(_ s: SQLiteStatement) -> JSONValue {
        .object([
            ("id", .string(s.string(0) ?? "")), ("project_id", s.optionalString(1)), ("issue_number", s.optionalInt(2)),
            ("title", .string(s.string(3) ?? "")), ("description", s.optionalString(4)), ("labels", document(s.string(5))),
            ("status", .string(s.string(6) ?? "")), ("assigned_agent", s.optionalString(7)),
            ("agent_switches", .int(Int(s.int64(8)))), ("current_iteration", .int(Int(s.int64(9)))),
            ("max_iterations", .int(Int(s.int64(10)))), ("current_quality", round(s.double(11), 3)),
            ("final_quality", round(s.optionalDouble(12), 3)), ("tests_passing", .bool(s.int64(13) != 0)),
            ("security_issues", .int(Int(s.int64(14)))), ("started_at", iso(s.optionalDouble(15))),
            ("completed_at", iso(s.optionalDouble(16))), ("duration_seconds", round(s.optionalDouble(17), 6)),
            ("estimated_cost", round(s.double(18))), ("actual_cost", round(s.optionalDouble(19))),
            ("created_at", iso(s.double(20))), ("updated_at", iso(s.double(21))),
            ("task_type", .string(s.string(22) ?? "")), ("tokens", .int(Int(s.int64(23)))), ("session_id", .string(s.string(24) ?? "")),
            ("error", s.optionalString(25)), ("attempt", .int(Int(s.int64(26)))),
            ("test_coverage", round(s.optionalDouble(28), 3)), ("security_score", round(s.optionalDouble(29), 3)),
            ("selected_agent", s.optionalString(30)), ("selection_reason", s.optionalString(31)),
        ])
    }

    func task(_ id: String) throws -> JSONValue? {
        try db.read { try $0.query("SELECT \(Self.taskColumns) FROM tasks WHERE id = ?", [.text(id)], Self.task).first }
    }

    /// The final content of a task (its last successful provider answer).
    func taskContent(_ id: String) throws -> String? {
        try db.read { try $0.query("SELECT content FROM tasks WHERE id = ?", [.text(id)]) { $0.string(0) }.first ?? nil }
    }

    /// One page of tasks, newest first, with the total for the filter.
    func tasks(projectID: String?, status: String?, page: Int, pageSize: Int) throws -> (items: [JSONValue], total: Int) {
        var clauses: [String] = []
        var values: [SQLiteValue] = []
        if let projectID { clauses.append("project_id = ?"); values.append(.text(projectID)) }
        if let status { clauses.append("status = ?"); values.append(.text(status)) }
        let filter = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
        return try db.read { c in
            let total = Int(try c.scalar("SELECT COUNT(*) FROM tasks" + filter, values)?.int64 ?? 0)
            let items = try c.query("SELECT \(Self.taskColumns) FROM tasks\(filter) ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?",
                                    values + [.integer(Int64(pageSize)), .integer(Int64((page - 1) * pageSize))], Self.task)
            return (items, total)
        }
    }

    func insertTask(_ t: NewOrchestrationTask) throws -> String {
        let id = Self.newID()
        let now = now()
        try db.writeTransaction { c in
            var issue = t.issueNumber
            if issue == nil {
                let last = try c.scalar("SELECT MAX(issue_number) FROM tasks WHERE project_id IS ?", [SQLiteValue(t.projectID)])?.int64 ?? 0
                issue = Int(last) + 1
            }
            try c.run("""
                INSERT INTO tasks (id, project_id, issue_number, title, description, labels, prompt, task_type, files, workspace,
                  requires_security, requested_agent, status, max_iterations, estimated_cost, session_id, hrm_config_id, preset_id,
                  created_at, updated_at)
                VALUES (?,?,?,?,?,?,?,?,?,?,?,?,'pending',?,?,?,?,?,?,?)
                """, [.text(id), SQLiteValue(t.projectID), SQLiteValue(issue), .text(t.title), .text(t.prompt),
                      .text(Self.text(.array(t.labels.map(JSONValue.string)))), .text(t.prompt), .text(t.taskType),
                      .text(Self.text(.array(t.files.map(JSONValue.string)))), .text(t.workspace), SQLiteValue(t.requiresSecurity),
                      SQLiteValue(t.requestedAgent), .integer(Int64(t.maxIterations)), .real(t.estimatedCost),
                      .text("sess_" + id.prefix(12)), SQLiteValue(t.hrmConfigID), SQLiteValue(t.presetID), .real(now), .real(now)])
        }
        return id
    }

    func taskRecord(_ id: String) throws -> TaskRecord? {
        try db.read { c in
            try c.query("""
                SELECT id, project_id, prompt, task_type, files, workspace, requires_security, requested_agent, status,
                  max_iterations, attempt, session_id FROM tasks WHERE id = ?
                """, [.text(id)]) { s in
                let files: [String]
                if case .array(let items) = Self.document(s.string(4)) { files = items.compactMap(\.stringValue) } else { files = [] }
                return TaskRecord(id: s.string(0) ?? "", projectID: s.string(1), prompt: s.string(2) ?? "", taskType: s.string(3) ?? "",
                                  files: files, workspace: s.string(5) ?? ".", requiresSecurity: s.int64(6) != 0,
                                  requestedAgent: s.string(7), status: s.string(8) ?? "", maxIterations: Int(s.int64(9)),
                                  attempt: Int(s.int64(10)), sessionID: s.string(11) ?? "")
            }.first
        }
    }

    /// Task ids in `statuses`, oldest first (start-up recovery).
    func taskIDs(statuses: [String]) throws -> [String] {
        let marks = statuses.map { _ in "?" }.joined(separator: ",")
        return try db.read { try $0.query("SELECT id FROM tasks WHERE status IN (\(marks)) ORDER BY created_at, rowid",
                                          statuses.map(SQLiteValue.text)) { $0.string(0) ?? "" } }
    }

    /// Sets `status` when the current status is one of `from`; returns whether it changed (one writer: no race).
    func transition(_ id: String, from: [String], to status: String, extra: [(String, SQLiteValue)] = []) throws -> Bool {
        let marks = from.map { _ in "?" }.joined(separator: ",")
        let sets = (["status = ?", "updated_at = ?"] + extra.map { "\($0.0) = ?" }).joined(separator: ", ")
        return try db.write { c in
            try c.run("UPDATE tasks SET \(sets) WHERE id = ? AND status IN (\(marks))",
                      [.text(status), .real(now())] + extra.map(\.1) + [.text(id)] + from.map(SQLiteValue.text))
            return c.changes == 1
        }
    }

    /// Resets a finished task for another attempt (`POST /api/tasks/{id}/retry`); the old attempt's events stay.
    func resetForRetry(_ id: String) throws -> Bool {
        try db.write { c in
            try c.run("""
                UPDATE tasks SET status = 'pending', current_iteration = 0, current_quality = 0, final_quality = NULL,
                  tests_passing = 0, security_issues = 0, test_coverage = NULL, security_score = NULL, started_at = NULL,
                  completed_at = NULL, duration_seconds = NULL, actual_cost = NULL, tokens = 0, tokens_uncompressed = 0,
                  content = NULL, error = NULL, agent_switches = 0, selected_agent = NULL, selection_reason = NULL, attempt = attempt + 1, updated_at = ?
                WHERE id = ? AND status IN ('completed', 'failed')
                """, [.real(now()), .text(id)])
            return c.changes == 1
        }
    }

    func updateTask(_ id: String, _ fields: [(String, SQLiteValue)]) throws {
        let sets = (fields.map { "\($0.0) = ?" } + ["updated_at = ?"]).joined(separator: ", ")
        try db.write { c in try c.run("UPDATE tasks SET \(sets) WHERE id = ?", fields.map(\.1) + [.real(now()), .text(id)]) }
    }

    /// Records one provider call or agent switch; the rows metrics are computed from.
    func recordEvent(taskID: String, projectID: String?, kind: String, agent: String, toAgent: String? = nil, reason: String? = nil,
                     attempt: Int, iteration: Int? = nil, quality: Double? = nil, tokens: Int? = nil, cost: Double? = nil,
                     duration: Double? = nil, ok: Bool = true) throws {
        try db.write { c in
            try c.run("""
                INSERT INTO task_events (task_id, project_id, kind, agent, to_agent, reason, attempt, iteration, quality, tokens, cost,
                  duration, ok, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                """, [.text(taskID), SQLiteValue(projectID), .text(kind), .text(agent), SQLiteValue(toAgent), SQLiteValue(reason),
                      .integer(Int64(attempt)), SQLiteValue(iteration), SQLiteValue(quality), SQLiteValue(tokens), SQLiteValue(cost),
                      SQLiteValue(duration), SQLiteValue(ok), .real(now())])
        }
    }

    func activeTaskCount(projectID: String) throws -> Int {
        try db.read { Int(try $0.scalar("SELECT COUNT(*) FROM tasks WHERE project_id = ? AND status = 'in_progress'", [.text(projectID)])?.int64 ?? 0) }
    }

    /// How many tasks each agent was assigned (round-robin rotation).
    func assignmentCounts() throws -> [String: Int] {
        try db.read { c in
            Dictionary(try c.query("SELECT assigned_agent, COUNT(*) FROM tasks WHERE assigned_agent IS NOT NULL GROUP BY assigned_agent") {
                ($0.string(0) ?? "", Int($0.int64(1)))
            }, uniquingKeysWith: +)
        }
    }
}
