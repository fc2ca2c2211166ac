import COpenSSL
import Foundation
import TFTCore

/// SHA-256 through OpenSSL's libcrypto.
public enum SHA256Digest {
    public static func hex(_ data: Data) -> String {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        data.withUnsafeBytes { raw in
            _ = COpenSSL.SHA256(raw.baseAddress?.assumingMemoryBound(to: UInt8.self), raw.count, &digest)
        }
        return digest.map { String(format: "%02x", $0) }.joined()
    }
}

/// `training_info.json`: where the model came from and how it trained.
public struct TrainingInfo: Codable, Sendable, Equatable {
    public var createdAt: String
    public var dataSource: String
    public var dataStart: String
    public var dataEnd: String
    public var validationCutoff: String
    public var servers: Int
    public var steps: Int
    public var trainWindows: Int
    public var validationWindows: Int
    public var epochsRequested: Int
    public var epochsRun: Int
    /// Epochs of the parent chain plus this run's (incremental training).
    public var totalEpochs: Int
    public var bestEpoch: Int
    public var epochs: [EpochRecord]
    public var initialValidationLoss: Double
    public var bestValidationLoss: Double
    public var stopReason: String
    public var durationSeconds: Double
    public var samplesPerSecond: Double
    public var pipelineShare: Double
    public var seed: UInt64
    public var batchSize: Int
    public var learningRate: Float
    public var weightDecay: Float
    public var gradientClip: Float
    public var parameterCount: Int
    /// The model folder this one was warm-started from, if any.
    public var parentModel: String?
    /// Per-target loss weights (persistence-relative loss), if used.
    public var targetLossWeights: [String: Double]? = nil
    /// The shrinkage toward persistence fitted on validation windows and folded into the output heads.
    public var persistenceBlend: [PersistenceBlend]? = nil
    /// The best epoch's validation loss before the shrinkage was folded in (`best_val_loss` is the shipped model's).
    public var preBlendValidationLoss: Double? = nil

    enum CodingKeys: String, CodingKey {
        case createdAt = "created_at", dataSource = "data_source", dataStart = "data_start", dataEnd = "data_end"
        case validationCutoff = "validation_cutoff", servers, steps, trainWindows = "train_windows"
        case validationWindows = "validation_windows", epochsRequested = "epochs_requested", epochsRun = "epochs_run"
        case totalEpochs = "total_epochs", bestEpoch = "best_epoch", epochs
        case initialValidationLoss = "initial_val_loss", bestValidationLoss = "best_val_loss", stopReason = "stop_reason"
        case durationSeconds = "duration_seconds", samplesPerSecond = "samples_per_second", pipelineShare = "pipeline_share"
        case seed, batchSize = "batch_size", learningRate = "learning_rate", weightDecay = "weight_decay"
        case gradientClip = "gradient_clip", parameterCount = "parameter_count", parentModel = "parent_model"
        case targetLossWeights = "target_loss_weights", persistenceBlend = "persistence_blend"
        case preBlendValidationLoss = "pre_blend_val_loss"
    }
}

/// `manifest.json`: SHA-256 and size of every other file.
public struct ModelManifest: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var sha256: String
        public var bytes: Int
    }
    public var format: String = "argus-model-folder/1"
    public var files: [String: Entry]
}

/// A loaded, verified model folder.
public struct LoadedModel: @unchecked Sendable {
    public var url: URL
    public var model: TFTModel
    public var spec: FeatureSpec
    public var builder: FeatureBuilder
    public var info: TrainingInfo?
    public var manifest: ModelManifest
}

/// The model folder of DESIGN §4: `models/tft_model_YYYYMMDD_HHMMSS/` with `config.json`,
/// `model.safetensors`, `normalizers.json`, `training_info.json` and `manifest.json`.
public enum ModelFolder {
    public static let requiredFiles = ["config.json", "model.safetensors", "normalizers.json", "training_info.json"]

