extension HTTPConnection {
    /// Switches to RFC 6455 after the 101 response has been queued.
    func startWebSocket(_ upgrade: WebSocketUpgrade) {
        let session = WebSocketSession(connection: self, handler: upgrade.handler, request: upgrade.request,
                                       configuration: server.configuration.webSocket)
        webSocket = session
        session.handler.onOpen(session.socket)
    }

    func webSocketReceived(_ bytes: UnsafeRawBufferPointer) {
        guard let session = webSocket, !isClosed else { return }
        if inbound.isEmpty {
            let consumed = session.consume(bytes)
            if consumed < bytes.count && !isClosed {
                inbound.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[consumed...]))
            }
        } else {
            inbound.append(contentsOf: bytes)
            var pending = inbound
            inbound = []
            let consumed = pending.withUnsafeBytes { session.consume($0) }
            if consumed < pending.count && !isClosed {
                pending.removeFirst(consumed)
                inbound = pending
            }
        }
        flush()
    }
}
