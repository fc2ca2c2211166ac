import Foundation
import Glibc
@testable import Daemon

/// A fresh temporary directory, removed by `cleanup()`.
struct TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("argus-daemon-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    var path: String { url.path }

    func cleanup() { try? FileManager.default.removeItem(at: url) }
}

/// Builders for feed JSON.
enum Feed {
    /// A valid record as a JSON-able dictionary; override any field with `overrides` (NSNull to send null),
    /// drop fields with `removing`.
    static func record(server: String = "ppdb001", timestamp: String = "2025-01-15T10:00:00",
                       status: String = "healthy", overrides: [String: Any] = [:], removing: [String] = []) -> [String: Any]
    {
        var record: [String: Any] = [
            "timestamp": timestamp, "server_name": server, "status": status,
            "cpu_user_pct": 25.3, "cpu_sys_pct": 8.2, "cpu_iowait_pct": 2.1, "cpu_idle_pct": 64.4,
            "java_cpu_pct": 15.5, "mem_used_pct": 72.1, "swap_used_pct": 5.2, "disk_usage_pct": 45.8,
            "net_in_mb_s": 12.5, "net_out_mb_s": 8.3, "back_close_wait": 5, "front_close_wait": 3,
            "load_average": 2.4, "uptime_days": 45,
        ]
        for (key, value) in overrides { record[key] = value }
        for key in removing { record.removeValue(forKey: key) }
        return record
    }

    static func body(_ records: [[String: Any]]) -> Data {
        try! JSONSerialization.data(withJSONObject: ["records": records])
    }

    static func body(_ object: Any) -> Data {
        try! JSONSerialization.data(withJSONObject: object, options: [.fragmentsAllowed])
    }

    /// Epoch seconds of 2025-01-15T10:00:00Z.
    static let base: Int64 = 1_736_935_200

    static func iso(_ epoch: Int64) -> String { ISO8601Timestamp.format(epoch) }

    /// One record per server at `epoch`, with `mem_used_pct` = `mem` (default: derived from the time).
    static func fleet(_ servers: [String], at epoch: Int64, mem: Double? = nil) -> [[String: Any]] {
        servers.map { record(server: $0, timestamp: iso(epoch),
                             overrides: ["mem_used_pct": mem ?? Double((epoch / 300) % 97)]) }
    }
}

extension FeedStoreConfiguration {
    /// A small configuration for fast tests; future-skew check off (fixtures are in 2025).
    static func test(window: Int = 16, warmup: Int = 4, fill: Int = 3, step: Int64 = 300) -> FeedStoreConfiguration {
        var c = FeedStoreConfiguration()
        c.rollingWindowSize = window
        c.warmupSteps = warmup
        c.maxForwardFillSteps = fill
        c.stepSeconds = step
        c.validation.maxFutureSkewSeconds = nil
        return c
    }
}

/// Runs a real client (`curl`, `python3`, found on PATH) and returns (status, stdout, stderr). A client that is not
/// installed is an error naming what to install, never a silently skipped check.
func runTool(_ tool: String, _ arguments: [String], requires: String) throws -> (Int32, String, String) {
    struct MissingTool: Error, CustomStringConvertible { let description: String }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [tool] + arguments
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let out = output.fileHandleForReading.readDataToEndOfFile()
    let err = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    if process.terminationStatus == 127 || err.contains("ModuleNotFoundError") {
        throw MissingTool(description: "\(tool) could not run: this test needs \(requires). \(err.split(separator: "\n").last ?? "")")
    }
    return (process.terminationStatus, String(decoding: out, as: UTF8.self), err)
}

extension TemporaryDirectory {
    /// An existing directory (a crash child reuses its parent's).
    init(existing url: URL) { self.url = url }
}

/// Polls `condition` up to `seconds`; for waiting on another thread without timing assertions. The bound is
/// only a liveness limit (a passing test returns as soon as the condition holds), so it is generous: the
/// machine is shared and a loaded one can stall a thread for seconds.
func waitUntil(seconds: Double = 60, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(10_000)
    }
    return try condition()
}

/// ``waitUntil(seconds:_:)`` for conditions that cannot throw.
func eventually(seconds: Double = 60, _ condition: () -> Bool) -> Bool {
    waitUntil(seconds: seconds, condition)
}

/// Runs this test binary again with only the test `filter` (a crash child that SIGKILLs itself), with
/// `environment` added, and waits for it. The child test is disabled unless its variable is set.
func runTestChild(filter: String, environment extra: [String: String]) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    process.arguments = ["--testing-library", "swift-testing", "--filter", filter]
    process.environment = ProcessInfo.processInfo.environment.merging(extra) { _, new in new }
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return process
}

/// Raw TCP connections to a test daemon on the loopback interface, for tests that speak bytes themselves.
enum Loopback {
    /// A socket connected to 127.0.0.1:`port` (the caller closes it); `receiveTimeout` seconds bound each recv.
    static func connect(port: Int, receiveTimeout: Int? = nil, receiveBuffer: Int32? = nil) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, 4) }
        if let seconds = receiveTimeout {
            var timeout = timeval(tv_sec: seconds, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); throw POSIXError(.ECONNREFUSED) }
        return fd
    }
}
