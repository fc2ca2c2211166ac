import Foundation
@testable import Daemon

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
