import Foundation
import HTTPServer

/// `/ws/telemetry`: the state frame on connect and every 2 s, the daemon's events as they happen, and the
/// spec's heartbeat (raw text `ping` → `{"type":"pong"}`). Sends go through a ``WebSocketHub``, which drops
/// a consumer that stops reading instead of buffering for it.
struct TelemetryBroadcaster: Sendable {
    static let channel = "telemetry"
    let hub = WebSocketHub(slowConsumerPolicy: .disconnect)
    /// Builds the current state frame (the spec's `kernels`/`htm`/`crypto` sections).
    let stateFrame: @Sendable () -> JSONValue

    var subscribers: Int { hub.subscriberCount(of: Self.channel) }

    func handler() -> WebSocketHandler {
        WebSocketHandler(
            onOpen: { [hub, stateFrame] socket in
                hub.subscribe(socket, to: Self.channel)
                socket.send(text: stateFrame().encodedString)
            },
            onMessage: { socket, message in
                guard case .text(let text) = message else { return }
                let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
                if trimmed == "ping" || trimmed == "\"ping\"" || trimmed.replacingOccurrences(of: " ", with: "") == #"{"type":"ping"}"# {
                    socket.send(text: #"{"type":"pong"}"#)
                }
            })
    }

    /// The periodic frame; skipped (not even built) without subscribers.
    func broadcastState() {
        guard subscribers > 0 else { return }
        hub.broadcast(text: stateFrame().encodedString, to: Self.channel)
    }

    /// One event frame: `{"type":"event","source":…,"event":…,"timestamp":…,"payload":{…}}`.
    func broadcastEvent(source: String, event: String, payload: JSONValue) {
        guard subscribers > 0 else { return }
        let frame: JSONValue = ["type": "event", "source": .string(source), "event": .string(event),
                                "timestamp": .string(TelemetryFormat.iso(Date())), "payload": payload]
        hub.broadcast(text: frame.encodedString, to: Self.channel)
    }
}
