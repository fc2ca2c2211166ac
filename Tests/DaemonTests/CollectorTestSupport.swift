import Foundation
@testable import Daemon

/// A /proc tree written from numbers, for the collector's reader: step `i` has counters that grew by
/// known amounts since step `i - 1`, so every derived field has an exact expected value.
struct ProcFixture {
    let root: URL

    init(in directory: URL) throws {
        root = directory.appendingPathComponent("procroot", isDirectory: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("proc/net"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("proc/4242"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("proc/77"), withIntermediateDirectories: true)
    }

    /// Per step: user +300 (incl. nice), system +150 (system+irq+softirq+steal), iowait +50, idle +500 (of 1000 jiffies);
    /// the java process +100 jiffies (10 %); 3 MB received and 1.5 MB sent per step.
    static func statText(step i: UInt64) -> String {
        """
        cpu  \(1000 + 250 * i) \(10 + 50 * i) \(500 + 100 * i) \(9000 + 500 * i) \(100 + 50 * i) \(5 + 20 * i) \(7 + 20 * i) \(3 + 10 * i) 0 0
        cpu0 1 2 3 4 5 6 7 8 0 0
        intr 12345
        ctxt 99
        """
    }

    static let meminfo = """
        MemTotal:       16000000 kB
        MemFree:         2000000 kB
        MemAvailable:    4000000 kB
        Buffers:          100000 kB
        Cached:          3000000 kB
        SwapTotal:       2000000 kB
        SwapFree:        1500000 kB
        """

    static func netDev(step i: UInt64) -> String {
        """
        Inter-|   Receive                                                |  Transmit
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
            lo: \(999_999_999 * (i + 1)) 10 0 0 0 0 0 0 \(999_999_999 * (i + 1)) 10 0 0 0 0 0 0
          eth0: \(1_000_000 + 2_000_000 * i) 100 0 0 0 0 0 0 \(500_000 + 1_000_000 * i) 80 0 0 0 0 0 0
          eth1: \(7_000 + 1_000_000 * i) 5 0 0 0 0 0 0 \(9_000 + 500_000 * i) 5 0 0 0 0 0 0
        """
    }

    /// Port 8080 (0x1F90) listens; two CLOSE_WAIT sockets on it (front), one on an ephemeral port (back);
    /// tcp6 adds a listener on 443 (0x01BB) with one CLOSE_WAIT on it, and an ESTABLISHED socket.
    static let tcp = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
           1: 0100007F:1F90 0100007F:D431 08 00000000:00000000 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1
           2: 0100007F:1F90 0100007F:D432 08 00000000:00000000 00:00000000 00000000     0        0 3 1 0 20 4 30 10 -1
           3: 0100007F:E3A2 0A00000B:0CEA 08 00000000:00000000 00:00000000 00000000     0        0 4 1 0 20 4 30 10 -1
        """
    static let tcp6 = """
          sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5 1 0 100 0 0 10 0
           1: 0000000000000000FFFF00000100007F:01BB 0000000000000000FFFF00000100007F:C001 08 00000000:00000000 00:00000000 00000000     0        0 6 1 0 20 4 30 10 -1
           2: 0000000000000000FFFF00000100007F:01BB 0000000000000000FFFF00000100007F:C002 01 00000000:00000000 00:00000000 00000000     0        0 7 1 0 20 4 30 10 -1
        """

    /// A java process whose name has a space and a parenthesis in it would break naive parsing; this one is
    /// plain `java`; pid 77 is `(sd-pam) x` and not Java.
    static func javaStat(step i: UInt64) -> String {
        "4242 (java) S 1 4242 4242 0 -1 4194560 1000 0 0 0 \(400 + 60 * i) \(100 + 40 * i) 0 0 20 0 30 0 12345 1000000 500 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0"
    }
    static let otherStat = "77 ((sd-pam) x) S 1 77 77 0 -1 4194560 1000 0 0 0 9999 9999 0 0 20 0 1 0 12 1000 5 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0"

    /// The 1-minute load of step `i`: unique per step, so a record found at the wrong step shows.
    static func load(step i: UInt64) -> Double { Double(i) + 0.25 }

    func write(step i: UInt64, uptimeSeconds: Double = 3 * 86_400 + 10) throws {
        func put(_ path: String, _ text: String) throws {
            try text.write(to: root.appendingPathComponent(path), atomically: true, encoding: .utf8)
        }
        try put("proc/stat", Self.statText(step: i))
        try put("proc/meminfo", Self.meminfo)
        try put("proc/net/dev", Self.netDev(step: i))
        try put("proc/net/tcp", Self.tcp)
        try put("proc/net/tcp6", Self.tcp6)
        try put("proc/loadavg", "\(Self.load(step: i)) 1.20 0.90 2/345 6789\n")
        try put("proc/uptime", "\(uptimeSeconds) 1000.0\n")
        try put("proc/4242/stat", Self.javaStat(step: i))
        try put("proc/77/stat", Self.otherStat)
    }

    var reader: ProcReader { ProcReader(root: root, diskPath: root.path) }
}

/// A sender that wraps another and can drop answers or refuse on purpose, recording what it saw.
final class ScriptedSender: FeedSending, @unchecked Sendable {
    private let lock = NSLock()
    private let inner: (any FeedSending)?
    /// Outcomes to return instead of sending, consumed in order; nil entries send for real.
    private var script: [SendOutcome?]
    private(set) var bodies: [[UInt8]] = []
    /// Bodies whose answer was lost (`uncertain`).
    private(set) var uncertainBodies: [[UInt8]] = []
    /// Makes the next real send lose its answer after the daemon handled it.
    var loseNextAnswer = false

    init(inner: (any FeedSending)?, script: [SendOutcome?] = []) {
        self.inner = inner
        self.script = script
    }

    func post(_ body: [UInt8]) -> SendOutcome {
        let scripted: SendOutcome?? = lock.withLock { script.isEmpty ? nil : script.removeFirst() }
        lock.withLock { bodies.append(body) }
        if let scripted, let outcome = scripted { return outcome }
        guard let inner else { return .answered(status: 200, body: [], retryAfter: nil) }
        let outcome = inner.post(body)
        let lose = lock.withLock { () -> Bool in defer { loseNextAnswer = false }; return loseNextAnswer }
        if lose || { if case .uncertain = outcome { return true }; return false }() {
            lock.withLock { uncertainBodies.append(body) }
            return .uncertain(lose ? "answer dropped by the test" : "\(outcome)")
        }
        return outcome
    }
}
