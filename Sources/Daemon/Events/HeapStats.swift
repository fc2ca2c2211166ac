import CLinux
import Synchronization

/// glibc's view of the malloc heap (`mallinfo2`, every arena) and `malloc_trim`.
///
/// A training allocates hundreds of MiB (the `metrics` export, windows, the optimiser) on its own thread,
/// so in a per-thread arena; when it ends the memory is free to malloc but glibc keeps the pages unless
/// they sit at the top of a heap. The soak measured the consequence (docs/soak.md): RSS stepped up at
/// every training and stayed there. ``trim()`` gives free pages back after such a release.
public struct HeapStats: Sendable, Equatable {
    /// Bytes handed out by malloc and not freed (`uordblks` + `hblkhd`, the mmapped big blocks).
    public var inUseBytes: Int
    /// Bytes free inside the arenas' heaps (`fordblks`): resident until trimmed or reused.
    public var freeBytes: Int
    /// Of the free bytes, those at the tops of heaps, which glibc releases by itself (`keepcost`).
    public var releasableBytes: Int

    public static func read() -> HeapStats {
        let info = mallinfo2()
        return HeapStats(inUseBytes: Int(info.uordblks) + Int(info.hblkhd), freeBytes: Int(info.fordblks),
                         releasableBytes: Int(info.keepcost))
    }

    /// Returns every free page of every arena to the kernel (`malloc_trim(0)`). Walks the arenas under
    /// their locks: milliseconds on a large heap, so it is called after rare large releases (a training,
    /// a model reload) and once per retention pass (every 10 min by default), never per tick. True when
    /// memory was released.
    @discardableResult
    public static func trim() -> Bool { malloc_trim(0) != 0 }

    /// Whether the daemon trims after a training and a model load (`trimAfterLargeRelease`); the heap is
    /// the process's, so the switch is too. Off only to measure what trimming changes (`Benchmarks training-memory`).
    public static let trimsAfterLargeRelease = Atomic<Bool>(true)

    /// Trims when ``trimsAfterLargeRelease`` is on (a training ended, a model was swapped).
    public static func trimAfterLargeRelease() {
        guard trimsAfterLargeRelease.load(ordering: .relaxed) else { return }
        trim()
    }
}
