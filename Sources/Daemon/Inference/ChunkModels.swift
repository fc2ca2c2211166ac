import TFTCore

/// Copies of a served model's weights for forwarding several chunks of a large fleet at once, one chunk per
/// core: each copy runs with one worker thread (and OpenBLAS single-threaded, as everywhere in TFTCore),
/// so two 64-server chunks use both cores without splitting their rows. A copy holds only parameters and
/// its own scratch arenas; the served model keeps its two workers for everything else (lone chunks,
/// explanations).
final class ChunkModels: @unchecked Sendable {
    /// The model copied (compared by identity: a reload serves a new object).
    let source: TFTModel
    let models: [TFTModel]

    init(copying model: TFTModel, count: Int) throws {
        source = model
        models = try (0..<max(1, count)).map { _ in
            let copy = try TFTModel(config: model.config)
            copy.parameters.copy(from: model.parameters)
            copy.threads = 1
            return copy
        }
    }
}
