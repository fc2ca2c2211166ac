import Foundation
@testable import Daemon

/// Runs a program found on PATH (python3 from .venv-test under tools/test.sh) and returns status, stdout, stderr.
func runTool(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [executable] + arguments
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
}

/// An ``AuthService`` in a temporary directory on a manual clock, with cheap password hashing.
struct TestAuth {
    let dir: TemporaryDirectory
    let clock: ManualClock
    let auth: AuthService
    static let adminPassword = "admin-password-1"

    init(dir: TemporaryDirectory? = nil, clock: ManualClock = ManualClock()) throws {
        self.dir = try dir ?? TemporaryDirectory()
        self.clock = clock
        var settings = AuthService.Settings()
        settings.passwordIterations = 1_000
        settings.bootstrapAdminPassword = Self.adminPassword
        auth = try AuthService(directory: self.dir.url.appendingPathComponent("auth"), clock: clock, settings: settings)
    }

    func reopen() throws -> TestAuth {
        auth.close()
        return try TestAuth(dir: dir, clock: clock)
    }
}
