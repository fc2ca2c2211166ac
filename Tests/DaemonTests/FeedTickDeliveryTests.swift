import Foundation
import Synchronization
import Testing
@testable import Daemon

/// `POST /feed/data` announces its tick (which starts an inference run) only after the answer has been
/// written, so the acknowledgement never waits for — or competes for the CPU with — the run it causes; the
/// tick is never lost, and `drain()` after an answered POST still sees its run.
@Suite struct FeedTickDeliveryTests {
    let servers = ["ppdb001", "ppml0001", "ppweb001"]

    final class Events: Sendable {
        let events = Mutex<[TickEvent]>([])
        var all: [TickEvent] { events.withLock { $0 } }
        func append(_ e: TickEvent) { events.withLock { $0.append(e) } }
    }

    @Test func tickIsAnnouncedAfterTheAnswerWasWritten() throws {
        let d = try TestDaemon(withModel: false)
        defer { d.stop(); d.dir.cleanup() }
        #expect(try d.post("/feed/data", Feed.body(Feed.fleet(servers, at: Feed.base))).status == 200)
        // The handler blocks until the client has its answer. Were it called before the answer is written,
        // the client would still be waiting and the handler would give up after 60 s (a deadlock breaker,
        // not a timing bound: when the order is right the answer arrives whatever the machine's load).
        let answered = DispatchSemaphore(value: 0), handled = DispatchSemaphore(value: 0)
        let outcome = Mutex<[Bool]>([])
        d.daemon.store.setTickHandler { _ in
            let ok = answered.wait(timeout: .now() + 60) == .success
            outcome.withLock { $0.append(ok) }
            handled.signal()
        }
        let reply = try d.post("/feed/data", Feed.body(Feed.fleet(servers, at: Feed.base + 300)))
        #expect(reply.status == 200)
        answered.signal()
        _ = handled.wait(timeout: .now() + 120)   // a tick never announced fails below instead of hanging
        #expect(outcome.withLock { $0 } == [true])
        // The pending count drops just after the handler returns.
        #expect(eventually { d.daemon.store.pendingTickNotifications == 0 })
    }

    @Test func drainAfterAnAnsweredPost_SeesItsRun() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        try d.feed(servers, steps: 0..<14)
        for i in 14..<34 {
            let epoch = Feed.base + Int64(i) * 300
            #expect(try d.post("/feed/data", Feed.body(Feed.fleet(servers, at: epoch))).status == 200)
            d.daemon.engine.drain()
            #expect(d.daemon.engine.latest?.dataEpoch == epoch, "step \(i)")
        }
    }

    @Test func deferredTick_FiresOnce_AndWhenDroppedUncalled() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let store = try FeedStore.open(dataDirectory: dir.url, configuration: .test())
        defer { store.close() }
        let events = Events()
        store.setTickHandler { events.append($0) }

        _ = try store.ingest(body: Feed.body(Feed.fleet(servers, at: Feed.base)))
        // Called twice: announced once, and only when called.
        let (_, notify) = try store.ingestDeferringTick(body: Feed.body(Feed.fleet(servers, at: Feed.base + 300)))
        #expect(events.all.isEmpty)
        #expect(store.pendingTickNotifications == 1)
        notify?()
        notify?()
        #expect(events.all.map(\.tick) == [1])
        #expect(store.pendingTickNotifications == 0)

        // Dropped without being called (a response that was never written): announced on release.
        do {
            let (_, dropped) = try store.ingestDeferringTick(body: Feed.body(Feed.fleet(servers, at: Feed.base + 600)))
            #expect(dropped != nil)
            #expect(store.pendingTickNotifications == 1)
        }
        #expect(events.all.map(\.tick) == [1, 2])
        #expect(store.pendingTickNotifications == 0)

        // A batch that closes no step has nothing to announce.
        let (_, none) = try store.ingestDeferringTick(body: Feed.body(Feed.fleet(servers, at: Feed.base + 610)))
        #expect(none == nil)
        #expect(store.pendingTickNotifications == 0)
    }
}

/// The inference path runs the served TFT with two worker threads (one per core on this 2-core target),
/// never the training service's single thread, and keeps them (and their scratch arenas) across runs.
@Suite struct InferenceThreadingTests {
    @Test func servedModel_UsesTwoThreads_AcrossReloadsAndRuns() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let expected = min(2, ProcessInfo.processInfo.activeProcessorCount)
        let first = try #require(d.daemon.models.current)
        #expect(first.model.threads == expected)
        try d.feed(["ppdb001", "ppml0001"], steps: 0..<14)
        #expect(d.daemon.engine.latest != nil)
        #expect(d.daemon.models.current?.model === first.model)   // the same model object (and its workers) serves every run
        let reloaded = try d.daemon.models.load(folder: first.path)
        #expect(reloaded.model.threads == expected)
    }
}
