/// Size limits the request parser enforces before any handler runs.
///
/// The defaults follow the issue: 431 past 8 KiB of request line, 64 KiB of header fields or
/// 100 fields; 413 past `maxBodyBytes`.
public struct HTTPParserLimits: Sendable, Equatable {
    /// Longest accepted request line, CRLF included.
    public var maxRequestLineBytes: Int = 8 * 1024
    /// Largest accepted header section (every field line plus the blank line), and trailer section.
    public var maxHeaderBytes: Int = 64 * 1024
    /// Most header fields (or trailer fields) in one request.
    public var maxHeaderCount: Int = 100
    /// Largest accepted request body, after chunked decoding.
    public var maxBodyBytes: Int = 2 * 1024 * 1024
    /// Longest accepted chunk-size line (chunk extensions included).
    public var maxChunkLineBytes: Int = 1024

    public init() {}

    public init(maxRequestLineBytes: Int = 8 * 1024, maxHeaderBytes: Int = 64 * 1024, maxHeaderCount: Int = 100,
                maxBodyBytes: Int = 2 * 1024 * 1024) {
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
    }
}
