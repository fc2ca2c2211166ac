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
    precondition(same(fast, FeedJSON(foundation: any)), "fast path and JSONSerialization disagree")
    return 0
}

func same(_ a: FeedJSON, _ b: FeedJSON) -> Bool {
    switch (a, b) {
    case (.null, .null): return true
    case (.bool(let x), .bool(let y)): return x == y
    case (.number(let x), .number(let y)): return x == y || (x.isNaN && y.isNaN)
    case (.string(let x), .string(let y)): return x == y
    case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
    case (.object(let x), .object(let y)):
        return x.count == y.count && x.allSatisfy { k, v in y[k].map { same(v, $0) } ?? false }
    default: return false
    }
}