    /// A diverged epoch's loss is NaN or infinite; JSON has no such numbers, so they are written as these strings
    /// (what Python's `float()` reads back) rather than failing the whole run at save time.
    static let nonFinite = (positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")

    static func json<T: Encodable>(_ value: T) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: nonFinite.positiveInfinity,
                                                                negativeInfinity: nonFinite.negativeInfinity, nan: nonFinite.nan)
        return try e.encode(value)
    }

    /// `tft_model_YYYYMMDD_HHMMSS` (UTC) of a date.
    public static func folderName(for date: Date) -> String {
        let t = FleetTimestamp.format(Int64(date.timeIntervalSince1970))   // YYYY-MM-DDTHH:MM:SS
        let digits = t.filter { $0.isNumber }
        return "tft_model_\(digits.prefix(8))_\(digits.dropFirst(8).prefix(6))"
    }

    /// Writes a new model folder under `parent` atomically: everything goes into a hidden temporary folder
    /// in the same parent, which is renamed into place only when complete. Returns the final URL. An
    /// existing folder is never touched (a name collision gets `_2`, `_3`, …).
    @discardableResult
    public static func write(model: TFTModel, spec: FeatureSpec, info: TrainingInfo, to parent: URL,
                             date: Date = Date(), name: String? = nil) throws -> URL {
        let fm = FileManager.default
        try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        let base = name ?? folderName(for: date)
        let temp = parent.appendingPathComponent(".\(base).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try fm.createDirectory(at: temp, withIntermediateDirectories: false)
            var files: [String: Data] = [:]
            files["config.json"] = try json(model.config)
            files["model.safetensors"] = try SafeTensors.encode(model.parameterTensors(), metadata: ["format": "pt", "producer": "argus"])
            files["normalizers.json"] = try json(spec)
            files["training_info.json"] = try json(info)
            var manifest = ModelManifest(files: [:])
            for (n, d) in files {
                try d.write(to: temp.appendingPathComponent(n))
                manifest.files[n] = .init(sha256: SHA256Digest.hex(d), bytes: d.count)
            }
            try json(manifest).write(to: temp.appendingPathComponent("manifest.json"))
            // fsync the files so a crash after the rename cannot leave empty files behind.
            for n in Array(files.keys) + ["manifest.json"] {
                let fd = open(temp.appendingPathComponent(n).path, O_RDONLY)
                if fd >= 0 { fsync(fd); close(fd) }
            }
            var final = parent.appendingPathComponent(base)
            var k = 2
            while fm.fileExists(atPath: final.path) { final = parent.appendingPathComponent("\(base)_\(k)"); k += 1 }
            guard rename(temp.path, final.path) == 0 else {
                throw TrainingError.io("cannot rename \(temp.lastPathComponent) to \(final.lastPathComponent): \(String(cString: strerror(errno)))")
            }
            return final
        } catch {
            try? fm.removeItem(at: temp)
            throw error
        }
    }

    /// Loads a model folder, verifying the manifest first: every required file must be listed, present,
    /// and match its size and SHA-256. Throws ``TrainingError/modelFolder(file:problem:)`` naming the file.
    public static func load(_ url: URL) throws -> LoadedModel {
        func fail(_ file: String, _ problem: String) -> TrainingError { .modelFolder(file: "\(url.lastPathComponent)/\(file)", problem: problem) }
        func read(_ name: String) throws -> Data {
            do { return try Data(contentsOf: url.appendingPathComponent(name)) } catch { throw fail(name, "missing or unreadable") }
        }
        let manifestData = try read("manifest.json")
        let manifest: ModelManifest
        do { manifest = try JSONDecoder().decode(ModelManifest.self, from: manifestData) } catch { throw fail("manifest.json", "not a valid manifest: \(error)") }
        for name in requiredFiles where manifest.files[name] == nil { throw fail(name, "not listed in manifest.json") }
        var contents: [String: Data] = [:]
        for (name, entry) in manifest.files.sorted(by: { $0.key < $1.key }) {
            guard !name.contains("/"), name != "manifest.json" else { throw fail(name, "invalid manifest entry") }
            let data = try read(name)
            guard data.count == entry.bytes else { throw fail(name, "size \(data.count) bytes, manifest says \(entry.bytes)") }
            let sha = SHA256Digest.hex(data)
            guard sha == entry.sha256 else { throw fail(name, "SHA-256 mismatch (file \(sha.prefix(12))…, manifest \(entry.sha256.prefix(12))…): the file was modified or corrupted") }
            contents[name] = data
        }
        let config: TFTConfig
        do { config = try JSONDecoder().decode(TFTConfig.self, from: contents["config.json"]!) } catch { throw fail("config.json", "not a valid TFT config: \(error)") }
        let spec: FeatureSpec
        do { spec = try JSONDecoder().decode(FeatureSpec.self, from: contents["normalizers.json"]!) } catch { throw fail("normalizers.json", "not valid: \(error)") }
        let infoDecoder = JSONDecoder()
        infoDecoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: nonFinite.positiveInfinity,
                                                                            negativeInfinity: nonFinite.negativeInfinity, nan: nonFinite.nan)
        let info = try? infoDecoder.decode(TrainingInfo.self, from: contents["training_info.json"]!)
        let model: TFTModel
        do {
            model = try TFTModel(config: config)
            try model.loadParameters(SafeTensors.decode(contents["model.safetensors"]!, source: "model.safetensors").tensors)
        } catch { throw fail("model.safetensors", "\(error)") }
        let builder: FeatureBuilder
        do { builder = try FeatureBuilder(spec: spec, config: config) } catch { throw fail("normalizers.json", "\(error)") }
        return LoadedModel(url: url, model: model, spec: spec, builder: builder, info: info, manifest: manifest)
    }

    /// The newest `tft_model_*` folder under `parent` (by name, which sorts by time), if any.
    public static func newest(in parent: URL) -> URL? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? []
        return names.filter { $0.hasPrefix("tft_model_") }.sorted().last.map { parent.appendingPathComponent($0) }
    }
}
