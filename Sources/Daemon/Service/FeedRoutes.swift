import Foundation
import HTTPServer

/// `POST /feed/data` on the feed store: validation (422 with `loc`), all-or-nothing, committed to SQLite
/// before the answer (docs/storage.md). Runs on the worker pool (it fsyncs). A tick is announced to the
/// inference engine once the answer has been written (`Response.afterWrite`).
struct FeedRoutes: Sendable {
    let store: FeedStore
    let logger: Logger
    let metrics: IngestMetrics

    func addRoutes(to group: RouterGroup<BasicRequestContext>) {
        group.post("data", docs: OpenAPIOperation(
            summary: "Feed metrics (all or nothing; durable before the response)", tags: ["feed"],
            requestBody: OpenAPIBody("Feed records", schema: JSONSchema.object(["records": JSONSchema.array(of: ["type": "object"])],
                                                                                  required: ["records"])),
            responses: [
                200: OpenAPIResponse("Accepted or warming up", example: ["status": "accepted", "records_received": 45, "tick": 1234,
                                                                         "rolling_window_size": 2880, "warmup_complete": true]),
                422: OpenAPIResponse("Validation error", schema: JSONSchema.validationError),
                503: OpenAPIResponse("Storage busy or failing: the batch was not stored; retry after Retry-After", schema: JSONSchema.errorDetail),
                507: OpenAPIResponse("Disk or database full: the batch was not stored; free space and retry", schema: JSONSchema.errorDetail),
            ])
        ) { [store, logger, metrics] request, context in
            let started = DispatchTime.now().uptimeNanoseconds
            do {
                // The tick (which starts an inference run) is announced after the answer has been written.
                let (response, notifyTick) = try store.ingestDeferringTick(body: Data(request.body))
                var answer = Response.json(bytes: Array(response.jsonBody))
                answer.afterWrite = notifyTick
                metrics.record(.accepted, records: response.recordsReceived, startedAt: started)
                return answer
            } catch let failure as FeedValidationFailure {
                metrics.record(.rejected, records: 0, startedAt: started)
                return .json(bytes: Array(failure.responseBody), status: .unprocessableEntity)
            } catch {
                metrics.record(.failed, records: 0, startedAt: started)
                logger.error("feed_commit_failed", ["request_id": .string(context.requestID), "error": .string("\(error)")])
                throw StorageFailure.httpError(for: error, dataDirectory: URL(fileURLWithPath: store.database.path).deletingLastPathComponent())
            }
        }
    }
}
