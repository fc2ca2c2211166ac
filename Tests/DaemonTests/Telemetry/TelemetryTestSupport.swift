import Foundation
import HTTPServer
@testable import Daemon

/// A ``TestDaemon`` with shortcuts to the telemetry module and its folders.
extension TestDaemon {
    var telemetry: TelemetryModule { daemon.modules.compactMap { $0 as? TelemetryModule }.first! }
    var inbox: URL { daemon.configuration.dataDirectory.appendingPathComponent("telemetry/inbox") }

    func json(_ method: String, _ path: String, _ body: Any? = nil, key: String? = TestDaemon.key) throws -> Reply {
        try request(method, path, body: body.map { try! JSONSerialization.data(withJSONObject: $0, options: [.fragmentsAllowed]) }, key: key)
    }

    /// Writes `data` into the inbox under a dot-name and renames it into place (what the scanner expects).
    func drop(_ name: String, _ data: Data) throws {
        let temporary = inbox.appendingPathComponent(".\(name).part")
        try data.write(to: temporary)
        try FileManager.default.moveItem(at: temporary, to: inbox.appendingPathComponent(name))
    }

    func kernelIDs() throws -> [String] {
        try (get("/api/telemetry/kernels/status").object["kernels"] as? [[String: Any]] ?? []).compactMap { $0["kernel_id"] as? String }
    }

    func control(_ kernel: String, _ action: String) throws -> Reply {
        try post("/api/telemetry/kernels/\(kernel)/control?action=\(action)")
    }

    func stopAllKernels() throws {
        for id in try kernelIDs() { let ok = try control(id, "stop").status == 200; precondition(ok) }
    }

    func tasks(_ query: String = "") throws -> [[String: Any]] {
        try get("/api/telemetry/htm/tasks?limit=500\(query)").object["tasks"] as? [[String: Any]] ?? []
    }
}

/// A 16 kHz mono 16-bit WAV of `seconds` of silence.
func silentWAV(seconds: Double) -> Data {
    let samples = Int(16_000 * seconds)
    var d = Data()
    func u32(_ v: Int) { d.append(contentsOf: withUnsafeBytes(of: UInt32(v).littleEndian, Array.init)) }
    func u16(_ v: Int) { d.append(contentsOf: withUnsafeBytes(of: UInt16(v).littleEndian, Array.init)) }
    d.append(contentsOf: Array("RIFF".utf8)); u32(36 + samples * 2); d.append(contentsOf: Array("WAVE".utf8))
    d.append(contentsOf: Array("fmt ".utf8)); u32(16); u16(1); u16(1); u32(16_000); u32(32_000); u16(2); u16(16)
    d.append(contentsOf: Array("data".utf8)); u32(samples * 2); d.append(Data(count: samples * 2))
    return d
}

/// A Python client (tools/requirements-test.txt) whose standard output can be read line by line while it runs.
final class PythonClient {
    let process = Process()
    private let output = Pipe()
    private let errors = Pipe()
    private var buffer = Data()

    init(script: String, arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // `timeout`: a client that waits forever fails the test instead of hanging it.
        process.arguments = ["timeout", "120", "python3", "-u", "-c", script] + arguments
        process.standardOutput = output
        process.standardError = errors
        try process.run()
    }

    /// The next line of output, or nil at end of output.
    func readLine() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                return line
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
        }
    }

    /// Waits for the process; returns its status, the rest of its output, and its standard error.
    func finish() -> (Int32, [String], String) {
        var lines: [String] = []
        while let line = readLine() { lines.append(line) }
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, lines, stderr)
    }
}

/// A JSON number as a Double, whether JSONSerialization made it an integer or not.
func number(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }
