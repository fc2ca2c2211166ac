import Foundation

/// The `filesystem` origin: files dropped into `telemetry/inbox/`. Recordings (by extension) are registered
/// as pending recordings and moved to `recordings/` (with a `<file>.txt` sidecar transcript if one came
/// along); every other file becomes a checksum task and moves to `work/` until a kernel has hashed it.
/// Write files under a dot-name and rename them into place: dot-files are skipped as still being written.
struct DropFolder: Sendable {
    let root: URL
    var inbox: URL { root.appendingPathComponent("inbox", isDirectory: true) }
    var recordings: URL { root.appendingPathComponent("recordings", isDirectory: true) }
    var work: URL { root.appendingPathComponent("work", isDirectory: true) }
    var processed: URL { root.appendingPathComponent("processed", isDirectory: true) }

    static let voice: Set<String> = ["wav", "mp3", "m4a", "ogg", "flac", "opus"]
    static let video: Set<String> = ["mp4", "mkv", "mov", "webm", "avi"]
    static let screen: Set<String> = ["cast"]

    func createFolders() throws {
        for folder in [inbox, recordings, work, processed] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
    }

    /// The recording type for a file name, or nil when it is not a recording. Videos whose name starts with
    /// `screen` are screen recordings.
    static func recordingType(_ name: String) -> String? {
        let ext = (name as NSString).pathExtension.lowercased()
        if voice.contains(ext) { return "voice" }
        if screen.contains(ext) { return "screen" }
        if video.contains(ext) { return name.lowercased().hasPrefix("screen") ? "screen" : "video" }
        return nil
    }

    struct Found {
        var recordings: [(type: String, url: URL, bytes: Int)] = []
        var imports: [(url: URL, bytes: Int)] = []
    }

    /// Moves what is in the inbox to where it belongs and returns it.
    func collect() -> Found {
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: inbox.path) else { return Found() }
        var found = Found()
        let visible = names.filter { !$0.hasPrefix(".") }.sorted()
        let recordingNames = Set(visible.filter { Self.recordingType($0) != nil })
        for name in visible {
            let source = inbox.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: source.path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let bytes = ((try? manager.attributesOfItem(atPath: source.path))?[.size] as? NSNumber)?.intValue ?? 0
            if let type = Self.recordingType(name) {
                let target = recordings.appendingPathComponent(name)
                guard (try? manager.moveItem(at: source, to: target)) != nil else { continue }
                found.recordings.append((type, target, bytes))
            } else if name.hasSuffix(".txt"), recordingNames.contains(String(name.dropLast(4)))
                        || manager.fileExists(atPath: recordings.appendingPathComponent(String(name.dropLast(4))).path) {
                try? manager.moveItem(at: source, to: recordings.appendingPathComponent(name))
            } else {
                let target = work.appendingPathComponent(name)
                guard (try? manager.moveItem(at: source, to: target)) != nil else { continue }
                found.imports.append((target, bytes))
            }
        }
        return found
    }
}
