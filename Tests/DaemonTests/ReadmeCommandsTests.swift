import Foundation
import Testing

/// The README's two commands are what a newcomer runs and what CI runs: keep them one and the same.
@Suite struct ReadmeCommandsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The first two commands of the README's "Two commands" block, comments dropped.
    static func readmeCommands() throws -> (setup: String, test: String) {
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.range(of: "## Two commands"))
        let fenceStart = try #require(readme.range(of: "```bash\n", range: section.upperBound..<readme.endIndex))
        let fenceEnd = try #require(readme.range(of: "```", range: fenceStart.upperBound..<readme.endIndex))
        let lines = readme[fenceStart.upperBound..<fenceEnd.lowerBound].split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        try #require(lines.count == 2, "the README's block should hold exactly two commands: \(lines)")
        return (lines[0], lines[1])
    }

    static func ciScript() throws -> String {
        try String(contentsOf: root.appendingPathComponent(".ci/run"), encoding: .utf8)
    }

    /// apt packages named by `apt-get install` lines (flags and `$SUDO` dropped).
    static func aptPackages(_ text: String) -> Set<String> {
        var packages = Set<String>()
        for command in text.split(whereSeparator: { $0 == "\n" || $0 == "&" || $0 == ";" }) where command.contains("apt-get install") {
            let words = command.split(separator: " ").map(String.init)
            guard let install = words.firstIndex(of: "install") else { continue }
            for word in words[(install + 1)...] where !word.hasPrefix("-") && !word.hasPrefix(">") && !word.contains("/dev/null") {
                packages.insert(word)
            }
        }
        return packages
    }

    @Test func ciRunsTheReadmesTestCommand() throws {
        let (_, test) = try Self.readmeCommands()
        let ciCommands = try Self.ciScript().split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        #expect(ciCommands.last == test, "the last command of .ci/run must be the README's test command `\(test)`")
    }

    @Test func setUpCommandUpdatesPackageListsAndCIInstallsAtLeastAsMuch() throws {
        let (setup, _) = try Self.readmeCommands()
        let update = try #require(setup.range(of: "apt-get update"), "a fresh Debian has empty package lists")
        let install = try #require(setup.range(of: "apt-get install"))
        #expect(update.lowerBound < install.lowerBound)
        #expect(setup.contains("swift run -c release argusd demo"))
        let readmePackages = Self.aptPackages(setup)
        #expect(readmePackages.isSuperset(of: ["libopenblas-dev", "liblapacke-dev", "libsqlite3-dev", "libssl-dev"]))
        let ciPackages = Self.aptPackages(try Self.ciScript())
        #expect(readmePackages.subtracting(["sudo"]).isSubset(of: ciPackages),
                "CI must install what the README installs: missing \(readmePackages.subtracting(ciPackages).subtracting(["sudo"]))")
        #expect(try Self.ciScript().contains("apt-get update"))
    }
}
