import HTTPServer
import Synchronization

/// Something the daemon did that other parts (dashboard pushes, `/metrics`, modules) may react to.
/// Data flows one way: producers publish, consumers subscribe; nobody polls the tick.
public enum DaemonEvent: Sendable {
    /// A snapshot was published (one inference run over the fleet).
    case tick(Snapshot)
    /// Training progress or a training state change (`TrainingService.Status`).
    case training(TrainingService.Status)
    /// A model was loaded into service (start-up, reload or a completed training).
    case modelLoaded(name: String, path: String)
    /// A module's own event: `module` is the module's name, `type` its event name, `payload` its JSON body.
    case module(module: String, type: String, payload: JSONValue)
}

/// The daemon's event flow: a synchronous fan-out to subscribers.
///
/// `publish` calls every subscriber on the publisher's thread (the inference queue for ticks), so a
/// subscriber must be quick and must not block: hand work to a queue or a `WebSocketHub` (which buffers
/// per connection and drops slow consumers). Subscribers are called in subscription order.
///
/// ```swift
/// let subscription = events.subscribe { event in
///     if case .tick(let snapshot) = event { hub.broadcast(text: encode(snapshot), to: "ticks") }
/// }
/// subscription.cancel()
/// ```
public final class DaemonEvents: Sendable {
    private let subscribers = Mutex<[(id: UInt64, handler: @Sendable (DaemonEvent) -> Void)]>([])
    private let nextID = Atomic<UInt64>(1)

    public init() {}

    /// Registers `handler` for every later event. Keep the returned subscription to cancel it.
    @discardableResult
    public func subscribe(_ handler: @escaping @Sendable (DaemonEvent) -> Void) -> DaemonEventSubscription {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        subscribers.withLock { $0.append((id, handler)) }
        return DaemonEventSubscription { [weak self] in self?.subscribers.withLock { $0.removeAll { $0.id == id } } }
    }

    public func publish(_ event: DaemonEvent) {
        let handlers = subscribers.withLock { $0.map(\.handler) }
        for handler in handlers { handler(event) }
    }

    public var subscriberCount: Int { subscribers.withLock { $0.count } }
}

/// Cancels a ``DaemonEvents`` subscription (idempotent).
public final class DaemonEventSubscription: Sendable {
    private let onCancel: Mutex<(@Sendable () -> Void)?>
    init(_ onCancel: @escaping @Sendable () -> Void) { self.onCancel = Mutex(onCancel) }
    public func cancel() { onCancel.withLock { f in f?(); f = nil } }
}
