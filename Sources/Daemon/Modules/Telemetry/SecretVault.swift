import COpenSSL
import Foundation
import Glibc

/// The secrets vault: values sealed with AES-256-GCM (OpenSSL EVP), the key in a 0600 file in the module's
/// data folder, created with RAND_bytes on first use. Values are never logged and never returned: the vault
/// has no read-back API at all, only ``verifyAll()`` (open every item and check its tag).
final class SecretVault: Sendable {
    enum Failure: Error, CustomStringConvertible {
        case keyFile(String)
        case cipher(String)
        var description: String {
            switch self {
            case .keyFile(let why): "vault key file: \(why)"
            case .cipher(let why): "AES-256-GCM: \(why)"
            }
        }
    }

    struct Sealed: Sendable {
        var nonce: Data
        var ciphertext: Data
        var tag: Data
    }

    let keyPath: String
    /// First 16 hex digits of SHA-256(key): names the key without revealing it.
    let keyID: String
    /// When the key file was created (its modification time), for rotation age.
    let keyCreatedAt: Date
    private let key: [UInt8]

    /// Loads the key, or creates it (32 random bytes, mode 0600) when the file does not exist. Refuses a key
    /// file that others can read or that is not 32 bytes.
    init(keyPath: String) throws {
        self.keyPath = keyPath
        let manager = FileManager.default
        if !manager.fileExists(atPath: keyPath) {
            var bytes = [UInt8](repeating: 0, count: 32)
            guard RAND_bytes(&bytes, 32) == 1 else { throw Failure.keyFile("RAND_bytes failed") }
            let fd = Glibc.open(keyPath, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            guard fd >= 0 else { throw Failure.keyFile("cannot create \(keyPath) (errno \(errno))") }
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, 32) }
            fsync(fd)
            Glibc.close(fd)
            guard written == 32 else { throw Failure.keyFile("short write to \(keyPath)") }
        }
        let attributes = try manager.attributesOfItem(atPath: keyPath)
        let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0
        guard mode & 0o077 == 0 else {
            throw Failure.keyFile("\(keyPath) has mode \(String(mode, radix: 8)); it must be readable by its owner only (chmod 600)")
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: keyPath))
        guard data.count == 32 else { throw Failure.keyFile("\(keyPath) holds \(data.count) bytes; an AES-256 key is 32") }
        key = [UInt8](data)
        keyID = String(try TelemetryDigest.sha256(data).prefix(16))
        keyCreatedAt = (attributes[.modificationDate] as? Date) ?? Date()
    }

    /// Encrypts `plaintext`; `associated` (the secret's id, name and category) is authenticated with it, so a
    /// ciphertext moved to another row fails to open.
    func seal(_ plaintext: Data, associated: Data) throws -> Sealed {
        var nonce = [UInt8](repeating: 0, count: 12)
        guard RAND_bytes(&nonce, 12) == 1 else { throw Failure.cipher("RAND_bytes failed") }
        guard let ctx = EVP_CIPHER_CTX_new() else { throw Failure.cipher("no context") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        guard EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nil, nil, nil) == 1,
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, nil) == 1,
              EVP_EncryptInit_ex(ctx, nil, nil, key, nonce) == 1 else { throw Failure.cipher("init failed") }
        var length: Int32 = 0
        let aad = [UInt8](associated)
        guard EVP_EncryptUpdate(ctx, nil, &length, aad, Int32(aad.count)) == 1 else { throw Failure.cipher("aad failed") }
        let input = [UInt8](plaintext)
        var output = [UInt8](repeating: 0, count: input.count + 16)
        guard EVP_EncryptUpdate(ctx, &output, &length, input, Int32(input.count)) == 1 else { throw Failure.cipher("encrypt failed") }
        var total = Int(length)
        var tail: Int32 = 0
        let finalOK = output.withUnsafeMutableBufferPointer { EVP_EncryptFinal_ex(ctx, $0.baseAddress! + total, &tail) }
        guard finalOK == 1 else { throw Failure.cipher("final failed") }
        total += Int(tail)
        var tag = [UInt8](repeating: 0, count: 16)
        guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, &tag) == 1 else { throw Failure.cipher("tag failed") }
        return Sealed(nonce: Data(nonce), ciphertext: Data(output.prefix(total)), tag: Data(tag))
    }

    /// Decrypts and authenticates; throws when the tag does not verify. Used only by ``verify(_:associated:)``.
    private func open(_ sealed: Sealed, associated: Data) throws -> [UInt8] {
        guard sealed.nonce.count == 12, sealed.tag.count == 16 else { throw Failure.cipher("malformed item") }
        guard let ctx = EVP_CIPHER_CTX_new() else { throw Failure.cipher("no context") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        let nonce = [UInt8](sealed.nonce)
        guard EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nil, nil, nil) == 1,
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, nil) == 1,
              EVP_DecryptInit_ex(ctx, nil, nil, key, nonce) == 1 else { throw Failure.cipher("init failed") }
        var length: Int32 = 0
        let aad = [UInt8](associated)
        guard EVP_DecryptUpdate(ctx, nil, &length, aad, Int32(aad.count)) == 1 else { throw Failure.cipher("aad failed") }
        let input = [UInt8](sealed.ciphertext)
        var output = [UInt8](repeating: 0, count: input.count + 16)
        guard EVP_DecryptUpdate(ctx, &output, &length, input, Int32(input.count)) == 1 else { throw Failure.cipher("decrypt failed") }
        var tag = [UInt8](sealed.tag)
        guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, &tag) == 1 else { throw Failure.cipher("tag failed") }
        var tail: Int32 = 0
        let total = Int(length)
        let finalOK = output.withUnsafeMutableBufferPointer { EVP_DecryptFinal_ex(ctx, $0.baseAddress! + total, &tail) }
        guard finalOK == 1 else { throw Failure.cipher("authentication failed") }
        return Array(output.prefix(total + Int(tail)))
    }

    /// Whether a sealed item opens with this key and its metadata; the plaintext is wiped and dropped.
    func verify(_ sealed: Sealed, associated: Data) -> Bool {
        guard var plain = try? open(sealed, associated: associated) else { return false }
        plain.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) }
        return true
    }

    static func associatedData(id: String, name: String, category: String) -> Data { Data("\(id)\u{0}\(name)\u{0}\(category)".utf8) }
}
