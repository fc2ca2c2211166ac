import Dispatch
import Foundation
import HTTPServer
import Synchronization

/// Pushes the daemon's events to the dashboard's WebSockets (`/dashboard/ws`), so pages update on each tick
/// without polling.
///
/// Auth: a browser cannot set `X-API-Key` on a WebSocket, so the first message must be
/// `{"type":"auth","key":"…"}`; the key is checked in constant time by the daemon's ``APIKeyMiddleware``.
/// Until then the socket receives nothing; a wrong key, any other first message, or no message within
/// `authTimeout` closes it with 4401. Then, per event, one message is encoded once and fanned out by a
/// ``WebSocketHub`` (a client that stops reading is disconnected rather than buffered without bound):
///
/// - `{"type":"tick","tick":…,"predictions":<GET /predictions/current?compact=true>,"alerts":<GET /alerts/active>}`
/// - `{"type":"training", <GET /admin/training-status fields>}`
/// - `{"type":"model_loaded","name":…,"path":…}`
///
/// Right after a successful auth the socket gets `hello`, the latest tick and the training status.
public final class DashboardPush: Sendable {
    static let channel = "dashboard"
    /// Close code for a refused key (the 4000–4999 private range, mirroring HTTP 401).
    static let unauthorized = WebSocketCloseCode(rawValue: 4401)

    let hub = WebSocketHub(slowConsumerPolicy: .disconnect)
    let events: DaemonEvents
    let auth: APIKeyMiddleware<BasicRequestContext>
    let logger: Logger
    /// Refused keys are a client's doing: one line per interval, with a count, not one per socket.
    let refusals: ThrottledLog
    let authTimeout: Double
    private let subscription = Mutex<DaemonEventSubscription?>(nil)
    private let sources = Mutex<(snapshot: @Sendable () -> Snapshot?, training: @Sendable () -> TrainingService.Status)?>(nil)
    /// Sockets that have not authenticated yet.
    private let unauthenticated = Mutex<Set<UInt64>>([])

    public init(events: DaemonEvents, auth: APIKeyMiddleware<BasicRequestContext>, logger: Logger, authTimeout: Double = 10) {
        self.events = events
        self.auth = auth
        self.logger = logger
        refusals = ThrottledLog(logger: logger)
        self.authTimeout = authTimeout
    }

    /// Subscribes to the daemon's events; `latestSnapshot` and `trainingStatus` greet new sockets.
    public func start(latestSnapshot: @escaping @Sendable () -> Snapshot?,
                      trainingStatus: @escaping @Sendable () -> TrainingService.Status) {
        sources.withLock { $0 = (latestSnapshot, trainingStatus) }
        let handle = events.subscribe { [weak self] event in self?.publish(event) }
        subscription.withLock { $0?.cancel(); $0 = handle }
    }

    public func stop() {
        subscription.withLock { $0?.cancel(); $0 = nil }
    }

    /// Authenticated dashboard connections.
    public var subscriberCount: Int { hub.subscriberCount(of: Self.channel) }

    func publish(_ event: DaemonEvent) {
        guard let message = Self.message(for: event) else { return }
        hub.broadcast(text: message, to: Self.channel)
    }

    /// The push message for an event (nil: not pushed).
    static func message(for event: DaemonEvent) -> String? {
        switch event {
        case .tick(let snapshot): return tickMessage(snapshot)
        case .training(let status): return String(decoding: status.json(prefix: "\"type\":\"training\","), as: UTF8.self)
        case .modelLoaded(let name, let path):
            var w = JSONWriter(capacity: 128)
            w.raw("{\"type\":\"model_loaded\",\"name\":"); w.string(name)
            w.raw(",\"path\":"); w.string(path)
            w.raw("}")
            return String(decoding: w.bytes, as: UTF8.self)
        case .module: return nil
        }
    }

    /// The snapshot's pre-encoded compact predictions and active alerts, spliced (no re-encoding).
    static func tickMessage(_ snapshot: Snapshot) -> String {
        var w = JSONWriter(capacity: snapshot.compactBody.count + snapshot.alertsBody.count + 64)
        w.raw("{\"type\":\"tick\",\"tick\":"); w.int(Int(snapshot.tick))
        w.raw(",\"predictions\":"); w.raw(snapshot.compactBody)
        w.raw(",\"alerts\":"); w.raw(snapshot.alertsBody)
        w.raw("}")
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// The callbacks of one dashboard WebSocket.
    func handler() -> WebSocketHandler {
        WebSocketHandler(onOpen: { [self] socket in
            unauthenticated.withLock { _ = $0.insert(socket.id) }
            DispatchQueue.global().asyncAfter(deadline: .now() + authTimeout) { [weak self] in
                guard let self, self.unauthenticated.withLock({ $0.remove(socket.id) }) != nil else { return }
                socket.close(code: Self.unauthorized, reason: "authentication timeout")
            }
        }, onMessage: { [self] socket, message in
            guard unauthenticated.withLock({ $0.remove(socket.id) }) != nil else { return }   // later messages: ignored
            guard case .text(let text) = message, let key = Self.authKey(text), auth.accepts(key) else {
                refusals.record(kind: "dashboard_ws_refused", message: "dashboard_ws_refused", client: socket.request.remoteAddress)
                socket.send(text: #"{"type":"error","detail":"Invalid or missing API key"}"#)
                socket.close(code: Self.unauthorized, reason: "Invalid or missing API key")
                return
            }
            hub.subscribe(socket, to: Self.channel)
            socket.send(text: #"{"type":"hello"}"#)
            if let (snapshot, training) = sources.withLock({ $0 }) {
                if let latest = snapshot() { socket.send(text: Self.tickMessage(latest)) }
                socket.send(text: String(decoding: training().json(prefix: "\"type\":\"training\","), as: UTF8.self))
            }
        }, onClose: { [self] socket, _ in
            unauthenticated.withLock { _ = $0.remove(socket.id) }
        })
    }

    /// The key of an `{"type":"auth","key":"…"}` message.
    static func authKey(_ text: String) -> String? {
        guard text.utf8.count <= 4096,
              let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              object["type"] as? String == "auth", let key = object["key"] as? String, !key.isEmpty else { return nil }
        return key
    }
}
