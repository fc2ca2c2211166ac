import Foundation

/// Turns a recording into text. Speech recognition needs a model this daemon does not ship, so the built-in
/// provider only reads a transcript that was dropped next to the recording (`meeting.wav.txt`); a real ASR
/// engine plugs in here.
protocol TranscriptionProvider: Sendable {
    var name: String { get }
    /// The transcript, or nil when this provider cannot transcribe the file.
    func transcribe(_ recording: URL) throws -> String?
}

/// The built-in provider: a sidecar `<file>.txt` transcript, else nothing.
struct SidecarTranscriptionProvider: TranscriptionProvider {
    var name: String { "sidecar" }
    func transcribe(_ recording: URL) throws -> String? {
        let sidecar = URL(fileURLWithPath: recording.path + ".txt")
        return try? String(contentsOf: sidecar, encoding: .utf8)
    }
}

/// The recording ingestion job: hash → probe → transcribe → index → summarise, with the step and progress
/// written to `ingestion_jobs` as it goes (what the status poll reads).
struct RecordingPipeline: Sendable {
    let ingestion: IngestionStore
    let transcriber: any TranscriptionProvider
    let clock: any DaemonClock
    static let chunkBytes = 1 << 20

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    func run(recordingID: String, jobID: String) throws -> String {
        do {
            let result = try steps(recordingID: recordingID, jobID: jobID)
            try ingestion.finishJob(jobID, sizeBytes: nil, result: result, error: nil, at: clock.now().timeIntervalSince1970)
            try ingestion.setRecordingStatus(recordingID, "completed")
            return result
        } catch {
            try? ingestion.finishJob(jobID, sizeBytes: nil, result: nil, error: String(describing: error), at: clock.now().timeIntervalSince1970)
            try? ingestion.setRecordingStatus(recordingID, "failed")
            throw error
        }
    }

    private func steps(recordingID: String, jobID: String) throws -> String {
        guard let recording = try ingestion.recording(recordingID) else { throw Failure(description: "recording \(recordingID) not found") }
        let url = URL(fileURLWithPath: recording.path)
        try ingestion.progress(job: jobID, step: "hash", percent: 5)
        let digest = try TelemetryDigest.sha256(file: url.path)

        try ingestion.progress(job: jobID, step: "probe", percent: 25)
        let media = MediaProbe.probe(url)

        try ingestion.progress(job: jobID, step: "transcription", percent: 45)
        let transcript = recording.type == "screen" ? nil : try transcriber.transcribe(url)

        try ingestion.progress(job: jobID, step: "index", percent: 65)
        let chunks = try chunkDigests(url)

        try ingestion.progress(job: jobID, step: "summary", percent: 90)
        var summary = "\(recording.type) recording \(recording.filename): \(String(format: "%.2f", TelemetryFormat.megabytes(digest.bytes))) MB"
        if let seconds = media.durationSeconds { summary += ", \(String(format: "%.1f", seconds)) s" }
        if let format = media.format { summary += ", \(format)" }
        summary += ", \(chunks.count) chunk(s), sha256 \(digest.hex.prefix(12))"
        if let transcript {
            let words = transcript.split(whereSeparator: \.isWhitespace)
            summary += "; transcript \(words.count) words: \"\(words.prefix(24).joined(separator: " "))\(words.count > 24 ? "…" : "")\""
        } else {
            summary += "; no transcript (provider \(transcriber.name) has none for this file)"
        }
        struct Result: Encodable {
            var summary: String
            var sha256: String
            var bytes: Int
            var chunks: [String]
            var durationSeconds: Double?
            var format: String?
            var transcriptChars: Int?
            var transcriptionProvider: String
        }
        return TelemetryFormat.encode(Result(summary: summary, sha256: digest.hex, bytes: digest.bytes, chunks: chunks,
                                             durationSeconds: media.durationSeconds, format: media.format,
                                             transcriptChars: transcript?.count, transcriptionProvider: transcriber.name))
    }

    /// SHA-256 of each 1 MiB chunk: the index a later search or dedupe works from.
    private func chunkDigests(_ url: URL) throws -> [String] {
        guard let handle = FileHandle(forReadingAtPath: url.path) else { throw TelemetryDigest.Failure.unreadable(url.path) }
        defer { try? handle.close() }
        var digests: [String] = []
        while let chunk = try handle.read(upToCount: Self.chunkBytes), !chunk.isEmpty {
            digests.append(try TelemetryDigest.sha256(chunk))
        }
        return digests
    }
}

/// Reads what a file's header says about the media: WAV (RIFF) duration and format; nothing for others.
enum MediaProbe {
    struct Media {
        var durationSeconds: Double?
        var format: String?
    }

    static func probe(_ url: URL) -> Media {
        guard let handle = FileHandle(forReadingAtPath: url.path), let head = try? handle.read(upToCount: 4096) else { return Media() }
        try? handle.close()
        let bytes = [UInt8](head)
        guard bytes.count >= 12, bytes[0..<4] == [0x52, 0x49, 0x46, 0x46], bytes[8..<12] == [0x57, 0x41, 0x56, 0x45] else {
            return Media()
        }
        func u32(_ i: Int) -> Int { Int(bytes[i]) | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2]) << 16 | Int(bytes[i + 3]) << 24 }
        func u16(_ i: Int) -> Int { Int(bytes[i]) | Int(bytes[i + 1]) << 8 }
        var offset = 12
        var channels = 0, rate = 0, byteRate = 0, bits = 0
        while offset + 8 <= bytes.count {
            let size = u32(offset + 4)
            if bytes[offset..<offset + 4] == [0x66, 0x6D, 0x74, 0x20], offset + 24 <= bytes.count {  // "fmt "
                channels = u16(offset + 10); rate = u32(offset + 12); byteRate = u32(offset + 16); bits = u16(offset + 22)
            } else if bytes[offset..<offset + 4] == [0x64, 0x61, 0x74, 0x61] {  // "data"
                let duration = byteRate > 0 ? Double(size) / Double(byteRate) : nil
                return Media(durationSeconds: duration, format: "WAV \(rate) Hz \(channels) ch \(bits)-bit")
            }
            offset += 8 + size + (size & 1)
        }
        return Media(durationSeconds: nil, format: rate > 0 ? "WAV \(rate) Hz \(channels) ch \(bits)-bit" : nil)
    }
}
