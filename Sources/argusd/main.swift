import Foundation

// argusd: the command-line entry point. Commands live in `*Command.swift`, listed in CommandRegistry.
exit(CommandRegistry.main(Array(CommandLine.arguments.dropFirst())))
