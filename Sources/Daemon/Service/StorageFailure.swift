import CSQLite
import Foundation
import HTTPServer

/// What a client is told when storage refuses a write. The batch was rolled back: nothing of it is stored, and
/// everything acknowledged before stays stored, so a retry is always safe.
enum StorageFailure {
    static func httpError(for error: any Error, dataDirectory: URL) -> HTTPError {
        guard let sqlite = error as? SQLiteError else {
            return HTTPError(.internalServerError, "Internal server error",
                             extra: [("error", "Storage failure: the batch was not stored; retry it")])
        }
        switch sqlite.primaryCode {
        case SQLITE_FULL:
            // ENOSPC, a file-size limit, or the database's page limit.
            return HTTPError(.insufficientStorage,
                             "Insufficient storage: the disk or database under \(dataDirectory.path) is full. The batch was not stored "
                             + "and nothing acknowledged was lost; free space there and send the batch again.",
                             extra: [("error", "storage_full")])
        case SQLITE_BUSY, SQLITE_LOCKED:
            return HTTPError(.serviceUnavailable, "Storage busy: the batch was not stored; send it again after Retry-After seconds.",
                             extra: [("error", "storage_busy")], headers: ["Retry-After": "1"])
        case SQLITE_IOERR:
            return HTTPError(.serviceUnavailable,
                             "Storage I/O error under \(dataDirectory.path): the batch was not stored; check the disk, then send it again.",
                             extra: [("error", "storage_io_error")], headers: ["Retry-After": "5"])
        default:
            return HTTPError(.internalServerError, "Internal server error",
                             extra: [("error", "Storage failure: the batch was not stored; retry it")])
        }
    }
}
