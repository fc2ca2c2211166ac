import Foundation
import HTTPServer

/// WebSockets (spec §7): `/ws` (global; ping, subscribe, unsubscribe), `/ws/project/{id}`, `/ws/task/{id}`
/// (ping only), and `/api/ws/health` with the live connection census.
struct LiveRoutes: Sendable {
    let services: OrchestrationServices

    func addRoutes(to router: some RouterMethods<BasicRequestContext>) {
        let feed = services.feed
        router.webSocket("/ws", docs: OpenAPIOperation(
            summary: "Global live feed: task_update, agent_switch, system_alert; {type: ping|subscribe|unsubscribe, channel}", tags: ["websocket"])
        ) { _, _ in Self.handler(feed, channel: "global", allowsSubscriptions: true) }
        router.webSocket("/ws/project/{project_id}", docs: OpenAPIOperation(
            summary: "One project's feed: hrm_config_update, hrm_preset_applied, task_update", tags: ["websocket"])
        ) { _, context in Self.handler(feed, channel: OrchestrationFeed.project(try context.parameters.require("project_id")), allowsSubscriptions: false) }
        router.webSocket("/ws/task/{task_id}", docs: OpenAPIOperation(
            summary: "One task's feed: task_update, agent_selected, agent_switch, feedback_loop, hrm_impact_update, hrm_checkpoint_reached",
            tags: ["websocket"])
        ) { _, context in Self.handler(feed, channel: OrchestrationFeed.task(try context.parameters.require("task_id")), allowsSubscriptions: false) }

        router.get("/api/ws/health", docs: OpenAPIOperation(summary: "Open WebSocket connections per channel", tags: ["websocket"])) { _, _ in
            let census = feed.census()
            return .json(.object([
                ("status", "healthy"),
                ("native_ws", .object([("total_connections", .int(census.connections)),
                                       ("channels", .array(census.channels.map { .string($0.0) })),
                                       ("channel_counts", .object(census.channels.map { ($0.0, .int($0.1)) }))])),
                ("socket_io", .object([("enabled", false), ("status", "not_provided")])),
                ("performance", .object([("protocol", "native_ws_only")])),
            ]))
        }
    }

    static func handler(_ feed: OrchestrationFeed, channel: String, allowsSubscriptions: Bool) -> WebSocketHandler {
        WebSocketHandler(onOpen: { socket in
            feed.subscribe(socket, to: channel)
            socket.send(text: JSONValue.object([("type", "connection_status"), ("connected", true), ("channel", .string(channel)),
                                                ("timestamp", feed.timestamp)]).encodedString)
        }, onMessage: { socket, message in
            guard case .text(let text) = message, let value = try? JSONParser.parse(text), let type = value["type"]?.stringValue else {
                socket.send(text: JSONValue.object([("type", "error"), ("message", "expected a JSON object with a 'type'")]).encodedString)
                return
            }
            switch type {
            case "ping":
                socket.send(text: JSONValue.object([("type", "pong"), ("timestamp", feed.timestamp)]).encodedString)
            case "subscribe" where allowsSubscriptions, "unsubscribe" where allowsSubscriptions:
                guard let target = value["channel"]?.stringValue, !target.isEmpty, target.count <= 200 else {
                    socket.send(text: JSONValue.object([("type", "error"), ("message", "'channel' must be a non-empty string")]).encodedString)
                    return
                }
                if type == "subscribe" { feed.subscribe(socket, to: target) } else { feed.unsubscribe(socket, from: target) }
                socket.send(text: JSONValue.object([("type", .string(type + "d")), ("channel", .string(target)),
                                                    ("timestamp", feed.timestamp)]).encodedString)
            default:
                socket.send(text: JSONValue.object([("type", "error"), ("message", .string("unsupported message type '\(type)'"))]).encodedString)
            }
        })
    }
}
