import Foundation

/// One `argusd` subcommand. To add a command: write a type conforming to `Command` in its own file
/// (`FooCommand.swift`) and list it in ``CommandRegistry/all``. Parsing, `--help`, unknown-option errors
/// and "not available" handling come for free.
protocol Command {
    /// The word after `argusd` (`simulate`).
    static var name: String { get }
    /// One line for `argusd --help`.
    static var summary: String { get }
    /// Usage line(s) after `USAGE:`.
    static var usage: String { get }
    /// Accepted options (`--help` is implicit).
    static var options: [OptionSpec] { get }
    /// Extra paragraphs for `argusd <command> --help`.
    static var discussion: String { get }
    /// Example invocations for `--help`.
    static var examples: [String] { get }
    /// `false` lists the command as "not available in this build yet" and refuses to run it.
    static var isAvailable: Bool { get }
    /// Runs with parsed options; returns the process exit code.
    static func run(_ options: ParsedOptions) throws -> Int32
}

extension Command {
    static var discussion: String { "" }
    static var examples: [String] { [] }
    static var isAvailable: Bool { true }
}

/// One `--name [VALUE]` option.
struct OptionSpec {
    let name: String
    /// Placeholder for the value (`N`, `FILE`), or `nil` for a flag that takes no value.
    let value: String?
    let help: String
    /// Default shown in help.
    let defaultValue: String?

    init(_ name: String, value: String? = nil, default defaultValue: String? = nil, _ help: String) {
        self.name = name
        self.value = value
        self.help = help
        self.defaultValue = defaultValue
    }
}

/// Usage errors: printed with a pointer to the right `--help`, exit code 2.
enum CLIError: Error, CustomStringConvertible {
    case unknownCommand(String)
    case unknownOption(String, command: String)
    case missingValue(String, command: String)
    case invalidValue(option: String, command: String, value: String, expected: String)
    case missingRequired(String, command: String)
    case unexpectedArgument(String, command: String)
    case notAvailable(command: String)

    var description: String {
        switch self {
        case .unknownCommand(let c):
            "unknown command '\(c)'; see argusd --help"
        case .unknownOption(let o, let c):
            "unknown option \(o) for '\(c)'; see argusd \(c) --help"
        case .missingValue(let o, let c):
            "option --\(o) for '\(c)' needs a value; see argusd \(c) --help"
        case .invalidValue(let o, let c, let v, let expected):
            "invalid value '\(v)' for --\(o) of '\(c)': expected \(expected); see argusd \(c) --help"
        case .missingRequired(let o, let c):
            "'\(c)' needs --\(o); see argusd \(c) --help"
        case .unexpectedArgument(let a, let c):
            "unexpected argument '\(a)' for '\(c)' (options start with --); see argusd \(c) --help"
        case .notAvailable(let c):
            "'argusd \(c)' is not available in this build yet; see argusd --help for what is"
        }
    }
}

/// Options after parsing, with typed accessors that throw ``CLIError/invalidValue``.
struct ParsedOptions {
    let command: String
    private(set) var values: [String: String] = [:]
    private(set) var flags: Set<String> = []

    init(command: String, values: [String: String] = [:], flags: Set<String> = []) {
        self.command = command
        self.values = values
        self.flags = flags
    }

    func flag(_ name: String) -> Bool { flags.contains(name) }
    func string(_ name: String) -> String? { values[name] }

    func required(_ name: String) throws -> String {
        guard let v = values[name] else { throw CLIError.missingRequired(name, command: command) }
        return v
    }

    func int(_ name: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = values[name] else { return value }
        guard let v = Int(text), range.contains(v) else {
            throw CLIError.invalidValue(option: name, command: command, value: text,
                                        expected: "an integer in \(range.lowerBound)…\(range.upperBound)")
        }
        return v
    }

    func uint64(_ name: String, default value: UInt64) throws -> UInt64 {
        guard let text = values[name] else { return value }
        guard let v = UInt64(text) else {
            throw CLIError.invalidValue(option: name, command: command, value: text, expected: "a non-negative integer")
        }
        return v
    }

