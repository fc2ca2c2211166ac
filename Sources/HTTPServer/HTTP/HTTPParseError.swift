/// Why a request was rejected before routing, with the status it is answered with.
///
/// Every case ends the connection: after a framing error the byte stream can no longer be trusted.
public enum HTTPParseError: Error, Equatable, Sendable, CustomStringConvertible {
    case requestLineTooLong(limit: Int)
    case headersTooLarge(limit: Int)
    case tooManyHeaders(limit: Int)
    case bodyTooLarge(limit: Int)
    case malformedRequestLine(String)
    case malformedHeader(String)
    case unsupportedVersion(String)
    case invalidContentLength(String)
    case conflictingContentLength
    case contentLengthWithTransferEncoding
    case unsupportedTransferEncoding(String)
    case malformedChunk(String)
    case missingHost
    case duplicateHost
    case unsupportedExpectation(String)

    /// The HTTP status code the client receives.
    public var statusCode: Int {
        switch self {
        case .requestLineTooLong, .headersTooLarge, .tooManyHeaders: 431
        case .bodyTooLarge: 413
        case .unsupportedVersion: 505
        case .unsupportedTransferEncoding: 501
        case .unsupportedExpectation: 417
        default: 400
        }
    }

    /// A client-facing explanation; never contains request bytes beyond short tokens.
    public var description: String {
        switch self {
        case .requestLineTooLong(let limit): "Request line longer than \(limit) bytes"
        case .headersTooLarge(let limit): "Header section larger than \(limit) bytes"
        case .tooManyHeaders(let limit): "More than \(limit) header fields"
        case .bodyTooLarge(let limit): "Request body larger than \(limit) bytes"
        case .malformedRequestLine(let why): "Malformed request line: \(why)"
        case .malformedHeader(let why): "Malformed header field: \(why)"
        case .unsupportedVersion(let version): "HTTP version not supported: \(version)"
        case .invalidContentLength(let value): "Invalid Content-Length: \(value)"
        case .conflictingContentLength: "Conflicting Content-Length values"
        case .contentLengthWithTransferEncoding: "Both Content-Length and Transfer-Encoding present"
        case .unsupportedTransferEncoding(let value): "Unsupported Transfer-Encoding: \(value)"
        case .malformedChunk(let why): "Malformed chunked body: \(why)"
        case .missingHost: "Missing Host header"
        case .duplicateHost: "More than one Host header"
        case .unsupportedExpectation(let value): "Unsupported expectation: \(value)"
        }
    }
}
