import Foundation
import HTTPServer
import Testing
@testable import Daemon

/// The spec documents no auth. Loopback (default): open. Any other bind: the daemon's X-API-Key on every
/// route but `/api/health`; `--orchestration-port off` removes the listener.
@Suite struct OrchestrationAuthTests {
    @Test func loopbackBind_IsOpenAsDocumented() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        #expect(!d.module.requiresKey)
        #expect(try d.get("/api/projects").status == 200)
    }

    @Test func nonLoopbackBind_RequiresTheAPIKeyEverywhereButHealth() throws {
        let d = try OrchestrationDaemon { $0.host = "0.0.0.0" }
        defer { d.stop(); d.dir.cleanup() }
        #expect(d.module.requiresKey)
        #expect(try d.get("/api/health").status == 200)
        for route in d.module.router.routes where !route.operation.isHidden && route.path != "/api/health" {
            let path = route.path.replacingOccurrences(of: #"\{[a-z_]+\}"#, with: "x", options: .regularExpression)
            let reply = try d.request(route.method.rawValue, path, "{}")
            #expect(reply.status == 401, "\(route.method) \(route.path) → \(reply.status)")
        }
        #expect(try d.request("GET", "/api/projects", headers: ["X-API-Key": TestDaemon.key]).status == 200)
    }

    @Test func portOff_StartsNoListener() throws {
        let d = try OrchestrationDaemon { $0.orchestrationPort = nil }
        defer { d.stop(); d.dir.cleanup() }
        #expect(d.module.port == nil)
        #expect(try DaemonConfiguration.resolve(flags: ["orchestration-port": "off"], environment: [:]).orchestrationPort == nil)
        #expect(try DaemonConfiguration.resolve(flags: [:], environment: ["ARGUS_ORCHESTRATION_PORT": "1400"]).orchestrationPort == 1400)
        #expect(try DaemonConfiguration.resolve(flags: [:], environment: [:]).orchestrationPort == 1336)
        #expect(throws: DaemonConfiguration.Problem.self) { try DaemonConfiguration.resolve(flags: ["orchestration-port": "x"], environment: [:]) }
    }
}