    func double(_ name: String, default value: Double, in range: ClosedRange<Double>) throws -> Double {
        guard let text = values[name] else { return value }
        guard let v = Double(text), v.isFinite, range.contains(v) else {
            throw CLIError.invalidValue(option: name, command: command, value: text,
                                        expected: "a number in \(range.lowerBound)…\(range.upperBound)")
        }
        return v
    }

    /// Parses `args` (after the command word) against `spec`. `--name value`, `--name=value` and flags.
    /// Returns `nil` when `--help`/`-h` was given.
    static func parse(_ args: [String], command: String, spec: [OptionSpec]) throws -> ParsedOptions? {
        var parsed = ParsedOptions(command: command)
        var i = 0
        while i < args.count {
            let arg = args[i]
            i += 1
            if arg == "--help" || arg == "-h" { return nil }
            guard arg.hasPrefix("--"), arg.count > 2 else {
                if arg.hasPrefix("-"), arg != "-" { throw CLIError.unknownOption(arg, command: command) }
                throw CLIError.unexpectedArgument(arg, command: command)
            }
            var name = String(arg.dropFirst(2))
            var inline: String?
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            guard let option = spec.first(where: { $0.name == name }) else {
                throw CLIError.unknownOption("--\(name)", command: command)
            }
            if option.value == nil {
                if inline != nil { throw CLIError.invalidValue(option: name, command: command, value: inline!, expected: "no value (it is a flag)") }
                parsed.flags.insert(name)
            } else if let inline {
                parsed.values[name] = inline
            } else {
                guard i < args.count, !(args[i].hasPrefix("--") && args[i].count > 2) else {
                    throw CLIError.missingValue(name, command: command)
                }
                parsed.values[name] = args[i]
                i += 1
            }
        }
        return parsed
    }
}

/// Help text rendering.
enum HelpFormatter {
    static func commandHelp(_ c: any Command.Type) -> String {
        var out = "argusd \(c.name) — \(c.summary)\n"
        if !c.isAvailable { out += "\nNOTE: not available in this build yet; the options below are the planned interface.\n" }
        out += "\nUSAGE:\n  \(c.usage)\n"
        let options = c.options + [OptionSpec("help", "Show this help.")]
        out += "\nOPTIONS:\n"
        let labels = options.map { o in "--\(o.name)" + (o.value.map { " \($0)" } ?? "") }
        let width = (labels.map(\.count).max() ?? 0) + 2
        for (o, label) in zip(options, labels) {
            let pad = String(repeating: " ", count: width - label.count)
            out += "  \(label)\(pad)\(o.help)"
            if let d = o.defaultValue { out += " (default: \(d))" }
            out += "\n"
        }
        if !c.discussion.isEmpty { out += "\n" + c.discussion.trimmingCharacters(in: .newlines) + "\n" }
        if !c.examples.isEmpty {
            out += "\nEXAMPLES:\n" + c.examples.map { "  \($0)" }.joined(separator: "\n") + "\n"
        }
        return out
    }

    static func mainHelp() -> String {
        var out = """
        argusd — Argus: forecasts server incidents hours ahead with a native Temporal Fusion Transformer.

        USAGE:
          argusd <command> [options]
          argusd <command> --help

        COMMANDS:

        """
        let width = (CommandRegistry.all.map { $0.name.count }.max() ?? 0) + 3
        for c in CommandRegistry.all {
            let pad = String(repeating: " ", count: width - c.name.count)
            out += "  \(c.name)\(pad)\(c.summary)"
            if !c.isAvailable { out += " [not available in this build yet]" }
            out += "\n"
        }
        out += """

        Run 'argusd <command> --help' for a command's options.

        EXAMPLES:
          argusd simulate --servers 45 --days 14 --seed 1 --out fleet.jsonl --incidents-out truth.json
          argusd simulate --days 2 --out fleet.csv

        """
        return out
    }
}

/// Standard error output for progress and errors (stdout stays clean for data, e.g. `--out -`).
enum Console {
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
