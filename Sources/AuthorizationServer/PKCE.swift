internal import CSodium
import Foundation

/// RFC 7636 S256: BASE64URL(SHA256(verifier)), the server's side.
enum PKCE {
    static func challenge(for verifier: String) -> String {
        let input = Array(verifier.utf8)
        var digest = [UInt8](repeating: 0, count: 32)
        _ = crypto_hash_sha256(&digest, input, UInt64(input.count))
        return Data(digest).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
