import Foundation
import HTTPServer

/// A lighter API living inside argusd (telemetry console, supervisor, orchestration, autopack).
///
/// A module owns its folder under `Sources/Daemon/Modules/<Name>/`: its routes, state and storage. It
/// reaches the daemon only through ``ModuleHost``, never through `ArgusDaemon`'s internals. Modules are
/// listed once, in ``ModuleCatalog``.
public protocol DaemonModule: AnyObject, Sendable {
    /// Short lowercase name: `telemetry`, `supervisor`, `orchestration`, `autopack`. Keys `/health`'s
    /// `modules` object and names the module's database file.
    var name: String { get }
    /// Adds the module's routes (with their own auth and rate limits) to the daemon's main router.
    func addRoutes(to router: Router<BasicRequestContext>)
    /// Starts background work (schedulers, workers, extra listeners) after the main server listens.
    func start() throws
    /// Stops background work; called before the database closes. Must be idempotent.
    func stop()
    /// The module's entry in `/health` → `modules.<name>`; `status` is `healthy`, `degraded` or `unhealthy`.
    func health() -> ModuleHealth
}

public struct ModuleHealth: Sendable {
    public var status: String
    public var details: [(String, JSONValue)]
    /// Members a module's own contract puts at the top level of `/health` (autopack's `kill_switches`,
    /// `version`); merged after the core's members, never replacing one.
    public var rootFields: [(String, JSONValue)]
    public init(status: String = "healthy", details: [(String, JSONValue)] = [], rootFields: [(String, JSONValue)] = []) {
        self.status = status
        self.details = details
        self.rootFields = rootFields
    }
}
