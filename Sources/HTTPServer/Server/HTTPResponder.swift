/// What the server calls for every complete request. `Router` is the usual implementation.
///
/// `respond` is called on an event loop thread and must not block: work that may block belongs on
/// `workerPool`. `completion` must be called exactly once, from any thread.
public protocol HTTPResponder: Sendable {
    func respond(to request: Request, workerPool: WorkerPool,
                 completion: @escaping @Sendable (Response) -> Void)
}
