import Foundation

extension Request {
    /// Decodes the JSON body into `T`, turning every decoding failure into a 422 whose `loc`
    /// starts with `"body"` and follows the coding path (`["body", "records", 0, "cpu"]`).
    public func decode<T: Decodable>(_ type: T.Type = T.self, decoder: JSONDecoder = JSONDecoder()) throws -> T {
        guard !body.isEmpty else { throw ValidationError.missing(location: ["body"]) }
        do {
            return try decoder.decode(T.self, from: Data(body))
        } catch let error as DecodingError {
            throw ValidationError(decodingError: error)
        }
    }
}

extension ValidationError {
    /// Maps Foundation's decoding errors onto the API's validation shape.
    public init(decodingError: DecodingError) {
        func location(_ path: [any CodingKey], _ last: (any CodingKey)? = nil) -> [Location] {
            let keys = path + (last.map { [$0] } ?? [])
            return ["body"] + keys.map { key in key.intValue.map(Location.index) ?? .key(key.stringValue) }
        }
        switch decodingError {
        case .keyNotFound(let key, let context):
            self = .missing(location: location(context.codingPath, key))
        case .valueNotFound(_, let context):
            self.init(location: location(context.codingPath), message: "none is not an allowed value",
                      type: "type_error.none.not_allowed")
        case .typeMismatch(let type, let context):
            self = .typeMismatch(location: location(context.codingPath), expected: type)
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                self.init(location: ["body"], message: "Invalid JSON", type: "value_error.jsondecode")
            } else {
                self.init(location: location(context.codingPath), message: context.debugDescription, type: "value_error")
            }
        @unknown default:
            self.init(location: ["body"], message: "Invalid body", type: "value_error")
        }
    }
}

extension Response {
    /// An `application/json` response from any `Encodable`, through Foundation's `JSONEncoder`.
    public static func json<T: Encodable>(encoding value: T, status: HTTPStatus = .ok,
                                          encoder: JSONEncoder = JSONEncoder()) throws -> Response {
        Response(status: status, contentType: "application/json", body: Array(try encoder.encode(value)))
    }
}
