import Foundation
import HTTPServer
import Synchronization

/// The supervisor's state and services: its database, the shared auth core, the daemon's clock, the WebSocket
/// hub, and the task runner, workflow engine, scheduler and monitor (one extension file each).
final class SupervisorCore: Sendable {
    let database: SQLiteDatabase
    let auth: AuthService
    let clock: any DaemonClock
    let logger: Logger
    let hub = WebSocketHub(slowConsumerPolicy: .disconnect)
    let host = HostMetrics()
    let dataDirectory: URL
    /// Task execution: one serial queue (providers here are local and quick; the queue keeps order by priority).
    let taskQueue = DispatchQueue(label: "argus.supervisor.tasks")
    /// Workflow executions run here, each task through the task runner.
    let workflowQueue = DispatchQueue(label: "argus.supervisor.workflows", attributes: .concurrent)
    let cancelledExecutions = Mutex<Set<String>>([])
    let lastSample = Mutex<Date?>(nil)
    let schedulerRunning = Atomic<Bool>(false)
    let roundRobin = Atomic<Int>(0)

    /// WebSocket channels.
    enum Channel {
        static let main = "ws"
        static let analytics = "analytics"
        static let monitoring = "monitoring"
    }

    init(database: SQLiteDatabase, auth: AuthService, clock: any DaemonClock, logger: Logger, dataDirectory: URL) throws {
        self.database = database
        self.auth = auth
        self.clock = clock
        self.logger = logger
        self.dataDirectory = dataDirectory
        try seed()
    }

    var now: Double { clock.now().timeIntervalSince1970 }
    func iso(_ seconds: Double) -> String { AuthTime.iso(Date(timeIntervalSince1970: seconds)) }

    /// Most agents (active or not) `POST /resources/scale` keeps; a scale-up past it is refused (409).
    static let maxAgents = 256

    /// Built-in rows on first start: two agents, the two local providers, the default alert rules, the plugins.
    private func seed() throws {
        let now = self.now
        try database.writeTransaction { c in
            if try c.scalar("SELECT count(*) FROM agents")?.int64 == 0 {
                for i in 1...2 {
                    try c.run("INSERT INTO agents (id, quota_limit, quota_reset_at, created_at) VALUES (?, 1000, ?, ?)",
                              [.text("local-agent-\(i)"), .real(now + 86_400), .real(now)])
                }
            }
            try c.run("INSERT OR IGNORE INTO providers (id, type, config, priority, enabled, built_in, created_at) VALUES ('local', 'local', '{}', 1, 1, 1, ?)", [.real(now)])
            try c.run("""
                INSERT OR IGNORE INTO providers (id, type, config, priority, enabled, built_in, created_at)
                VALUES ('local-mock', 'local_mock', '{"failure_rate":0.05,"deterministic":true}', 9, 1, 1, ?)
                """, [.real(now)])
            if try c.scalar("SELECT value FROM settings WHERE key = 'rules_seeded'") == nil {
                for (id, metric, threshold, severity) in [("cpu_critical", "cpu", 90.0, "critical"), ("cpu_warning", "cpu", 80.0, "warning"),
                                                          ("memory_critical", "memory", 90.0, "critical"), ("memory_warning", "memory", 80.0, "warning")] {
                    try c.run("INSERT INTO alert_rules (id, name, metric, condition, threshold, severity, enabled, created_at) VALUES (?, ?, ?, 'gt', ?, ?, 1, ?)",
                              [.text(id), .text(id), .text(metric), .real(threshold), .text(severity), .real(now)])
                }
                try c.run("INSERT INTO settings (key, value) VALUES ('rules_seeded', 'true')")
            }
            for plugin in PluginCatalog.all {
                try c.run("INSERT OR IGNORE INTO plugins (name, status, config, updated_at) VALUES (?, 'loaded', ?, ?)",
                          [.text(plugin.name), JSONColumn.text(plugin.defaultConfig), .real(now)])
            }
        }
    }

    // MARK: Events

    /// Pushes `{type, data, timestamp}` to a WebSocket channel.
    func push(_ type: String, _ data: JSONValue, to channel: String = Channel.main) {
        let message: JSONValue = ["type": .string(type), "data": data, "timestamp": .string(iso(now))]
        _ = hub.broadcast(text: message.encodedString, to: channel)
    }

    /// An audit row (who did what); auth events arrive here from the auth core's event flow.
    func audit(_ eventType: String, userID: Int? = nil, taskID: Int? = nil, agentID: String? = nil, details: JSONValue = [:], ip: String? = nil) {
        do {
            try database.write { c in
                try c.run("INSERT INTO audit_logs (event_type, user_id, agent_id, task_id, details, ip_address, timestamp) VALUES (?, ?, ?, ?, ?, ?, ?)",
                          [.text(eventType), userID.map { .integer(Int64($0)) } ?? .null, agentID.map(SQLiteValue.text) ?? .null,
                           taskID.map { .integer(Int64($0)) } ?? .null, JSONColumn.text(details), ip.map(SQLiteValue.text) ?? .null, .real(now)])
            }
        } catch {
            logger.error("audit_write_failed", ["error": .string("\(error)")])
        }
    }

    /// A measurement for analytics (`metric_entries`), pushed to the analytics stream.
    func record(_ metricType: String, _ name: String, _ value: Double, labels: JSONValue = [:]) {
        let at = now
        do {
            try database.write { c in
                try c.run("INSERT INTO metric_entries (metric_type, name, value, labels, recorded_at) VALUES (?, ?, ?, ?, ?)",
                          [.text(metricType), .text(name), .real(value), JSONColumn.text(labels), .real(at)])
            }
        } catch {
            logger.error("metric_write_failed", ["error": .string("\(error)")])
        }
        push("metric_update", ["metric_type": .string(metricType), "name": .string(name), "value": .double(value), "labels": labels],
             to: Channel.analytics)
    }

    func setting(_ key: String) throws -> JSONValue? {
        try database.write { try $0.scalar("SELECT value FROM settings WHERE key = ?", [.text(key)])?.string }.map { JSONColumn.value($0) }
    }

    func setSetting(_ key: String, _ value: JSONValue) throws {
        try database.write { try $0.run("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                                        [.text(key), JSONColumn.text(value)]) }
    }
}
