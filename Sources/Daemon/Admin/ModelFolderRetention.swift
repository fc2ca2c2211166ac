import Foundation

/// Which model folders the daemon deletes after a training (`--keep-models`, docs/retention.md).
///
/// Every completed training writes a new `tft_model_*` folder; at one training a day the models directory
/// would grow without end. After each training the daemon keeps the `keepNewest` newest folders of the
/// directory and deletes older ones, but only folders **its own trainings produced** (named in
/// `training_runs`), and never the served folder, the configured one (`--model`) or the one it started on:
/// a shipped, copied or CLI-trained model is never touched. Deletion runs while no reload can start, so a
/// load never reads a folder being removed.
public struct ModelFolderRetention: Sendable, Equatable {
    /// Newest folders always kept; nil keeps every folder (no pruning).
    public var keepNewest: Int?

    public init(keepNewest: Int?) {
        precondition(keepNewest.map { $0 >= 1 } ?? true, "keepNewest must be at least 1")
        self.keepNewest = keepNewest
    }

    public static let keepAll = ModelFolderRetention(keepNewest: nil)
    /// The daemon's default: the served one plus a few to go back to.
    public static let standard = ModelFolderRetention(keepNewest: 5)

    /// The folders to delete from `listing` (newest first, as ``ModelFolders/list(in:)`` gives it).
    /// `trained`: folder names produced by this daemon's trainings; `protected`: folders never deleted
    /// (served, configured, started on), compared as standardized paths.
    public func expired(_ listing: [ModelFolders.Listing], trained: Set<String>, protected: [URL]) -> [ModelFolders.Listing] {
        guard let keepNewest else { return [] }
        let kept = Set(protected.map(Self.key))
        return listing.enumerated().compactMap { index, folder in
            index >= keepNewest && trained.contains(folder.name) && !kept.contains(Self.key(folder.path)) ? folder : nil
        }
    }

    static func key(_ url: URL) -> String { url.standardizedFileURL.resolvingSymlinksInPath().path }
}
