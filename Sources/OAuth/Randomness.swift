// The OAuth engine's only use of libsodium: random bytes and SHA-256.
internal import CSodium
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

enum Randomness {
    /// `count` random bytes, base64url without padding.
    static func token(bytes count: Int) -> String {
        _ = sodium_init()
        var bytes = [UInt8](repeating: 0, count: count)
        randombytes_buf(&bytes, count)
        return Base64URL.encode(bytes)
    }

    static func sha256(_ text: String) -> [UInt8] {
        let input = Array(text.utf8)
        var digest = [UInt8](repeating: 0, count: 32)
        _ = crypto_hash_sha256(&digest, input, UInt64(input.count))
        return digest
    }

    /// Constant-time comparison of two strings' bytes.
    static func equal(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8), right = Array(b.utf8)
        guard left.count == right.count else { return false }
        return sodium_memcmp(left, right, left.count) == 0
    }
}

extension Randomness {
    /// `count` random bytes.
    static func bytes(_ count: Int) -> [UInt8] {
        _ = sodium_init()
        var bytes = [UInt8](repeating: 0, count: count)
        randombytes_buf(&bytes, count)
        return bytes
    }
}

/// RFC 7636 with S256 only.
public struct PKCE: Sendable {
    public let verifier: String
    public let challenge: String
    public static let method = "S256"

    public init() {
        verifier = Randomness.token(bytes: 32)  // 43 characters
        challenge = Base64URL.encode(Randomness.sha256(verifier))
    }
}
