import Synchronization

/// Named channels of WebSocket subscribers with fan-out broadcast.
///
/// A message is encoded into one frame once and handed to each subscriber's event loop in one
/// job per loop. A subscriber that leaves more than `WebSocketConfiguration.maxBufferedBytes`
/// unread is dropped from that message (`.dropMessages`) or disconnected (`.disconnect`, the
/// default), so a stuck client never grows the server's memory. Closed sockets unsubscribe
/// themselves.
///
/// ```swift
/// let hub = WebSocketHub()
/// router.webSocket("/ws") { _, _ in
///     WebSocketHandler(onOpen: { hub.subscribe($0, to: "alerts") })
/// }
/// hub.broadcast(text: #"{"type":"alert"}"#, to: "alerts")
/// ```
public final class WebSocketHub: Sendable {
    public enum SlowConsumerPolicy: Sendable {
        case dropMessages
        case disconnect
    }

    public let slowConsumerPolicy: SlowConsumerPolicy
    private let channels = Mutex<[String: [UInt64: WebSocket]]>([:])

    public init(slowConsumerPolicy: SlowConsumerPolicy = .disconnect) {
        self.slowConsumerPolicy = slowConsumerPolicy
    }

    public func subscribe(_ socket: WebSocket, to channel: String) {
        let isNew = channels.withLock { channels -> Bool in
            let wasSubscribedAnywhere = channels.values.contains { $0[socket.id] != nil }
            channels[channel, default: [:]][socket.id] = socket
            return !wasSubscribedAnywhere
        }
        if isNew { socket.onClosed { [weak self] socket in self?.unsubscribeAll(socket) } }
    }

    public func unsubscribe(_ socket: WebSocket, from channel: String) {
        channels.withLock { channels in
            channels[channel]?[socket.id] = nil
            if channels[channel]?.isEmpty == true { channels[channel] = nil }
        }
    }

    public func unsubscribeAll(_ socket: WebSocket) {
        channels.withLock { channels in
            for name in Array(channels.keys) {
                channels[name]?[socket.id] = nil
                if channels[name]?.isEmpty == true { channels[name] = nil }
            }
        }
    }

    public func subscriberCount(of channel: String) -> Int {
        channels.withLock { $0[channel]?.count ?? 0 }
    }

    /// Sends a text message to every subscriber of `channel`. Returns how many it was queued for.
    @discardableResult
    public func broadcast(text: String, to channel: String) -> Int {
        broadcast(frame: WebSocketFrameCodec.encode(opcode: .text, payload: Array(text.utf8)), to: channel)
    }

    @discardableResult
    public func broadcast(binary: [UInt8], to channel: String) -> Int {
        broadcast(frame: WebSocketFrameCodec.encode(opcode: .binary, payload: binary), to: channel)
    }

    private func broadcast(frame: [UInt8], to channel: String) -> Int {
        let subscribers = channels.withLock { Array(($0[channel] ?? [:]).values) }
        var byLoop: [ObjectIdentifier: (EventLoop, [WebSocket])] = [:]
        for socket in subscribers {
            let loop = socket.connection.loop
            byLoop[ObjectIdentifier(loop), default: (loop, [])].1.append(socket)
        }
        let dropIfSlow = slowConsumerPolicy == .dropMessages
        for (loop, sockets) in byLoop.values {
            loop.execute {
                for socket in sockets { _ = socket.connection.webSocket?.send(frame: frame, dropIfSlow: dropIfSlow) }
            }
        }
        return subscribers.count
    }
}
