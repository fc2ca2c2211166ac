import Foundation
import HTTPServer
import Synchronization

/// Live events of spec §7.4 on the module's WebSocket channels (`global`, `project_{id}`, `task_{id}`),
/// mirrored onto the daemon's event flow as `.module(module: "orchestration", …)`. The hub buffers per
/// connection and disconnects slow consumers, so publishing never blocks a task run.
final class OrchestrationFeed: Sendable {
    let hub = WebSocketHub(slowConsumerPolicy: .disconnect)
    private let events: DaemonEvents
    private let clock: any DaemonClock
    /// Channels per open socket, for `/api/ws/health`.
    private let sockets = Mutex<[UInt64: Set<String>]>([:])

    init(events: DaemonEvents, clock: any DaemonClock) {
        self.events = events
        self.clock = clock
    }

    static func project(_ id: String) -> String { "project_\(id)" }
    static func task(_ id: String) -> String { "task_\(id)" }

    var timestamp: JSONValue { OrchestrationStore.iso(clock.now().timeIntervalSince1970) }

    /// Sends `{"type": type, …fields, "timestamp": …}` to `channels` and to the daemon's event flow.
    func publish(_ type: String, _ fields: [(String, JSONValue)], to channels: [String]) {
        let message = JSONValue.object([("type", .string(type))] + fields + [("timestamp", timestamp)])
        let text = message.encodedString
        for channel in Set(channels) { hub.broadcast(text: text, to: channel) }
        events.publish(.module(module: "orchestration", type: type, payload: message))
    }

    func systemAlert(_ message: String, severity: String) {
        publish("system_alert", [("message", .string(message)), ("severity", .string(severity))], to: ["global"])
    }

    // MARK: Subscriptions

    func subscribe(_ socket: WebSocket, to channel: String) {
        hub.subscribe(socket, to: channel)
        let isNew = sockets.withLock { all -> Bool in
            let isNew = all[socket.id] == nil
            all[socket.id, default: []].insert(channel)
            return isNew
        }
        if isNew { socket.onClosed { [weak self] socket in _ = self?.sockets.withLock { $0.removeValue(forKey: socket.id) } } }
    }

    func unsubscribe(_ socket: WebSocket, from channel: String) {
        hub.unsubscribe(socket, from: channel)
        sockets.withLock { _ = $0[socket.id]?.remove(channel) }
    }

    /// Open connections and subscribers per channel.
    func census() -> (connections: Int, channels: [(String, Int)]) {
        sockets.withLock { all in
            var counts: [String: Int] = [:]
            for channels in all.values { for channel in channels { counts[channel, default: 0] += 1 } }
            return (all.count, counts.sorted { $0.key < $1.key })
        }
    }
}
