import Synchronization

/// A complete message from a client.
public enum WebSocketMessage: Sendable, Equatable {
    case text(String)
    case binary([UInt8])
}

/// What a WebSocket route does with an accepted connection. Callbacks run on the connection's
/// event loop: keep them short and hand blocking work to a `WorkerPool`.
public struct WebSocketHandler: Sendable {
    public var onOpen: @Sendable (WebSocket) -> Void
    public var onMessage: @Sendable (WebSocket, WebSocketMessage) -> Void
    /// Called exactly once, with the peer's code, the code we failed the connection with, or
    /// `.abnormalClosure` when the TCP connection just ended.
    public var onClose: @Sendable (WebSocket, WebSocketCloseCode) -> Void

    public init(onOpen: @escaping @Sendable (WebSocket) -> Void = { _ in },
                onMessage: @escaping @Sendable (WebSocket, WebSocketMessage) -> Void = { _, _ in },
                onClose: @escaping @Sendable (WebSocket, WebSocketCloseCode) -> Void = { _, _ in }) {
        self.onOpen = onOpen
        self.onMessage = onMessage
        self.onClose = onClose
    }
}

/// Carried by a 101 response from a WebSocket route to its connection.
struct WebSocketUpgrade: Sendable {
    var handler: WebSocketHandler
    /// The upgrade request without its body, for `WebSocket.request`.
    var request: Request
}

/// A handle on one open WebSocket connection. Safe to use from any thread; sends are queued on
/// the connection's event loop.
public final class WebSocket: Sendable, Hashable {
    /// Unique for the life of the process.
    public let id: UInt64
    /// The upgrade request (path, query, headers, client address).
    public let request: Request
    let connection: HTTPConnection
    private let closeHooks = Mutex<[@Sendable (WebSocket) -> Void]>([])

    init(connection: HTTPConnection, request: Request) {
        self.id = connection.id
        self.connection = connection
        self.request = request
    }

    public static func == (lhs: WebSocket, rhs: WebSocket) -> Bool { lhs === rhs }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }

    /// Sends a text message.
    public func send(text: String) {
        enqueue(frame: WebSocketFrameCodec.encode(opcode: .text, payload: Array(text.utf8)), dropIfSlow: false)
    }

    /// Sends a binary message.
    public func send(binary: [UInt8]) {
        enqueue(frame: WebSocketFrameCodec.encode(opcode: .binary, payload: binary), dropIfSlow: false)
    }

    /// Starts the close handshake; the TCP connection ends when the client answers or after
    /// `WebSocketConfiguration.closeTimeout`.
    public func close(code: WebSocketCloseCode = .normalClosure, reason: String = "") {
        let connection = self.connection
        run { connection.webSocket?.close(code: code, reason: reason) }
    }

    /// Runs `hook` once when the connection closes (the hub uses it to unsubscribe).
    public func onClosed(_ hook: @escaping @Sendable (WebSocket) -> Void) {
        closeHooks.withLock { $0.append(hook) }
    }

    func runCloseHooks() {
        let hooks = closeHooks.withLock { hooks in
            defer { hooks = [] }
            return hooks
        }
        for hook in hooks { hook(self) }
    }

    /// Queues an encoded frame. With `dropIfSlow` a client over its buffer limit misses this
    /// frame; otherwise it is disconnected.
    func enqueue(frame: [UInt8], dropIfSlow: Bool) {
        let connection = self.connection
        run { _ = connection.webSocket?.send(frame: frame, dropIfSlow: dropIfSlow) }
    }

    private func run(_ job: @escaping @Sendable () -> Void) {
        if connection.loop.isCurrent { job() } else { connection.loop.execute(job) }
    }
}
