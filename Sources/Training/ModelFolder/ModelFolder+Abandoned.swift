import Foundation
import Glibc

extension ModelFolder {
    /// Removes the hidden temporary folders (`.<name>.tmp-<pid>-<n>`) that a process killed in the middle of
    /// ``write(model:spec:info:to:date:name:)`` leaves behind, when that process is gone. Such folders are never listed or loaded (they
    /// are hidden and not renamed into place); this only gives their disk space back. Returns the removed names.
    @discardableResult
    public static func removeAbandonedTemporaries(in parent: URL) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? []
        var removed: [String] = []
        for name in names where name.hasPrefix(".tft_model_") {
            guard let marker = name.range(of: ".tmp-") else { continue }
            let pidText = name[marker.upperBound...].prefix { $0.isNumber }
            guard let pid = Int32(pidText), pid != getpid(), !isAlive(pid) else { continue }
            if (try? FileManager.default.removeItem(at: parent.appendingPathComponent(name))) != nil { removed.append(name) }
        }
        return removed
    }

    static func isAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 || errno == EPERM }
}
