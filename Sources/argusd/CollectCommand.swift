import Daemon
import Foundation
import HTTPServer
import Synchronization

/// `argusd collect`: this machine's /proc metrics → the daemon's feed, with an on-disk spool.
enum CollectCommand: Command {
    static let name = "collect"
    static let summary = "Collect this machine's /proc metrics and feed them to a daemon (durable spool)"
    static let usage = "argusd collect --url URL --key-file FILE [--interval 300] [--name HOST] [--spool FILE]"
    static let options = [
        OptionSpec("url", value: "URL", "The daemon, e.g. http://127.0.0.1:8000 (plain HTTP; required)."),
        OptionSpec("key-file", value: "FILE", "File holding the daemon's API key (the daemon's <data-dir>/api_key); TACHYON_API_KEY wins."),
        OptionSpec("interval", value: "SECONDS", default: "300", "Step between records; set it to the daemon's --step."),
        OptionSpec("name", value: "HOST", default: "this machine's hostname", "server_name of the records."),
        OptionSpec("spool", value: "FILE", default: "./data/collector/spool.sqlite", "Durable queue of unsent records (env STATE_DIRECTORY/spool.sqlite under systemd)."),
        OptionSpec("status", value: "STATUS", default: "healthy", "status of the records (e.g. maintenance during a planned window)."),
        OptionSpec("disk-path", value: "PATH", default: "/", "Filesystem whose usage is disk_usage_pct."),
        OptionSpec("log-level", value: "LEVEL", default: "info", "debug, info, warning or error."),
    ]
    static let discussion = """
    Every --interval seconds, on the grid of multiples of --interval since the epoch, one record is made
    from /proc (cpu shares and java_cpu_pct from /proc/stat and /proc/<pid>/stat deltas, memory and swap
    from /proc/meminfo, disk from statvfs, network MB/s from /proc/net/dev deltas, CLOSE_WAIT sockets
    from /proc/net/tcp{,6} split front/back by listening port, load and uptime), stamped with the start
    of the step it describes, written to the spool (fsync) and then posted. A record leaves the spool only
    after the daemon answered 2xx, so a daemon that is down or restarting loses nothing: the backlog is
    replayed oldest first. 429 waits Retry-After; other failures back off up to one interval.
    docs/collector.md documents every derivation and what a resend after a lost answer does.
    SIGINT/SIGTERM stop it; unsent records stay in the spool for the next start.
    """
    static let examples = [
        "argusd collect --url http://127.0.0.1:8000 --key-file ./data/api_key",
        "argusd collect --url http://argus.internal:8000 --key-file /etc/argusd/api_key --interval 300 --name web01",
    ]

    static func run(_ options: ParsedOptions) throws -> Int32 {
        let endpoint: FeedEndpoint
        do { endpoint = try FeedEndpoint(url: try options.required("url")) } catch let invalid as FeedEndpoint.Invalid {
            throw CLIError.invalidValue(option: "url", command: name, value: options.string("url") ?? "", expected: invalid.description)
        }
        let key = try apiKey(options)
        var configuration = Collector.Configuration(serverName: options.string("name") ?? ProcessInfo.processInfo.hostName)
        configuration.interval = Int64(try options.int("interval", default: 300, in: 1...86_400))
        let status = options.string("status") ?? "healthy"
        let statuses = ["healthy", "critical_issue", "heavy_load", "idle", "maintenance", "morning_spike", "offline", "recovery"]
        guard statuses.contains(status) else {
            throw CLIError.invalidValue(option: "status", command: name, value: status, expected: statuses.joined(separator: ", "))
        }
        configuration.status = status
        let level: Logger.Level = switch options.string("log-level") ?? "info" {
        case "debug": .debug
        case "info": .info
        case "warning": .warning
        case "error": .error
        case let other: throw CLIError.invalidValue(option: "log-level", command: name, value: other, expected: "debug, info, warning or error")
        }
        let spoolPath = options.string("spool")
            ?? ProcessInfo.processInfo.environment["STATE_DIRECTORY"].map { $0 + "/spool.sqlite" }
            ?? "./data/collector/spool.sqlite"
        let spool = try CollectorSpool(path: spoolPath)
        let reader = ProcReader(diskPath: options.string("disk-path") ?? "/")
        let logger = Logger(label: "collector", minimumLevel: level)
        let collector = Collector(configuration: configuration, spool: spool, reader: reader,
                                  sender: HTTPFeedSender(endpoint: endpoint, apiKey: key), logger: logger)
        logger.info("collector_started", ["url": .string("http://\(endpoint.host):\(endpoint.port)\(endpoint.prefix)"),
                                          "server_name": .string(configuration.serverName),
                                          "interval_s": .int(Int(configuration.interval)), "spool": .string(spoolPath),
                                          "queued": .int(try spool.count())])
        let stop = StopFlag()
        let finished = DispatchSemaphore(value: 0)
        let failure = Mutex<(any Error)?>(nil)
        Thread.detachNewThread {
            do { try collector.run(until: { stop.isSet }) } catch { failure.withLock { $0 = error } }
            finished.signal()
        }
        // The collector thread ends on its own only by failing (the spool became unwritable).
        DispatchQueue.global().async { ArgusDaemon.waitForTerminationSignal(); stop.set(); }
        finished.wait()
        let queued = (try? spool.count()) ?? -1
        spool.close()
        if let error = failure.withLock({ $0 }) { throw error }
        logger.info("collector_stopped", ["queued_for_next_start": .int(queued)])
        return 0
    }

    /// TACHYON_API_KEY, else the first line of --key-file.
    static func apiKey(_ options: ParsedOptions) throws -> String {
        if let key = ProcessInfo.processInfo.environment["TACHYON_API_KEY"], !key.isEmpty { return key }
        let path = try options.required("key-file")
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CLIError.invalidValue(option: "key-file", command: name, value: path, expected: "a readable file holding the API key")
        }
        let key = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard !key.isEmpty else {
            throw CLIError.invalidValue(option: "key-file", command: name, value: path, expected: "a file whose first line is the API key")
        }
        return key
    }
}

/// Set once by the signal watcher, read by the collector loop.
final class StopFlag: Sendable {
    private let flag = Atomic(false)
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
}
