// Commands whose implementation lands with other parts of the project. They are listed honestly as not
// available; whoever wires one moves it to its own `<Name>Command.swift`, sets `isAvailable` (or drops
// the override) and implements `run`.

enum ServeCommand: Command {
    static let name = "serve"
    static let summary = "Run the daemon: feed ingestion, forecasts, risk, alerts and the HTTP API"
    static let usage = "argusd serve [--host 127.0.0.1] [--port 8000] [--data-dir ./data] [--model DIR]"
    static let options = [
        OptionSpec("host", value: "ADDR", default: "127.0.0.1", "Address to listen on."),
        OptionSpec("port", value: "N", default: "8000", "TCP port."),
        OptionSpec("data-dir", value: "DIR", default: "./data", "Where the SQLite database and models live."),
        OptionSpec("model", value: "DIR", "Model folder to serve (default: the newest in models/)."),
    ]
    static let isAvailable = false
    static func run(_ options: ParsedOptions) throws -> Int32 { throw CLIError.notAvailable(command: name) }
}

enum DemoCommand: Command {
    static let name = "demo"
    static let summary = "Run the daemon with a built-in simulated fleet feeding it live"
    static let usage = "argusd demo [--host 127.0.0.1] [--port 8000] [--data-dir ./data] [--model DIR]"
    static let options = ServeCommand.options
    static let isAvailable = false
    static func run(_ options: ParsedOptions) throws -> Int32 { throw CLIError.notAvailable(command: name) }
}
