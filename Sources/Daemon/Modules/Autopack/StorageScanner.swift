import Foundation

/// A bounded filesystem walk that classifies cleanup candidates with a fixed policy (temporary files, logs,
/// caches and build outputs, old archives, large old files). Read-only: nothing is ever deleted.
struct StorageScanner {
    struct Item {
        var path: String
        var size: Int
        var modified: Double
    }
    struct Candidate {
        var item: Item
        var category: String
        var reason: String
    }
    struct Result {
        var items: [Item]
        var candidates: [Candidate]
        var truncated: Bool
    }

    static let categories = ["temp_files", "logs", "caches", "old_archives", "large_old_files"]

    var maxDepth: Int
    var maxItems: Int
    var now: Double

    func scan(_ root: URL) -> Result {
        var items: [Item] = []
        var truncated = false
        let keys: [URLResourceKey] = [.isRegularFileKey, .fileSizeKey, .contentModificationDateKey, .isSymbolicLinkKey]
        let rootDepth = root.standardizedFileURL.pathComponents.count
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: keys, options: [],
                                                          errorHandler: { _, _ in true }) else {
            return Result(items: [], candidates: [], truncated: false)
        }
        for case let url as URL in walker {
            let depth = url.standardizedFileURL.pathComponents.count - rootDepth
            if depth >= maxDepth { walker.skipDescendants() }
            guard let values = try? url.resourceValues(forKeys: Set(keys)), values.isSymbolicLink != true,
                  values.isRegularFile == true else { continue }
            if items.count >= maxItems { truncated = true; break }
            items.append(Item(path: url.standardizedFileURL.path, size: values.fileSize ?? 0,
                              modified: values.contentModificationDate?.timeIntervalSince1970 ?? now))
        }
        return Result(items: items, candidates: items.compactMap(classify), truncated: truncated)
    }

    func classify(_ item: Item) -> Candidate? {
        let components = item.path.split(separator: "/").map(String.init)
        let name = components.last?.lowercased() ?? ""
        let ext = fileExtension(name)
        let ageDays = (now - item.modified) / 86_400
        if ["tmp", "temp", "bak", "swp"].contains(ext) || name.hasPrefix("~") {
            return Candidate(item: item, category: "temp_files", reason: "temporary or backup file (.\(ext.isEmpty ? name : ext))")
        }
        if let dir = components.dropLast().first(where: { ["__pycache__", ".cache", "node_modules", ".build", ".pytest_cache"].contains($0) }) {
            return Candidate(item: item, category: "caches", reason: "inside a cache or build directory (\(dir))")
        }
        if ext == "log" { return Candidate(item: item, category: "logs", reason: "log file") }
        if ["zip", "gz", "tgz", "tar", "7z", "rar"].contains(ext) && ageDays > 180 {
            return Candidate(item: item, category: "old_archives", reason: "archive older than 180 days")
        }
        if item.size > 100 << 20 && ageDays > 180 {
            return Candidate(item: item, category: "large_old_files", reason: "larger than 100 MiB and older than 180 days")
        }
        return nil
    }
}
