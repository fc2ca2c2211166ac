import Foundation

// libFuzzer differential target (fuzz/run-feedjson.sh) for the feed's fast JSON reader: whenever `FeedJSON.parseFast` accepts a
// body, `JSONSerialization` must accept it too and give the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let body = Data(bytes: data, count: size)
    guard let fast = FeedJSON.parseFast(body) else { return 0 }
    guard let any = try? JSONSerialization.jsonObject(with: body, options: []) else {
        preconditionFailure("fast path accepted a body JSONSerialization rejects")
    }
    precondition(fast == FeedJSON(foundation: any), "fast path and JSONSerialization disagree")
    return 0
}
