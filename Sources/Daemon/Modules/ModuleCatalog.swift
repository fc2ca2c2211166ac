import Foundation

/// Every module argusd runs, in start order. One line per module: this is the only place that names them.
enum ModuleCatalog {
    static func make(host: any ModuleHost) throws -> [any DaemonModule] {
        [
            try SupervisorModule(host: host),
            try AutopackModule(host: host, settings: AutopackSettings(environment: ProcessInfo.processInfo.environment)),
            try TelemetryModule(host: host),
            try OrchestrationModule(host: host),
        ]
    }
}
