import HTTPServer

/// The compiled-in plugins (Swift has no importlib: a static registry with lifecycle states and persisted config).
struct PluginInfo: Sendable {
    var name: String
    var type: String
    var version: String
    var description: String
    var defaultConfig: JSONValue
}

enum PluginCatalog {
    static let types = ["task_processor", "data_source", "notification", "analytics", "authentication", "storage", "integration",
                        "workflow", "monitoring"]
    static let statuses = ["unloaded", "loaded", "initialized", "active", "inactive", "error", "deprecated"]

    static let all: [PluginInfo] = [
        PluginInfo(name: "websocket-notifier", type: "notification", version: "1.0.0",
                   description: "Delivers notifications to /ws clients as system_notification messages",
                   defaultConfig: ["min_level": "info"]),
        PluginInfo(name: "task-metrics", type: "analytics", version: "1.0.0",
                   description: "Counts task and workflow events from the event bus", defaultConfig: ["window_hours": 24]),
        PluginInfo(name: "audit-trail", type: "monitoring", version: "1.0.0",
                   description: "Copies plugin events into the audit log", defaultConfig: ["include_data": false]),
    ]

    static func info(_ name: String) -> PluginInfo? { all.first { $0.name == name } }
}
