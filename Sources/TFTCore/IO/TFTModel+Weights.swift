import Foundation

extension TFTModel {
    /// Loads every parameter from `tensors` (keys are pytorch-forecasting `state_dict` names; shared
    /// modules may appear under any of their aliases). Strict like `load_state_dict(strict=True)`:
    /// unknown names, missing parameters, wrong shapes or dtypes and non-finite values all throw,
    /// naming the tensor, and leave the current weights untouched.
    public func loadParameters(_ tensors: [String: NamedTensor]) throws {
        var staged = [Float](repeating: 0, count: layout.count)
        var filled = Set<String>()
        for name in tensors.keys.sorted() {
            let t = tensors[name]!
            guard let entry = layout.entry(named: name) else {
                throw TFTError.invalidTensor(name: name, problem: "unknown tensor: not a parameter of this model configuration")
            }
            guard t.dtype == .f32 || t.dtype == .f64 || t.dtype == .f16 || t.dtype == .bf16 else {
                throw TFTError.invalidTensor(name: name, problem: "dtype \(t.dtype.rawValue) is not a floating-point type")
            }
            guard t.shape == entry.shape else {
                throw TFTError.invalidTensor(name: name, problem: "shape \(t.shape) does not match the model's \(entry.shape)")
            }
            if let bad = t.values.firstIndex(where: { !$0.isFinite }) {
                throw TFTError.invalidTensor(name: name, problem: "non-finite value \(t.values[bad]) at flat index \(bad)")
            }
            if filled.contains(entry.name) {
                let existing = Array(staged[entry.offset..<(entry.offset + entry.count)])
                guard existing == t.values else {
                    throw TFTError.invalidTensor(name: name, problem: "is a shared alias of '\(entry.name)' but holds different values")
                }
                continue
            }
            staged.replaceSubrange(entry.offset..<(entry.offset + entry.count), with: t.values)
            filled.insert(entry.name)
        }
        if let missing = layout.entries.first(where: { !filled.contains($0.name) }) {
            throw TFTError.invalidTensor(name: missing.name, problem: "missing: the file has no tensor for this parameter (shape \(missing.shape))")
        }
        staged.withUnsafeBufferPointer { parameters.pointer.update(from: $0.baseAddress!, count: layout.count) }
    }

    /// Every parameter under its canonical name.
    public func parameterTensors() -> [String: NamedTensor] {
        var out: [String: NamedTensor] = [:]
        for e in layout.entries { out[e.name] = NamedTensor(shape: e.shape, values: parameters.values(of: e)) }
        return out
    }

    /// Gradients of the last `lossAndGradients` call, by canonical parameter name.
    public func gradientTensors() -> [String: NamedTensor] {
        var out: [String: NamedTensor] = [:]
        for e in layout.entries { out[e.name] = NamedTensor(shape: e.shape, values: gradients.values(of: e)) }
        return out
    }

    /// Reads `config.json` and `model.safetensors` from a folder.
    public static func load(configURL: URL, weightsURL: URL) throws -> TFTModel {
        let configData: Data
        do { configData = try Data(contentsOf: configURL) } catch {
            throw TFTError.invalidFile(path: configURL.path, problem: "cannot read: \(error.localizedDescription)")
        }
        let config: TFTConfig
        do { config = try JSONDecoder().decode(TFTConfig.self, from: configData) } catch {
            throw TFTError.invalidFile(path: configURL.path, problem: "not a valid TFT config: \(error)")
        }
        let model = try TFTModel(config: config)
        try model.loadParameters(SafeTensors.read(contentsOf: weightsURL).tensors)
        return model
    }

    /// Writes `config.json` and `model.safetensors` into `folder`.
    public func save(to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(config).write(to: folder.appendingPathComponent("config.json"), options: .atomic)
        try SafeTensors.write(parameterTensors(), metadata: ["format": "pt", "producer": "argus"],
                              to: folder.appendingPathComponent("model.safetensors"))
    }
}
