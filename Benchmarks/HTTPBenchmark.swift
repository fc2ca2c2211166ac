import Foundation
import Glibc
import HTTPServer

/// `Benchmarks http`: GET /health under wrk next to a bare epoll responder and under hostile clients,
/// the memory cost of 10,000 idle keep-alive connections, and a 1 KiB WebSocket broadcast to 1,000 clients.
enum HTTPBenchmark {
    static func run(_ arguments: [String]) throws {
        if arguments.first == "idle-clients", arguments.count == 3, let port = Int(arguments[1]), let count = Int(arguments[2]) {
            try IdleClients.run(port: port, count: count)
            return
        }
        if arguments.first == "attack", arguments.count == 3, let port = Int(arguments[2]) {
            AttackerProcess.runChild(kind: arguments[1], port: port)
            return
        }
        if arguments.first == "ws-study" {
            let hub = WebSocketHub()
            let server = try makeServer(hub: hub)
            try server.start()
            try underAttack(server: server, hub: hub, port: server.port!, seconds: arguments.dropFirst().first.flatMap(Int.init) ?? 10,
                            only: .webSocket)
            server.shutdown(gracePeriod: .seconds(2))
            return
        }
        if arguments.first == "churn-study" {
            try ChurnStudy.run(seconds: arguments.dropFirst().first.flatMap(Int.init) ?? 10)
            return
        }
        let duration = arguments.first.flatMap(Int.init) ?? 10
        print("Benchmarks http — \(ProcessInfo.processInfo.activeProcessorCount) cores shared by wrk and the server; "
              + "load average at start: \(loadAverage())")

        let hub = WebSocketHub()
        let server = try makeServer(hub: hub)
        try server.start()
        let port = server.port!
        let ours = try Wrk.run(url: "http://127.0.0.1:\(port)/health", seconds: duration)

        let peer = try BareEpollPeer.start()
        let bare = try Wrk.run(url: "http://127.0.0.1:\(peer.port)/health", seconds: duration)
        peer.stop()

        print("")
        print("GET /health, wrk -t2 -c64 -d\(duration)s")
        print(String(format: "  argus HTTPServer   %10.0f req/s   p99 %7.2f ms", ours.requestsPerSecond, ours.p99Milliseconds))
        print(String(format: "  bare epoll (C)     %10.0f req/s   p99 %7.2f ms", bare.requestsPerSecond, bare.p99Milliseconds))
        print(String(format: "  ratio argus/bare   %10.2f", ours.requestsPerSecond / bare.requestsPerSecond))
        print("  target: >= 60,000 req/s and p99 < 5 ms -> \(ours.requestsPerSecond >= 60_000 && ours.p99Milliseconds < 5 ? "met" : "NOT met")")

        try underAttack(server: server, hub: hub, port: port, seconds: duration)
        try idleConnections(server: server, port: port, count: 10_000)
        try WebSocketFanOut.run(hub: hub, port: port, clients: 1_000, rounds: 20)
        server.shutdown(gracePeriod: .seconds(2))
    }

