import Foundation
import HTTPServer

/// `/api/v1/monitoring/*`, the `/api/v1/health*` family, and the WebSocket channels.
extension SupervisorRoutes {
    func addMonitoringRoutes() {
        let core = self.core
        let read = api("monitoring:read"), manage = api("monitoring:manage")
        read.get("/monitoring/health", docs: doc("Host health from the configured thresholds", "monitoring")) { _, _ in
            let (sample, metrics) = core.hostSample()
            let (status, components) = try core.systemHealth(["cpu": sample.cpu, "memory": sample.memory, "disk": sample.disk])
            let active = try core.database.write { Int(try $0.scalar("SELECT count(*) FROM alerts WHERE status = 'active'")?.int64 ?? 0) }
            return .json(["status": .string(status), "components": .array(components), "metrics": metrics, "active_alerts": .int(active),
                          "monitoring_enabled": try core.monitoringConfig()["enabled"] ?? false, "timestamp": .string(core.iso(core.now))])
        }
        read.get("/monitoring/alerts", docs: doc("Alerts, newest first", "monitoring", query: [.choice("status", ["active", "resolved", "suppressed"]), .choice("severity", SupervisorCore.severities), .int("limit", 1...1_000)])) { request, _ in
            var query = QueryReader(request)
            let status = query.choice("status", ["active", "resolved", "suppressed"]), severity = query.choice("severity", SupervisorCore.severities)
            let limit = query.int("limit", default: 100, range: 1...1_000)
            try query.finish()
            return .json(.array(try core.database.write { c in
                try c.query("SELECT \(SupervisorCore.alertColumns) FROM alerts WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR severity = ?2) ORDER BY triggered_at DESC LIMIT ?3",
                            [status.map(SQLiteValue.text) ?? .null, severity.map(SQLiteValue.text) ?? .null, .integer(Int64(limit))], core.alertJSON)
            }))
        }
        manage.post("/monitoring/alerts/rules", docs: doc("Create an alert rule (persisted, evaluated on every sample)", "monitoring", created: "The new rule",
                                                          fields: [.string("name", required: true, maxLength: 100), .choice("metric", SupervisorCore.alertMetrics, required: true), .choice("condition", SupervisorCore.conditions), .double("threshold", required: true), .choice("severity", SupervisorCore.severities), .bool("enabled")],
                                                          body: ["name": "disk_high", "metric": "disk", "condition": "gt", "threshold": 90, "severity": "warning"],
                                                          errors: [409: "A rule with that name exists"])) { request, _ in
            var body = try BodyReader(request)
            let name = body.string("name", required: true, maxLength: 100)
            let metric = body.choice("metric", SupervisorCore.alertMetrics, required: true)
            let condition = body.choice("condition", SupervisorCore.conditions) ?? "gt"
            let threshold = body.double("threshold", required: true)
            let severity = body.choice("severity", SupervisorCore.severities) ?? "warning"
            let enabled = body.bool("enabled") ?? true
            try body.finish()
            let id = name!.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }.map(String.init).joined()
            let inserted = try core.database.write { c -> Bool in
                try c.run("INSERT OR IGNORE INTO alert_rules (id, name, metric, condition, threshold, severity, enabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                          [.text(id), .text(name!), .text(metric!), .text(condition), .real(threshold!), .text(severity), .integer(enabled ? 1 : 0), .real(core.now)])
                return c.changes > 0
            }
            guard inserted else { throw SupervisorError.conflict("Alert rule \(id) already exists") }
            return .created(try core.database.write { try $0.query("SELECT id, name, metric, condition, threshold, severity, enabled, created_at FROM alert_rules WHERE id = ?",
                                                                   [.text(id)], core.ruleJSON)[0] })
        }
        read.get("/monitoring/alerts/rules", docs: doc("All alert rules", "monitoring")) { _, _ in
            .json(.array(try core.database.write { try $0.query("SELECT id, name, metric, condition, threshold, severity, enabled, created_at FROM alert_rules ORDER BY id", [], core.ruleJSON) }))
        }
        manage.delete("/monitoring/alerts/rules/{rule_id}", docs: doc("Delete an alert rule (its alerts resolve)", "monitoring", errors: [404: "Rule not found"])) { _, context in
            let id = context.parameters["rule_id"] ?? ""
            let deleted = try core.database.writeTransaction { c -> Bool in
                try c.run("DELETE FROM alert_rules WHERE id = ?", [.text(id)])
                let gone = c.changes > 0
                if gone { try c.run("UPDATE alerts SET status = 'resolved', resolved_at = ? WHERE rule_id = ? AND status = 'active'", [.real(core.now), .text(id)]) }
                return gone
            }
            guard deleted else { throw SupervisorError.notFound("Alert rule \(id) not found") }
            return .json(["message": "Alert rule deleted", "rule_id": .string(id)])
        }
        read.get("/monitoring/config", docs: doc("Monitoring configuration", "monitoring")) { _, _ in .json(try core.monitoringConfig()) }
        manage.put("/monitoring/config", docs: doc("Change sampling interval, retention, thresholds or enabled", "monitoring",
                                                   fields: [.bool("enabled"), .int("sampling_interval", range: 1...3_600), .int("retention_hours", range: 1...8_760), .alertThresholds],
                                                   body: ["sampling_interval": 10, "retention_hours": 24, "enabled": true])) { request, _ in
            var body = try BodyReader(request)
            var config = try core.monitoringConfig().objectValue ?? []
            func set(_ key: String, _ value: JSONValue?) { if let value { config.removeAll { $0.0 == key }; config.append((key, value)) } }
            set("enabled", body.bool("enabled").map(JSONValue.bool))
            set("sampling_interval", body.int("sampling_interval", range: 1...3_600).map(JSONValue.int))
            set("retention_hours", body.int("retention_hours", range: 1...8_760).map(JSONValue.int))
            if let thresholds = body.object("alert_thresholds") {
                var checked: [(String, JSONValue)] = []
                for (metric, value) in thresholds {
                    var inner = BodyReader(object: value.objectValue ?? [], prefix: ["body", "alert_thresholds", .key(metric)])
                    if !["cpu", "memory", "disk"].contains(metric) || value.objectValue == nil {
                        body.fail("alert_thresholds", "expected {cpu|memory|disk: {critical, warning}}", "value_error.thresholds"); continue
                    }
                    let critical = inner.double("critical", required: true, range: 0...100), warning = inner.double("warning", required: true, range: 0...100)
                    if let critical, let warning, warning > critical { inner.fail("warning", "warning must not exceed critical", "value_error.order") }
                    body.absorb(inner)
                    if let critical, let warning { checked.append((metric, ["critical": .double(critical), "warning": .double(warning)])) }
                }
                var merged = (try core.monitoringConfig()["alert_thresholds"]?.objectValue) ?? []
                for (metric, value) in checked { merged.removeAll { $0.0 == metric }; merged.append((metric, value)) }
                set("alert_thresholds", .object(merged))
            }
            try body.finish()
            try core.setSetting("monitoring_config", .object(config))
            return .json(.object(config))
        }
        for (action, enabled) in [("start", true), ("stop", false)] {
            manage.post("/monitoring/\(action)", docs: doc("\(action.capitalized) sampling (persisted)", "monitoring")) { _, _ in
                var config = try core.monitoringConfig().objectValue ?? []
                config.removeAll { $0.0 == "enabled" }
                config.append(("enabled", .bool(enabled)))
                try core.setSetting("monitoring_config", .object(config))
                if enabled { core.lastSample.withLock { $0 = nil } }
                return .json(["status": enabled ? "started" : "stopped", "enabled": .bool(enabled)])
            }
        }
    }

