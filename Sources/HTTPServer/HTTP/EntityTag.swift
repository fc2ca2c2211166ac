/// An entity tag (RFC 9110 §8.8.3): an opaque validator of one representation, strong (`"x"`) or weak (`W/"x"`).
///
/// With ``Response/conditional(_:etag:request:)`` a handler that serves the same bytes until its data changes
/// answers a repeat `GET` carrying the tag in `If-None-Match` with `304 Not Modified` and no body.
public struct EntityTag: Sendable, Hashable, CustomStringConvertible {
    /// The characters between the quotes.
    public let opaque: String
    public let isWeak: Bool

    /// - Precondition: `opaque` holds only `etagc` characters (visible ASCII but `"`, or bytes ≥ 0x80).
    public init(_ opaque: String, weak: Bool = false) {
        precondition(opaque.utf8.allSatisfy(Self.isTagCharacter), "entity-tag characters only: \(opaque)")
        self.opaque = opaque
        self.isWeak = weak
    }

    /// The field value: `"opaque"` or `W/"opaque"`.
    public var description: String { (isWeak ? "W/\"" : "\"") + opaque + "\"" }

    /// Weak comparison (§8.8.3.2): the opaque parts are equal, whatever either tag's weakness.
    public func weaklyMatches(_ other: EntityTag) -> Bool { opaque == other.opaque }

    /// Strong comparison: both tags strong and their opaque parts equal.
    public func stronglyMatches(_ other: EntityTag) -> Bool { !isWeak && !other.isWeak && opaque == other.opaque }

    /// `etagc = %x21 / %x23-7E / obs-text`
    static func isTagCharacter(_ byte: UInt8) -> Bool { byte == 0x21 || (byte >= 0x23 && byte != 0x7F) }

    /// A parsed `If-None-Match` (or `If-Match`) field value: `*`, or a list of entity tags.
    public enum Condition: Sendable, Equatable {
        case any
        case tags([EntityTag])
    }

    /// Parses the combined values of an `If-None-Match` / `If-Match` field (several field lines are one
    /// comma-separated list, §5.3). nil when any part is not `*` or an entity tag: the caller then ignores the
    /// condition and sends the full answer, which is always safe. Commas may occur inside quoted tags, so the
    /// value is scanned, not split.
    public static func parseCondition(_ values: [String]) -> Condition? {
        var tags: [EntityTag] = []
        var sawAny = false
        for value in values {
            let bytes = Array(value.utf8)
            var i = 0
            func skipWhitespace() { while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 } }
            while true {
                skipWhitespace()
                if i == bytes.count { break }
                if bytes[i] == 0x2C { i += 1; continue }           // empty list element (tolerated by §5.6.1)
                if bytes[i] == 0x2A {                               // "*" stands alone in its field
                    sawAny = true
                    i += 1
                } else {
                    var weak = false
                    if bytes[i] == 0x57, i + 1 < bytes.count, bytes[i + 1] == 0x2F { weak = true; i += 2 }  // W/
                    guard i < bytes.count, bytes[i] == 0x22 else { return nil }
                    i += 1
                    let start = i
                    while i < bytes.count, bytes[i] != 0x22 {
                        guard isTagCharacter(bytes[i]) else { return nil }
                        i += 1
                    }
                    guard i < bytes.count else { return nil }       // no closing quote
                    tags.append(EntityTag(String(decoding: bytes[start..<i], as: UTF8.self), weak: weak))
                    i += 1
                }
                skipWhitespace()
                if i < bytes.count {
                    guard bytes[i] == 0x2C else { return nil }
                    i += 1
                }
            }
        }
        if sawAny { return tags.isEmpty ? .any : nil }              // "*" mixed with tags is malformed
        return tags.isEmpty ? nil : .tags(tags)
    }
}

extension Request {
    /// Whether `If-None-Match` says the client already holds the representation tagged `etag` (§13.1.2: weak
    /// comparison; `*` matches any current representation). False without the field or when it is malformed.
    public func ifNoneMatchMatches(_ etag: EntityTag) -> Bool {
        let values = headers.values(for: "If-None-Match")
        guard !values.isEmpty, let condition = EntityTag.parseCondition(values) else { return false }
        switch condition {
        case .any: return true
        case .tags(let tags): return tags.contains { $0.weaklyMatches(etag) }
        }
    }
}

extension Response {
    /// The answer of a `GET`/`HEAD` whose representation is tagged `etag`: `304 Not Modified` with that `ETag`
    /// and no body when the request's `If-None-Match` matches (RFC 9110 §13.1.2, §15.4.5; `makeResponse` is
    /// then not called), else `makeResponse()` with `ETag` added. Call it only where the answer would be a 200:
    /// errors are never replaced by a 304. `Cache-Control: no-cache` lets clients keep the body but ask again
    /// each time, so a repeat poll costs a few hundred bytes until the data changes.
    public static func conditional(etag: EntityTag, request: Request, _ makeResponse: () throws -> Response) rethrows -> Response {
        if request.method == .get || request.method == .head, request.ifNoneMatchMatches(etag) {
            return Response(status: .notModified, headers: ["ETag": etag.description, "Cache-Control": "no-cache"])
        }
        var response = try makeResponse()
        if response.status.code == 200 {
            response.headers.replaceOrAdd(name: "ETag", value: etag.description)
            response.headers.replaceOrAdd(name: "Cache-Control", value: "no-cache")
        }
        return response
    }
}
