import Testing
@testable import HTTPServer

/// Feeds `input` to a parser the way a connection does and collects the complete requests.
/// With `chunkSize` the bytes arrive in pieces, as from a slow client.
private func parse(_ input: String, limits: HTTPParserLimits = HTTPParserLimits(), chunkSize: Int? = nil)
    throws(HTTPParseError) -> [(HTTPRequestHead, [UInt8])] {
    try parse(Array(input.utf8), limits: limits, chunkSize: chunkSize)
}

private func parse(_ bytes: [UInt8], limits: HTTPParserLimits = HTTPParserLimits(), chunkSize: Int? = nil)
    throws(HTTPParseError) -> [(HTTPRequestHead, [UInt8])] {
    var parser = HTTPRequestParser(limits: limits)
    var pending: [UInt8] = []
    var messages: [(HTTPRequestHead, [UInt8])] = []
    var position = 0
    let step = chunkSize ?? max(bytes.count, 1)
    while position < bytes.count {
        pending.append(contentsOf: bytes[position..<min(bytes.count, position + step)])
        position += step
        while true {
            var consumedStep: HTTPRequestParser.Step?
            var failure: HTTPParseError?
            pending.withUnsafeBytes { buffer in
                do { consumedStep = try parser.parse(buffer) } catch let error as HTTPParseError { failure = error } catch {}
            }
            if let failure { throw failure }
            let result = consumedStep!
            pending.removeFirst(result.consumed)
            if case .message(let head, let body)? = result.event { messages.append((head, body)) }
            if result.consumed == 0 && result.event == nil { break }
        }
    }
    return messages
}

private func rejection(_ input: String, limits: HTTPParserLimits = HTTPParserLimits()) -> HTTPParseError? {
    do {
        _ = try parse(input, limits: limits)
        return nil
    } catch {
        return error
    }
}

struct HTTPRequestParserTests {
    @Test func simpleGet_IsParsed() throws {
        let messages = try parse("GET /health?x=1 HTTP/1.1\r\nHost: a\r\nX-Thing:  v  \r\n\r\n")
        #expect(messages.count == 1)
        let head = messages[0].0
        #expect(head.method == .get)
        #expect(head.path == "/health")
        #expect(head.query == "x=1")
        #expect(head.version == .http1_1)
        #expect(head.headers["x-thing"] == "v")
        #expect(head.keepAlive)
        #expect(messages[0].1.isEmpty)
    }

    @Test func byteByByteDelivery_GivesSameResult() throws {
        let raw = "POST /feed HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: a\r\n\r\n"
        let messages = try parse(raw, chunkSize: 1)
        #expect(messages.count == 2)
        #expect(messages[0].1 == Array("hello".utf8))
        #expect(messages[1].0.path == "/")
    }

    @Test func pipelinedRequests_AreAllParsedInOrder() throws {
        let raw = String(repeating: "GET /a HTTP/1.1\r\nHost: a\r\n\r\n", count: 3) + "GET /b HTTP/1.1\r\nHost: a\r\n\r\n"
        let messages = try parse(raw)
        #expect(messages.map(\.0.path) == ["/a", "/a", "/a", "/b"])
    }

    @Test func chunkedBody_IsDecoded() throws {
        let raw = "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer-Field: yes\r\n\r\n"
        for chunkSize in [nil, 1, 7] {
            let messages = try parse(raw, chunkSize: chunkSize)
            #expect(messages.count == 1)
            #expect(String(decoding: messages[0].1, as: UTF8.self) == "hello world")
        }
    }

    @Test func connectionClose_And_HTTP10_DecideKeepAlive() throws {
        #expect(try parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")[0].0.keepAlive == false)
        #expect(try parse("GET / HTTP/1.0\r\n\r\n")[0].0.keepAlive == false)
        #expect(try parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")[0].0.keepAlive == true)
    }