    static func makeServer(hub: WebSocketHub) throws -> HTTPServer {
        let router = Router(context: BasicRequestContext.self, logger: Logger(sink: .discard))
        let health = JSONValue.object([("status", "ok")]).encoded()
        router.get("/health", execution: .eventLoop) { _, _ in .json(bytes: health) }
        router.webSocket("/ws") { _, _ in WebSocketHandler(onOpen: { hub.subscribe($0, to: "bench") }) }
        var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0)
        configuration.logger = Logger(minimumLevel: .warning)
        configuration.maxConnections = 12_000
        // Never-reading WebSocket clients each hold up to this much of the server's memory before they
        // are dropped; 1 MiB (default 4 MiB) keeps 100 of them frugal on this shared machine.
        configuration.webSocket.maxBufferedBytes = 1024 * 1024
        return try HTTPServer(configuration: configuration, responder: router)
    }

    /// Which rows `underAttack` measures (`http ws-study`: the WebSocket ones only).
    enum Rows { case all, webSocket }

    /// GET /health latency with no attacker, then while each kind of hostile client runs next to wrk,
    /// in one run, with what the server counted (``HTTPServer/rejections``) and its peak RSS.
    static func underAttack(server: HTTPServer, hub: WebSocketHub, port: Int, seconds: Int, only rows: Rows = .all) throws {
        let url = "http://127.0.0.1:\(port)/health"
        print("")
        print("GET /health under hostile clients, wrk -t2 -c64 -d\(seconds)s each (attackers: a thread of this process)")
        func rejections() -> [String: UInt64] {
            Dictionary(uniqueKeysWithValues: server.rejections.map { ($0.kind.rawValue, $0.count) })
        }
        func measure(_ label: String, _ kind: Attacker.Kind?, _ broadcast: Bool = false) throws {
            let before = rejections()
            let rssBefore = residentKilobytes()
            let peak = PeakRSS.start()
            let broadcaster = broadcast ? Broadcaster.start(hub: hub) : nil
            let attacker = kind.map { Attacker.start($0, port: port) }
            let result = try Wrk.run(url: url, seconds: seconds)
            attacker?.stop()
            broadcaster?.stop()
            let peakKilobytes = peak.stop()
            let counted = rejections().compactMap { kind, count in
                count > (before[kind] ?? 0) ? "\(kind) \(count - (before[kind] ?? 0))" : nil
            }.sorted().joined(separator: ", ")
            print("  " + label.padding(toLength: 34, withPad: " ", startingAt: 0)
                  + String(format: " %9.0f req/s   p50 %6.2f ms   p99 %7.2f ms", result.requestsPerSecond,
                           result.p50Milliseconds, result.p99Milliseconds))
            var details = attacker.map { ["\($0.opened.load(ordering: .relaxed)) attacker connections"] } ?? []
            if let broadcaster { details.append("\(broadcaster.rounds.load(ordering: .relaxed)) broadcasts") }
            if !counted.isEmpty { details.append("server counted: " + counted) }
            details.append(String(format: "peak RSS +%.0f MiB", Double(max(0, peakKilobytes - rssBefore)) / 1024))
            print("      " + details.joined(separator: "; "))
        }
        try measure("no attacker", nil)
        if rows == .webSocket {
            try webSocketRows(measure)
            return
        }
        try measure("200 slowloris held open", .slowloris(count: 200))
        try measure("open/drop loop", .churn)
        try measure("oversized heads loop (431)", .oversizedHeads)
        try measure("oversized bodies loop (413)", .oversizedBodies)
        try webSocketRows(measure)
    }

    /// The never-reading WebSocket clients next to the same fan-out to clients that read.
    static func webSocketRows(_ measure: (String, Attacker.Kind?, Bool) throws -> Void) throws {
        try measure("100 reading WS + broadcasts", .webSocket(count: 100, reads: true, smallReceiveBuffer: false), true)
        try measure("100 never-reading WS + broadcasts", .webSocket(count: 100, reads: false, smallReceiveBuffer: false), true)
        try measure("... with a 4 KiB SO_RCVBUF", .webSocket(count: 100, reads: false, smallReceiveBuffer: true), true)
    }

    static func idleConnections(server: HTTPServer, port: Int, count: Int) throws {
        let before = residentKilobytes()
        let kernelBefore = kernelTCPPages()
        let helper = Process()
        helper.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        helper.arguments = ["http", "idle-clients", String(port), String(count)]
        let input = Pipe(), output = Pipe()
        helper.standardInput = input
        helper.standardOutput = output
        try helper.run()
        let line = output.fileHandleForReading.readLine()
        let opened = server.connectionCount
        let after = residentKilobytes()
        let kernelAfter = kernelTCPPages()
        print("")
        print("Idle keep-alive connections (each served one request, then left open)")
        print("  helper reported: \(line ?? "nothing"); server holds \(opened) connections")
        print(String(format: "  server RSS %d KiB -> %d KiB: +%.1f MiB, %.0f bytes per connection",
                     before, after, Double(after - before) / 1024, Double(after - before) * 1024 / Double(max(opened, 1))))
        print(String(format: "  kernel TCP memory (both ends, /proc/net/sockstat): +%.1f MiB",
                     Double((kernelAfter - kernelBefore) * 4096) / 1_048_576))
        try input.fileHandleForWriting.close()
        helper.waitUntilExit()
        var waited = 0
        while server.connectionCount > 0 && waited < 500 {
            usleep(10_000)
            waited += 1
        }
    }

    static func residentKilobytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }
        return 0
    }

    static func kernelTCPPages() -> Int {
        guard let stat = try? String(contentsOfFile: "/proc/net/sockstat", encoding: .utf8) else { return 0 }
        for line in stat.split(separator: "\n") where line.hasPrefix("TCP:") {
            let fields = line.split(separator: " ")
            if let index = fields.firstIndex(of: "mem"), index + 1 < fields.count { return Int(fields[index + 1]) ?? 0 }
        }
        return 0
    }

    static func loadAverage() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
    }
}

extension FileHandle {
    /// One line from a pipe, without its newline.
    func readLine() -> String? {
        var bytes: [UInt8] = []
        while true {
            let data = readData(ofLength: 1)
            guard let byte = data.first else { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if byte == 0x0A { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
    }
}
