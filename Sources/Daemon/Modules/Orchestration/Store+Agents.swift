import HTTPServer

/// An agent connection (spec §5.1, §9.5) plus `agent_type`: which agent label it serves.
struct AgentConnection: Sendable {
    var agentID: String
    var agentName: String
    var agentType: String?
    var connectionType: String
    var endpoint: String?
    var port: Int?
    var apiKeyID: String?
    var enabled: Bool

    var json: JSONValue {
        .object([("agent_id", .string(agentID)), ("agent_name", .string(agentName)), ("connection_type", .string(connectionType)),
                 ("endpoint", endpoint.map(JSONValue.string) ?? .null), ("port", port.map(JSONValue.int) ?? .null),
                 ("api_key_id", apiKeyID.map(JSONValue.string) ?? .null), ("enabled", .bool(enabled)),
                 ("agent_type", agentType.map(JSONValue.string) ?? .null)])
    }
}

/// Agent connections and the reward model (persisted; the original kept rewards in Redis).
extension OrchestrationStore {
    static let agentTypes = ["claude", "gemini", "copilot", "cursor", "windsurf", "openai", "anthropic", "google"]
    static let connectionTypes = ["api", "local", "remote"]

    func connections() throws -> [AgentConnection] {
        try db.read { c in
            try c.query("""
                SELECT agent_id, agent_name, agent_type, connection_type, endpoint, port, api_key_id, enabled
                FROM agent_connections ORDER BY agent_id
                """) { s in
                AgentConnection(agentID: s.string(0) ?? "", agentName: s.string(1) ?? "", agentType: s.string(2),
                                connectionType: s.string(3) ?? "local", endpoint: s.string(4),
                                port: s.isNull(5) ? nil : Int(s.int64(5)), apiKeyID: s.string(6), enabled: s.int64(7) != 0)
            }
        }
    }

    func connection(_ id: String) throws -> AgentConnection? { try connections().first { $0.agentID == id } }

    /// Inserts (`replace` false: 400 on a duplicate id, as the original) or replaces a connection.
    func saveConnection(_ connection: AgentConnection, replace: Bool) throws {
        let now = now()
        try db.writeTransaction { c in
            let exists = try c.scalar("SELECT 1 FROM agent_connections WHERE agent_id = ?", [.text(connection.agentID)]) != nil
            if !replace && exists { throw HTTPError(.badRequest, "Agent connection '\(connection.agentID)' already exists") }
            if replace && !exists { throw HTTPError(.notFound, "Agent connection not found") }
            try c.run("""
                INSERT INTO agent_connections (agent_id, agent_name, agent_type, connection_type, endpoint, port, api_key_id, enabled,
                  created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)
                ON CONFLICT(agent_id) DO UPDATE SET agent_name = excluded.agent_name, agent_type = excluded.agent_type,
                  connection_type = excluded.connection_type, endpoint = excluded.endpoint, port = excluded.port,
                  api_key_id = excluded.api_key_id, enabled = excluded.enabled, updated_at = excluded.updated_at
                """, [.text(connection.agentID), .text(connection.agentName), SQLiteValue(connection.agentType),
                      .text(connection.connectionType), SQLiteValue(connection.endpoint), SQLiteValue(connection.port),
                      SQLiteValue(connection.apiKeyID), SQLiteValue(connection.enabled), .real(now), .real(now)])
        }
    }

    func deleteConnection(_ id: String) throws -> Bool {
        try db.write { c in
            try c.run("DELETE FROM agent_connections WHERE agent_id = ?", [.text(id)])
            return c.changes == 1
        }
    }

    /// Reward per agent (defaults: claude 0.8, gemini 0.75 — the original's).
    func rewards() throws -> [String: Double] {
        var rewards = ["claude": 0.8, "gemini": 0.75]
        for (agent, reward) in try db.read({ try $0.query("SELECT agent, reward FROM agent_rewards") { ($0.string(0) ?? "", $0.double(1)) } }) {
            rewards[agent] = reward
        }
        return rewards
    }

    /// EMA update (α 0.1) of an agent's reward.
    func updateReward(_ agent: String, sample: Double, alpha: Double = 0.1) throws {
        let current = try rewards()[agent] ?? 0.75
        let next = (1 - alpha) * current + alpha * sample
        try db.write { c in
            try c.run("""
                INSERT INTO agent_rewards (agent, reward, updates, updated_at) VALUES (?,?,1,?)
                ON CONFLICT(agent) DO UPDATE SET reward = excluded.reward, updates = updates + 1, updated_at = excluded.updated_at
                """, [.text(agent), .real(next), .real(now())])
        }
    }
}