    func addHealthRoutes() {
        let core = self.core
        @Sendable func basic() -> JSONValue {
            let databaseOK = (try? core.database.write { try $0.scalar("SELECT 1") }) != nil
            let agents = (try? core.database.write { try $0.scalar("SELECT count(*) FROM agents WHERE is_active = 1")?.int64 }) ?? nil
            return ["status": databaseOK ? "healthy" : "unhealthy", "timestamp": .string(core.iso(core.now)), "version": "1.0.0",
                    "database": .bool(databaseOK), "redis": false, "agents_active": .int(Int(agents ?? 0))]
        }
        // Probes are public (load balancers have no token); the detailed views need monitoring:read.
        for path in ["/api/v1/health", "/api/v1/healthz", "/api/v1/readyz", "/api/v1/ping"] {
            router.get(path, docs: doc("Supervisor liveness (public)", "health")) { _, _ in
                let body = basic()
                return .json(path.hasSuffix("ping") ? ["message": "pong", "timestamp": body["timestamp"] ?? .null] : body,
                             status: body["database"] == .bool(true) ? .ok : .serviceUnavailable)
            }
        }
        let read = api("monitoring:read")
        @Sendable func dependencies() throws -> [(String, JSONValue)] {
            let queued = try core.database.write { Int(try $0.scalar("SELECT count(*) FROM tasks WHERE status IN ('pending', 'running')")?.int64 ?? 0) }
            let quota = try core.quotaStatus()
            let databaseOK = (try? core.database.write { try $0.scalar("SELECT 1") }) != nil
            return [("database", ["status": databaseOK ? "healthy" : "unhealthy", "path": .string(core.database.path)]),
                    ("scheduler", ["status": core.schedulerRunning.load(ordering: .relaxed) ? "healthy" : "unhealthy"]),
                    ("queue", ["status": queued > 50 ? "degraded" : "healthy", "depth": .int(queued)]),
                    ("quota", ["status": quota["available_agents"]?.intValue == 0 ? "degraded" : "healthy", "available_agents": quota["available_agents"] ?? 0]),
                    ("redis", ["status": "disabled", "detail": "not used: SQLite and in-process queues replace it"]),
                    ("llm_providers", ["status": "disabled", "detail": "no network: local providers only"])]
        }
        read.get("/health/detailed", docs: doc("Component health rolled up to healthy / degraded / unhealthy", "health")) { _, _ in
            let parts = try dependencies()
            let states = parts.compactMap { $0.1["status"]?.stringValue }
            let status = states.contains("unhealthy") ? "unhealthy" : states.contains("degraded") ? "degraded" : "healthy"
            return .json(["status": .string(status), "components": .object(parts), "timestamp": .string(core.iso(core.now))])
        }
        read.get("/health/dependencies", docs: doc("Each dependency's state", "health")) { _, _ in
            .json(["dependencies": .object(try dependencies()), "timestamp": .string(core.iso(core.now))])
        }
    }

