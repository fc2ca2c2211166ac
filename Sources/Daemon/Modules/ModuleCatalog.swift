/// Every module argusd runs, in start order. One line per module: this is the only place that names them.
enum ModuleCatalog {
    static func make(host: any ModuleHost) throws -> [any DaemonModule] {
        [
            try OrchestrationModule(host: host),
        ]
    }
}
