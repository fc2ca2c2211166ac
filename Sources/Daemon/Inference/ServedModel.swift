import Foundation
import TFTCore
import Training

/// Loads a model folder for serving. The default, ``VerifiedModelFolderLoader``, goes through the Training
/// library's `ModelFolder.load` (manifest + SHA-256 of every file, config/feature consistency, strict
/// weights); tests can substitute their own.
public protocol ModelFolderLoading: Sendable {
    func load(folder: URL) throws -> ServedModel
}

/// A verified, loaded model in service. Immutable; a reload swaps the whole object.
public final class ServedModel: Sendable {
    public let name: String
    public let path: URL
    public let model: TFTModel
    public let spec: FeatureSpec
    public let builder: FeatureBuilder
    public let info: TrainingInfo?
    /// Creation time (from the folder name, else `training_info.json`, else the folder's file time).
    public let created: Date
    public let loadedAt: Date
    /// SHA-256 of `model.safetensors` from the verified manifest.
    public let weightsSHA256: String

    public init(name: String, path: URL, model: TFTModel, spec: FeatureSpec, builder: FeatureBuilder, info: TrainingInfo?,
                created: Date, loadedAt: Date = Date(), weightsSHA256: String) {
        self.name = name; self.path = path; self.model = model; self.spec = spec; self.builder = builder
        self.info = info; self.created = created; self.loadedAt = loadedAt; self.weightsSHA256 = weightsSHA256
    }

    public var config: TFTConfig { model.config }
    public var horizon: Int { model.config.maxPredictionLength }
    public var stepSeconds: Int { spec.stepSeconds }
}

/// The Training library's verified loader (`ModelFolder.load`).
public struct VerifiedModelFolderLoader: ModelFolderLoading {
    public init() {}

    public func load(folder: URL) throws -> ServedModel {
        let url = folder.standardizedFileURL
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TrainingError.modelFolder(file: url.path, problem: "no such model folder")
        }
        let loaded = try ModelFolder.load(url)
        let name = url.lastPathComponent
        let created = ModelFolders.created(fromName: name)
            ?? loaded.info.flatMap { ISO8601Timestamp.parse($0.createdAt.replacingOccurrences(of: "Z", with: "")) }.map { Date(timeIntervalSince1970: $0) }
            ?? ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date) ?? Date()
        return ServedModel(name: name, path: url, model: loaded.model, spec: loaded.spec, builder: loaded.builder,
                           info: loaded.info, created: created, weightsSHA256: loaded.manifest.files["model.safetensors"]?.sha256 ?? "")
    }
}

/// Listing of model folders for `/admin/models` and for "the newest model".
public enum ModelFolders {
    public static let prefix = "tft_model_"

    /// Creation time from a `tft_model_YYYYMMDD_HHMMSS[_n]` name (UTC).
    public static func created(fromName name: String) -> Date? {
        guard name.hasPrefix(prefix) else { return nil }
        let chars = Array(name.dropFirst(prefix.count).prefix(15))
        guard chars.count == 15, chars[8] == "_", chars.enumerated().allSatisfy({ $0.offset == 8 || $0.element.isNumber }) else { return nil }
        let iso = "\(String(chars[0..<4]))-\(String(chars[4..<6]))-\(String(chars[6..<8]))T\(String(chars[9..<11])):\(String(chars[11..<13])):\(String(chars[13..<15]))"
        return ISO8601Timestamp.parse(iso).map { Date(timeIntervalSince1970: $0) }
    }

    /// One entry of `/admin/models`.
    public struct Listing: Sendable {
        public var name: String
        public var path: URL
        public var created: Date
        public var sizeBytes: Int64
        public var hasManifest: Bool
    }

    /// `tft_model_*` folders in `directory`, newest first (temporary `.tft_model_*.tmp-*` folders of a
    /// training in progress are hidden and never listed).
    public static func list(in directory: URL) -> [Listing] {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory.path) else { return [] }
        var out: [Listing] = []
        for name in names where name.hasPrefix(prefix) {
            let url = directory.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            var size: Int64 = 0
            for file in (try? fm.contentsOfDirectory(atPath: url.path)) ?? [] {
                let attributes = try? fm.attributesOfItem(atPath: url.appendingPathComponent(file).path)
                size += (attributes?[.size] as? NSNumber)?.int64Value ?? 0
            }
            let modified = (try? fm.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date ?? Date(timeIntervalSince1970: 0)
            out.append(Listing(name: name, path: url, created: created(fromName: name) ?? modified, sizeBytes: size,
                               hasManifest: fm.fileExists(atPath: url.appendingPathComponent("manifest.json").path)))
        }
        return out.sorted { $0.created != $1.created ? $0.created > $1.created : $0.name > $1.name }
    }

    /// The newest folder in `directory`, if any.
    public static func newest(in directory: URL) -> URL? { list(in: directory).first?.path }
}
