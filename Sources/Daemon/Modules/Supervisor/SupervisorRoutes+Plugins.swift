import Foundation
import HTTPServer

/// `/api/v1/plugins/*`: the compiled-in plugins' lifecycle (persisted), configuration, the event bus (SQLite,
/// last 1,000 events kept) and notifications. `/plugins/metrics`, `/plugins/health/all`, `/plugins/events/…`
/// and `/plugins/types/…` are static and win over `/plugins/{plugin_name}`.
extension SupervisorRoutes {
    static let eventTypes = ["plugin_loaded", "plugin_activated", "plugin_deactivated", "plugin_error", "task_created", "task_completed",
                             "task_failed", "system_startup", "system_shutdown", "custom"]

    func addPluginRoutes() {
        let core = self.core
        let read = api("plugins:read"), manage = api("plugins:manage"), configure = api("plugins:configure"), use = api("plugins:use")
        @Sendable func rows() throws -> [(String, String, JSONValue, Double)] {
            try core.database.write { try $0.query("SELECT name, status, config, updated_at FROM plugins ORDER BY name", []) {
                ($0.string(0) ?? "", $0.string(1) ?? "", JSONColumn.value($0.string(2)), $0.double(3))
            } }
        }
        @Sendable func json(_ row: (String, String, JSONValue, Double)) -> JSONValue {
            let info = PluginCatalog.info(row.0)
            return ["name": .string(row.0), "type": .string(info?.type ?? "custom"), "version": .string(info?.version ?? "0"),
                    "description": .string(info?.description ?? ""), "status": .string(row.1), "configuration": row.2, "updated_at": .string(core.iso(row.3))]
        }
        @Sendable func existing(_ name: String) throws -> (String, String, JSONValue, Double) {
            guard let row = try rows().first(where: { $0.0 == name }) else { throw SupervisorError.notFound("Plugin \(name) not found") }
            return row
        }
        @Sendable func setStatus(_ name: String, _ status: String) throws {
            try core.database.write { try $0.run("UPDATE plugins SET status = ?, updated_at = ? WHERE name = ?", [.text(status), .real(core.now), .text(name)]) }
        }
        @Sendable func publish(_ type: String, _ source: String, _ data: JSONValue) throws -> (Int, [String]) {
            let id = try core.database.writeTransaction { c -> Int in
                try c.run("INSERT INTO plugin_events (event_type, source, data, timestamp) VALUES (?, ?, ?, ?)", [.text(type), .text(source), JSONColumn.text(data), .real(core.now)])
                let id = Int(try c.scalar("SELECT last_insert_rowid()")?.int64 ?? 0)
                try c.run("DELETE FROM plugin_events WHERE id <= ?", [.integer(Int64(id - 1_000))])
                return id
            }
            let active = try rows().filter { $0.1 == "active" }.map(\.0)
            if active.contains("audit-trail") { core.audit("PLUGIN_EVENT", details: ["event_type": .string(type), "source": .string(source), "event_id": .int(id)]) }
            return (id, active)
        }
        read.get("/plugins", docs: doc("All plugins with status and configuration", "plugins")) { _, _ in .json(.array(try rows().map(json))) }
        read.get("/plugins/metrics", docs: doc("Plugin counts by status and type, event-bus totals", "plugins")) { _, _ in
            let all = try rows()
            let events = try core.database.write { Int(try $0.scalar("SELECT count(*) FROM plugin_events")?.int64 ?? 0) }
            func counts(_ key: ((String, String, JSONValue, Double)) -> String) -> JSONValue {
                .object(Dictionary(grouping: all, by: key).map { ($0.key, JSONValue.int($0.value.count)) }.sorted { $0.0 < $1.0 })
            }
            return .json(["total_plugins": .int(all.count), "by_status": counts { $0.1 }, "by_type": counts { PluginCatalog.info($0.0)?.type ?? "custom" },
                          "events_stored": .int(events)])
        }
        read.get("/plugins/health/all", docs: doc("Health of every plugin", "plugins")) { _, _ in
            .json(.object(try rows().map { ($0.0, ["status": .string($0.1), "healthy": .bool($0.1 != "error")] as JSONValue) }))
        }
        read.get("/plugins/types/{plugin_type}", docs: doc("Plugins of one type", "plugins", path: ["plugin_type": JSONSchema.enumeration(PluginCatalog.types)])) { _, context in
            let type = context.parameters["plugin_type"] ?? ""
            guard PluginCatalog.types.contains(type) else {
                throw ValidationError(location: ["path", "plugin_type"], message: "permitted: " + PluginCatalog.types.joined(separator: ", "), type: "type_error.enum")
            }
            return .json(.array(try rows().filter { PluginCatalog.info($0.0)?.type == type }.map(json)))
        }
        read.get("/plugins/events/history", docs: doc("Event-bus history, newest first", "plugins", query: [.int("limit", 1...1_000), .choice("event_type", Self.eventTypes)])) { request, _ in
            var query = QueryReader(request)
            let limit = query.int("limit", default: 100, range: 1...1_000)
            let type = query.choice("event_type", Self.eventTypes)
            try query.finish()
            return .json(.array(try core.database.write { c in
                try c.query("SELECT id, event_type, source, data, timestamp FROM plugin_events WHERE (?1 IS NULL OR event_type = ?1) ORDER BY id DESC LIMIT ?2",
                            [type.map(SQLiteValue.text) ?? .null, .integer(Int64(limit))]) { r -> JSONValue in
                    ["id": .int(Int(r.int64(0))), "event_type": .string(r.string(1) ?? ""), "source": .string(r.string(2) ?? ""),
                     "data": JSONColumn.value(r.string(3)), "timestamp": JSONColumn.iso(r.double(4))]
                }
            }))
        }
        use.post("/plugins/events/publish", docs: doc("Publish an event to active plugins", "plugins", created: "The stored event and the plugins it reached",
                                                      fields: [.choice("event_type", Self.eventTypes, required: true), .object("data"), .string("source", maxLength: 100)],
                                                      body: ["event_type": "custom", "data": ["k": "v"], "source": "ci"])) { request, _ in
            var body = try BodyReader(request)
            let type = body.choice("event_type", Self.eventTypes, required: true)
            let data = body.object("data").map(JSONValue.object) ?? .object([])
            let source = body.string("source", maxLength: 100) ?? "api"
            try body.finish()
            let (id, delivered) = try publish(type!, source, data)
            return .created(["event_id": .int(id), "event_type": .string(type!), "delivered_to": .array(delivered.map(JSONValue.string))])
        }
        use.post("/plugins/notifications/send", docs: doc("Send a notification through the active notification plugin (to /ws clients)", "plugins",
                                                          fields: [.string("message", required: true, maxLength: 2_000), .string("title", maxLength: 200), .choice("level", ["info", "warning", "error", "critical"])],
                                                          body: ["title": "Deploy", "message": "done", "level": "info"],
                                                          errors: [409: "No active notification plugin"])) { request, _ in
            var body = try BodyReader(request)
            let message = body.string("message", required: true, maxLength: 2_000)
            let title = body.string("title", maxLength: 200)
            let level = body.choice("level", ["info", "warning", "error", "critical"]) ?? "info"
            try body.finish()
            guard try existing("websocket-notifier").1 == "active" else {
                throw SupervisorError.conflict("No active notification plugin: activate websocket-notifier first")
            }
            let payload: JSONValue = ["title": title.map(JSONValue.string) ?? .null, "message": .string(message!), "level": .string(level)]
            core.push("system_notification", payload)
            let (id, _) = try publish("custom", "notification", payload)
            return .json(["delivered": true, "plugin": "websocket-notifier", "recipients": .int(core.hub.subscriberCount(of: SupervisorCore.Channel.main)),
                          "event_id": .int(id)])
        }
        manage.post("/plugins/discover", docs: doc("Find compiled-in plugins and load the unloaded ones", "plugins")) { _, _ in
            var loaded: [JSONValue] = []
            for row in try rows() where row.1 == "unloaded" {
                try setStatus(row.0, "loaded")
                _ = try publish("plugin_loaded", row.0, [:])
                loaded.append(.string(row.0))
            }
            return .json(["discovered": .array(PluginCatalog.all.map { .string($0.name) }), "loaded": .array(loaded)])
        }
        read.get("/plugins/{plugin_name}", docs: doc("One plugin", "plugins", errors: [404: "Plugin not found"])) { _, context in
            .json(json(try existing(context.parameters["plugin_name"] ?? "")))
        }
        for (action, allowed, target, event) in [("activate", ["loaded", "initialized", "inactive"], "active", "plugin_activated"),
                                                 ("deactivate", ["active"], "inactive", "plugin_deactivated")] {
            manage.post("/plugins/{plugin_name}/\(action)", docs: doc("\(action.capitalized) a plugin", "plugins",
                                                                     errors: [404: "Plugin not found", 409: "Not allowed from the current state"])) { _, context in
                let name = context.parameters["plugin_name"] ?? ""
                let row = try existing(name)
                guard allowed.contains(row.1) else { throw SupervisorError.conflict("Plugin \(name) is \(row.1); cannot \(action)") }
                try setStatus(name, target)
                _ = try publish(event, name, [:])
                return .json(json(try existing(name)))
            }
        }
        manage.delete("/plugins/{plugin_name}", docs: doc("Unload a plugin", "plugins", errors: [404: "Plugin not found", 409: "Already unloaded"])) { _, context in
            let name = context.parameters["plugin_name"] ?? ""
            guard try existing(name).1 != "unloaded" else { throw SupervisorError.conflict("Plugin \(name) is already unloaded") }
            try setStatus(name, "unloaded")
            return .json(["message": "Plugin unloaded", "name": .string(name)])
        }
        read.get("/plugins/{plugin_name}/health", docs: doc("One plugin's health", "plugins", errors: [404: "Plugin not found"])) { _, context in
            let row = try existing(context.parameters["plugin_name"] ?? "")
            return .json(["name": .string(row.0), "status": .string(row.1), "healthy": .bool(row.1 != "error"), "checked_at": .string(core.iso(core.now))])
        }
        configure.get("/plugins/{plugin_name}/configuration", docs: doc("A plugin's configuration", "plugins", errors: [404: "Plugin not found"])) { _, context in
            let row = try existing(context.parameters["plugin_name"] ?? "")
            return .json(["name": .string(row.0), "configuration": row.2])
        }
        configure.put("/plugins/{plugin_name}/configuration", docs: doc("Replace keys of a plugin's configuration (known keys only)", "plugins",
                                                                         body: ["configuration": ["min_level": "warning"]], errors: [404: "Plugin not found"])) { request, context in
            let name = context.parameters["plugin_name"] ?? ""
            let row = try existing(name)
            var body = try BodyReader(request)
            let changes = body.object("configuration", required: true) ?? []
            let known = Set((PluginCatalog.info(name)?.defaultConfig.objectValue ?? []).map(\.0))
            for (key, _) in changes where !known.contains(key) {
                body.fail("configuration", "unknown key '\(key)'; known: \(known.sorted().joined(separator: ", "))", "value_error.unknown_key")
            }
            try body.finish()
            var merged = row.2.objectValue ?? []
            for (key, value) in changes { merged.removeAll { $0.0 == key }; merged.append((key, value)) }
            try core.database.write { try $0.run("UPDATE plugins SET config = ?, updated_at = ? WHERE name = ?", [JSONColumn.text(.object(merged)), .real(core.now), .text(name)]) }
            return .json(["name": .string(name), "configuration": .object(merged)])
        }
    }
}
