import Foundation
import Synchronization
import Training

/// The model in service. A reload loads and verifies the new folder completely *before* swapping the
/// reference, so the previous model serves until the instant the new one is ready, and keeps serving if
/// anything about the new one is wrong.
public final class ModelRegistry: Sendable {
    public let loader: any ModelFolderLoading
    /// The feed's step; a model with another step is refused (its forecasts would carry wrong times).
    public let stepSeconds: Int64
    private let state = Mutex<ServedModel?>(nil)
    /// The folder of the first successful load: what the daemon started on (the configured or shipped model).
    private let firstLoaded = Mutex<URL?>(nil)
    private let failure = Mutex<String?>(nil)
    /// Serialises loads (two concurrent reloads must not race their swaps).
    private let loadLock = Mutex<Void>(())
    private let loadObservers = Mutex<[@Sendable (ServedModel) -> Void]>([])

    /// Called after every successful swap (start-up, reload, a completed training), on the loading thread.
    public func onLoad(_ observer: @escaping @Sendable (ServedModel) -> Void) { loadObservers.withLock { $0.append(observer) } }

    public init(loader: any ModelFolderLoading = VerifiedModelFolderLoader(), stepSeconds: Int64) {
        self.loader = loader
        self.stepSeconds = stepSeconds
    }

    /// The model in service, if any.
    public var current: ServedModel? { state.withLock { $0 } }

    /// Why the last load failed (nil after a successful load).
    public var lastFailure: String? { failure.withLock { $0 } }

    /// The folder the daemon started on (the first successful load), if any.
    public var startupFolder: URL? { firstLoaded.withLock { $0 } }

    /// Runs `body` while no load can start or be in progress, with the served folder: what deletes model
    /// folders (``ModelFolderRetention``) never races a reload reading one.
    public func withoutLoads(_ body: (_ served: URL?) -> Void) {
        loadLock.withLock { _ in body(current?.path) }
    }

    /// Loads, verifies and swaps in `folder`. On any error the current model is untouched and the error
    /// says why.
    @discardableResult
    public func load(folder: URL) throws -> ServedModel {
        let loaded = try swap(folder: folder)
        for observer in loadObservers.withLock({ $0 }) { observer(loaded) }
        // The previous model and the load's scratch (file bytes, verification) are freed by now.
        HeapStats.trimAfterLargeRelease()
        return loaded
    }

    private func swap(folder: URL) throws -> ServedModel {
        try loadLock.withLock { _ in
            do {
                let loaded = try loader.load(folder: folder)
                guard Int64(loaded.stepSeconds) == stepSeconds else {
                    throw TrainingError.modelFolder(file: "\(loaded.name)/normalizers.json",
                                           problem: "the model's step is \(loaded.stepSeconds) s but the daemon's feed runs on \(stepSeconds) s")
                }
                state.withLock { $0 = loaded }
                failure.withLock { $0 = nil }
                firstLoaded.withLock { if $0 == nil { $0 = loaded.path } }
                return loaded
            } catch {
                failure.withLock { $0 = String(describing: error) }
                throw error
            }
        }
    }
}
