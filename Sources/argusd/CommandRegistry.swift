import Daemon

/// Every `argusd` subcommand, in the order `argusd --help` lists them. Add new commands here.
enum CommandRegistry {
    static let all: [any Command.Type] = [
        ServeCommand.self,
        CollectCommand.self,
        DemoCommand.self,
        TrainCommand.self,
        EvaluateCommand.self,
        SimulateCommand.self,
        EvaluateAlertsCommand.self,
    ]

    static func find(_ name: String) -> (any Command.Type)? {
        all.first { $0.name == name }
    }

    /// Dispatches `arguments` (without the program name); returns the exit code.
    /// 0 success, 1 runtime failure, 2 usage error, 3/4/5 database damaged/locked/unwritable at start.
    static func main(_ arguments: [String]) -> Int32 {
        guard let first = arguments.first else {
            print(HelpFormatter.mainHelp(), terminator: "")
            return 0
        }
        if first == "--help" || first == "-h" || first == "help" {
            if first == "help", arguments.count > 1, let c = find(arguments[1]) {
                print(HelpFormatter.commandHelp(c), terminator: "")
            } else {
                print(HelpFormatter.mainHelp(), terminator: "")
            }
            return 0
        }
        guard let command = find(first) else {
            if first.hasPrefix("-") {
                Console.error("argusd: unknown option \(first); see argusd --help")
            } else {
                Console.error("argusd: \(CLIError.unknownCommand(first))")
            }
            return 2
        }
        do {
            guard let options = try ParsedOptions.parse(Array(arguments.dropFirst()), command: command.name,
                                                        spec: command.options) else {
                print(HelpFormatter.commandHelp(command), terminator: "")
                return 0
            }
            guard command.isAvailable else { throw CLIError.notAvailable(command: command.name) }
            return try command.run(options)
        } catch let error as CLIError {
            Console.error("argusd: \(error)")
            return 2
        } catch let error as DatabaseStartupError {
            Console.error("argusd \(command.name): error: \(error)")
            return error.exitCode
        } catch {
            Console.error("argusd \(command.name): error: \(error)")
            return 1
        }
    }
}