    @Test func expectContinue_IsReportedWithHeadFirst() throws {
        var parser = HTTPRequestParser()
        let raw = Array("PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n".utf8)
        let step = try raw.withUnsafeBytes { buffer in try parser.parse(buffer) }
        guard case .head(let head)? = step.event else {
            Issue.record("expected the head before the body")
            return
        }
        #expect(head.expectsContinue)
        #expect(step.consumed == raw.count)
        #expect(rejection("PUT /x HTTP/1.1\r\nHost: a\r\nExpect: something\r\nContent-Length: 2\r\n\r\nab")?.statusCode == 417)
    }

    @Test func leadingEmptyLine_IsIgnored() throws {
        #expect(try parse("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n").count == 1)
    }

    @Test func absoluteFormTarget_KeepsPathAndQuery() throws {
        let head = try parse("GET http://example.com:8000/a/b?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n")[0].0
        #expect(head.path == "/a/b")
        #expect(head.query == "q=1")
    }

    // MARK: - Limits

    @Test func requestLineOver8KiB_Is431() {
        let line = "GET /" + String(repeating: "a", count: 8200) + " HTTP/1.1\r\nHost: a\r\n\r\n"
        #expect(rejection(line)?.statusCode == 431)
        // Detected before the line ends, so a client cannot make us buffer it.
        #expect(rejection("GET /" + String(repeating: "a", count: 9000))?.statusCode == 431)
    }

    @Test func headersOver64KiB_Are431() {
        var raw = "GET / HTTP/1.1\r\nHost: a\r\n"
        for index in 0..<40 { raw += "X-Filler-\(index): " + String(repeating: "v", count: 2000) + "\r\n" }
        #expect(rejection(raw + "\r\n")?.statusCode == 431)
        #expect(rejection(raw)?.statusCode == 431)
    }

    @Test func moreThan100Fields_Are431() {
        var raw = "GET / HTTP/1.1\r\nHost: a\r\n"
        for index in 0..<100 { raw += "X-\(index): v\r\n" }
        #expect(rejection(raw + "\r\n")?.statusCode == 431)
        var exactly100 = "GET / HTTP/1.1\r\nHost: a\r\n"
        for index in 0..<99 { exactly100 += "X-\(index): v\r\n" }
        #expect(rejection(exactly100 + "\r\n") == nil)
    }

    @Test func bodyOverLimit_Is413_ForBothFramings() {
        let limits = HTTPParserLimits(maxBodyBytes: 10)
        #expect(rejection("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", limits: limits)?.statusCode == 413)
        let chunked = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n"
        #expect(rejection(chunked, limits: limits)?.statusCode == 413)
    }

    // MARK: - Smuggling and malformed input

    @Test func contentLengthWithTransferEncoding_Is400() {
        let raw = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        #expect(rejection(raw) == .contentLengthWithTransferEncoding)
        #expect(rejection(raw)?.statusCode == 400)
    }

    @Test func differingDuplicateContentLength_Is400_ButIdenticalIsAccepted() throws {
        #expect(rejection("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd") == .conflictingContentLength)
        #expect(rejection("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\nabcd") == .conflictingContentLength)
        let same = try parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc")
        #expect(same[0].1 == Array("abc".utf8))
    }

    @Test(arguments: [
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "GET / HTTP/1.1\nHost: a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n",
        "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
        "G(T / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET nopath HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET / HTTX/1.1\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n",
        "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1234567890abcdef1\r\n",
    ])
    func malformedInput_Is400(raw: String) {
        #expect(rejection(raw)?.statusCode == 400)
    }

    @Test func unsupportedCodingsAndVersions_HaveTheirOwnStatus() {
        #expect(rejection("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")?.statusCode == 501)
        #expect(rejection("GET / HTTP/2.0\r\nHost: a\r\n\r\n")?.statusCode == 505)
    }

    @Test func afterAnError_TheParserStaysFailed() {
        var parser = HTTPRequestParser()
        let bad = Array("GET / HTTP/1.1\nHost: a\r\n\r\n".utf8)
        let good = Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
        #expect(throws: HTTPParseError.self) { _ = try bad.withUnsafeBytes { buffer in try parser.parse(buffer) } }
        #expect(throws: HTTPParseError.self) { _ = try good.withUnsafeBytes { buffer in try parser.parse(buffer) } }
    }
}
