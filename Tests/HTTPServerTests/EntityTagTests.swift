import Testing
@testable import HTTPServer

/// RFC 9110 §8.8.3 (entity tags, weak and strong comparison) and §13.1.2 (`If-None-Match`).
struct EntityTagTests {
    let tag = EntityTag("7-abc-compact")

    private func request(_ ifNoneMatch: [String], method: HTTPMethod = .get) -> Request {
        var headers: HTTPHeaders = ["Host": "test"]
        for value in ifNoneMatch { headers.add(name: "If-None-Match", value: value) }
        return .make(method, "/predictions/current", headers: headers)
    }

    @Test func fieldValue_QuotesTheOpaquePart_WeakWithPrefix() {
        #expect(tag.description == "\"7-abc-compact\"")
        #expect(EntityTag("x", weak: true).description == "W/\"x\"")
    }

    @Test func comparison_WeakIgnoresWeakness_StrongNeedsTwoStrongTags() {
        // The table of RFC 9110 §8.8.3.2.
        let pairs: [(EntityTag, EntityTag, weak: Bool, strong: Bool)] = [
            (EntityTag("1", weak: true), EntityTag("1", weak: true), true, false),
            (EntityTag("1", weak: true), EntityTag("2", weak: true), false, false),
            (EntityTag("1", weak: true), EntityTag("1"), true, false),
            (EntityTag("1"), EntityTag("1"), true, true),
        ]
        for (a, b, weak, strong) in pairs {
            #expect(a.weaklyMatches(b) == weak && b.weaklyMatches(a) == weak, "\(a) \(b)")
            #expect(a.stronglyMatches(b) == strong && b.stronglyMatches(a) == strong, "\(a) \(b)")
        }
    }

    @Test func parse_ListsStarWeakTagsCommasInsideQuotesAndSeveralFieldLines() {
        #expect(EntityTag.parseCondition(["*"]) == .any)
        #expect(EntityTag.parseCondition([" \"a\" , W/\"b\",,\"c,d\" "]) == .tags([EntityTag("a"), EntityTag("b", weak: true), EntityTag("c,d")]))
        #expect(EntityTag.parseCondition(["\"a\"", "W/\"b\""]) == .tags([EntityTag("a"), EntityTag("b", weak: true)]))
        #expect(EntityTag.parseCondition(["\"\""]) == .tags([EntityTag("")]))
    }

    @Test func parse_MalformedValuesAreNil() {
        for bad in ["a", "\"a", "\"a\" b", "w/\"a\"", "W/a", "*, \"a\"", "\"a\" \"b\"", "\"a b\"", ""] {
            #expect(EntityTag.parseCondition([bad]) == nil, "\(bad)")
        }
    }

    @Test func ifNoneMatch_MatchesByWeakComparison_StarAndLists() {
        #expect(request(["\"7-abc-compact\""]).ifNoneMatchMatches(tag))
        #expect(request(["W/\"7-abc-compact\""]).ifNoneMatchMatches(tag))
        #expect(request(["\"old\", \"7-abc-compact\""]).ifNoneMatchMatches(tag))
        #expect(request(["\"old\"", "\"7-abc-compact\""]).ifNoneMatchMatches(tag))
        #expect(request(["*"]).ifNoneMatchMatches(tag))
        #expect(!request([]).ifNoneMatchMatches(tag))
        #expect(!request(["\"7-abc-full\""]).ifNoneMatchMatches(tag))
        #expect(!request(["7-abc-compact"]).ifNoneMatchMatches(tag))     // unquoted: malformed, ignored
    }

    @Test func conditional_304WithTagAndNoBodyOnMatch_ElseTheAnswerWithItsTag() throws {
        var built = 0
        let make = { () -> Response in built += 1; return .json(bytes: Array("{\"a\":1}".utf8)) }
        let fresh = Response.conditional(etag: tag, request: request(["\"other\""]), make)
        #expect(fresh.status == .ok && fresh.headers["ETag"] == tag.description && fresh.body.count == 7)
        #expect(fresh.headers["Cache-Control"] == "no-cache")
        let cached = Response.conditional(etag: tag, request: request([tag.description]), make)
        #expect(cached.status == .notModified && cached.body.isEmpty && cached.headers["ETag"] == tag.description)
        #expect(built == 1)   // the 304 did not build the body
        let head = Response.conditional(etag: tag, request: request([tag.description], method: .head), make)
        #expect(head.status == .notModified)
        // Not for unsafe methods (those would need 412, §13.1.2), and never over an error.
        let post = Response.conditional(etag: tag, request: request([tag.description], method: .post), make)
        #expect(post.status == .ok)
        let error = Response.conditional(etag: tag, request: request(["\"other\""])) { .detail("no", status: .notFound) }
        #expect(error.status == .notFound && error.headers["ETag"] == nil)
    }

    @Test func encoder_WritesA304WithoutBodyOrContentLength() {
        let response = Response(status: .notModified, headers: ["ETag": tag.description])
        let (head, separate) = ResponseEncoder.encode(response, dateLine: Array("Date: x\r\n".utf8), keepAlive: true,
                                                      http10: false, omitBody: false)
        let text = String(decoding: head, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 304 Not Modified\r\n"))
        #expect(text.contains("ETag: \"7-abc-compact\"\r\n"))
        #expect(!text.contains("Content-Length") && text.hasSuffix("\r\n\r\n") && separate == nil)
    }
}