    func addWebSockets() {
        let core = self.core
        @Sendable func greeting(_ socket: WebSocket, channel: String, message: String) {
            core.hub.subscribe(socket, to: channel)
            socket.send(text: JSONValue.object([("type", "connection_established"), ("message", .string(message)), ("timestamp", .string(core.iso(core.now)))]).encodedString)
        }
        @Sendable func handle(_ socket: WebSocket, _ message: WebSocketMessage, extra: @escaping @Sendable (WebSocket, JSONValue) -> Bool) {
            guard case .text(let text) = message, let value = DecodedJSON.parse(Array(text.utf8)), let type = value["type"]?.stringValue else {
                socket.send(text: #"{"type":"error","message":"expected a JSON object with a type"}"#)
                return
            }
            switch type {
            case "ping": socket.send(text: JSONValue.object([("type", "pong"), ("timestamp", .string(core.iso(core.now)))]).encodedString)
            case "subscribe":
                let what = value["subscription_type"]?.stringValue ?? "all"
                socket.send(text: JSONValue.object([("type", "subscription_confirmed"), ("subscription_type", .string(what))]).encodedString)
            default:
                if !extra(socket, value) { socket.send(text: JSONValue.object([("type", "error"), ("message", .string("unknown message type '\(type)'"))]).encodedString) }
            }
        }
        // /ws: task_update, quota_update, agent_status_update, system_notification, workflow_update.
        router.group("", middleware: [auth.require("tasks:read")]).webSocket("/ws", docs: doc("Main WebSocket: task, quota, agent and system events", "websocket")) { _, _ in
            WebSocketHandler(onOpen: { greeting($0, channel: SupervisorCore.Channel.main, message: "Connected to Supervisor Coding Agent") },
                             onMessage: { socket, message in handle(socket, message) { _, _ in false } },
                             onClose: { socket, _ in core.hub.unsubscribeAll(socket) })
        }
        api("analytics:read").webSocket("/analytics/advanced/stream", docs: doc("Analytics stream: every stored measurement as metric_update", "websocket")) { _, _ in
            WebSocketHandler(onOpen: { socket in
                greeting(socket, channel: SupervisorCore.Channel.analytics, message: "Connected to analytics stream")
                if let summary = try? core.summary() { socket.send(text: JSONValue.object([("type", "summary"), ("data", summary)]).encodedString) }
            }, onMessage: { socket, message in handle(socket, message) { _, _ in false } },
               onClose: { socket, _ in core.hub.unsubscribeAll(socket) })
        }
        api("monitoring:read").webSocket("/monitoring/stream", docs: doc("Monitoring stream: metrics_update per sample, alert on changes", "websocket")) { _, _ in
            WebSocketHandler(onOpen: { greeting($0, channel: SupervisorCore.Channel.monitoring, message: "Connected to monitoring stream") },
                             onMessage: { socket, message in
                handle(socket, message) { socket, value in
                    // {"type":"update_config","sampling_interval":N} changes the sampling interval (persisted).
                    guard value["type"] == "update_config", let interval = value["sampling_interval"]?.intValue, (1...3_600).contains(interval) else { return false }
                    var config = (try? core.monitoringConfig().objectValue) ?? []
                    config.removeAll { $0.0 == "sampling_interval" }
                    config.append(("sampling_interval", .int(interval)))
                    try? core.setSetting("monitoring_config", .object(config))
                    socket.send(text: JSONValue.object([("type", "config_updated"), ("sampling_interval", .int(interval))]).encodedString)
                    return true
                }
            }, onClose: { socket, _ in core.hub.unsubscribeAll(socket) })
        }
    }
}
