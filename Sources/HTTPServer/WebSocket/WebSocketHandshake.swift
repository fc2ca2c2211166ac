import COpenSSL

/// The opening handshake (RFC 6455 §4.2). SHA-1 and base64 go through OpenSSL's EVP API.
public enum WebSocketHandshake {
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key`.
    public static func acceptValue(forKey key: String) -> String {
        let input = Array((key + guid).utf8)
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var digestLength: UInt32 = 0
        let ok = input.withUnsafeBytes { bytes in
            EVP_Digest(bytes.baseAddress, bytes.count, &digest, &digestLength, EVP_sha1(), nil)
        }
        precondition(ok == 1, "EVP_Digest(SHA-1) failed")
        return base64(Array(digest[0..<Int(digestLength)]))
    }

    static func base64(_ bytes: [UInt8]) -> String {
        var output = [UInt8](repeating: 0, count: (bytes.count + 2) / 3 * 4 + 1)
        let length = EVP_EncodeBlock(&output, bytes, Int32(bytes.count))
        return String(decoding: output[0..<Int(length)], as: UTF8.self)
    }

    /// A valid key is base64 of exactly 16 bytes (§4.1).
    static func isValidKey(_ key: String) -> Bool {
        let bytes = Array(key.utf8)
        guard bytes.count == 24, bytes[22] == UInt8(ascii: "="), bytes[23] == UInt8(ascii: "=") else { return false }
        var decoded = [UInt8](repeating: 0, count: 24)
        return EVP_DecodeBlock(&decoded, bytes, 24) == 18
    }

    /// Checks the upgrade request; the error is the response to send instead.
    static func validate(_ request: Request) -> Result<String, HTTPError> {
        let headers = request.headers
        guard request.method == .get, request.head.version == .http1_1,
              headers.containsToken("websocket", in: "Upgrade"), headers.containsToken("upgrade", in: "Connection") else {
            return .failure(HTTPError(.upgradeRequired, "Expected a WebSocket upgrade request",
                                      headers: ["Upgrade": "websocket"]))
        }
        guard headers["Sec-WebSocket-Version"] == "13" else {
            return .failure(HTTPError(.upgradeRequired, "Unsupported WebSocket version",
                                      headers: ["Sec-WebSocket-Version": "13"]))
        }
        guard let key = headers["Sec-WebSocket-Key"], isValidKey(key) else {
            return .failure(HTTPError(.badRequest, "Invalid Sec-WebSocket-Key"))
        }
        return .success(acceptValue(forKey: key))
    }
}
