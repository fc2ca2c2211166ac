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

enum TrainCommand: Command {
    static let name = "train"
    static let summary = "Train a model on a data file or a simulated fleet"
    static let usage = "argusd train (--data FILE | --simulate) --epochs N --out models/ [--from MODEL]"
    static let options = [
        OptionSpec("data", value: "FILE", "Feed records (JSONL or CSV) to train on."),
        OptionSpec("simulate", "Train on a freshly simulated fleet."),
        OptionSpec("epochs", value: "N", "Epochs to train."),
        OptionSpec("out", value: "DIR", "Folder that receives the new model folder."),
        OptionSpec("from", value: "MODEL", "Warm-start from an existing model folder."),
    ]
    static let isAvailable = false
    static func run(_ options: ParsedOptions) throws -> Int32 { throw CLIError.notAvailable(command: name) }
}

enum EvaluateCommand: Command {
    static let name = "evaluate"
    static let summary = "Score a model against held-out data and baselines"
    static let usage = "argusd evaluate --model DIR --data FILE"
    static let options = [
        OptionSpec("model", value: "DIR", "Model folder."),
        OptionSpec("data", value: "FILE", "Feed records (JSONL or CSV)."),
    ]
    static let isAvailable = false
    static func run(_ options: ParsedOptions) throws -> Int32 { throw CLIError.notAvailable(command: name) }
}
