import Crypto
import Synchronization
import _CryptoExtras
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// base64url without padding (RFC 7515 section 2).
public enum Base64URL {
    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        Data(bytes).base64EncodedString().replacing("+", with: "-").replacing("/", with: "_").replacing("=", with: "")
    }

    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var base64 = String(text).replacing("-", with: "+").replacing("_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map { [UInt8]($0) }
    }
}

/// A JSON value written in a fixed member order, for JWT headers and claims (no Foundation
/// serializer needed, and the same bytes every time).
public indirect enum JSONValue: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case object([(String, JSONValue)])
    case array([JSONValue])

    public static func == (left: JSONValue, right: JSONValue) -> Bool { left.text == right.text }

    public var text: String {
        switch self {
        case .string(let value): return JSONEscaping.quoted(value)
        case .integer(let value): return String(value)
        case .array(let items): return "[" + items.map(\.text).joined(separator: ",") + "]"
        case .object(let members): return "{" + members.map { JSONEscaping.quoted($0.0) + ":" + $0.1.text }.joined(separator: ",") + "}"
        }
    }
}

enum JSONEscaping {
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// A private key that signs JWTs: P-256 (ES256), or RSA (RS256) for a client key made elsewhere.
public struct SigningKey: Sendable, Equatable {
    public static func == (left: SigningKey, right: SigningKey) -> Bool { left.pem == right.pem }

    enum Material: Sendable {
        case p256(P256.Signing.PrivateKey)
        case rsa(_RSA.Signing.PrivateKey)
    }

    let material: Material

    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// A new P-256 key (`keygen`, DPoP).
    public static func generateP256() -> SigningKey { SigningKey(material: .p256(P256.Signing.PrivateKey())) }

    /// A key from PEM: PKCS#8 or SEC 1 for P-256, PKCS#1 or PKCS#8 for RSA (2048 bits or more).
    public init(pem: String) throws(Refusal) {
        if let key = try? P256.Signing.PrivateKey(pemRepresentation: pem) {
            material = .p256(key)
        } else if let key = try? _RSA.Signing.PrivateKey(pemRepresentation: pem) {
            guard key.keySizeInBits >= 2048 else { throw Refusal(description: "the RSA key has \(key.keySizeInBits) bits; 2048 or more are needed") }
            material = .rsa(key)
        } else {
            throw Refusal(description: "it is not a PEM private key of P-256 (EC) or RSA")
        }
    }

    private init(material: Material) { self.material = material }

    /// The JWS algorithm this key signs with.
    public var algorithm: String {
        switch material {
        case .p256: "ES256"
        case .rsa: "RS256"
        }
    }

    /// The private key as PKCS#8 PEM, to seal.
    public var pem: String {
        switch material {
        case .p256(let key): key.pemRepresentation
        case .rsa(let key): key.pemRepresentation
        }
    }

    /// The public key as a JWK (RFC 7517), members in the order RFC 7638's thumbprint uses.
    public var publicJWK: JSONValue {
        switch material {
        case .p256(let key):
            let point = Array(key.publicKey.x963Representation)  // 0x04 || x || y
            return .object([("crv", .string("P-256")), ("kty", .string("EC")), ("x", .string(Base64URL.encode(point[1...32]))),
                            ("y", .string(Base64URL.encode(point[33...64])))])
        case .rsa(let key):
            let components = try? key.publicKey.getKeyPrimitives()
            return .object([("e", .string(Base64URL.encode(components?.publicExponent ?? Data()))), ("kty", .string("RSA")),
                            ("n", .string(Base64URL.encode(components?.modulus ?? Data())))])
        }
    }

    /// The public key as SubjectPublicKeyInfo PEM.
    public var publicPEM: String {
        switch material {
        case .p256(let key): key.publicKey.pemRepresentation
        case .rsa(let key): key.publicKey.pemRepresentation
        }
    }

    /// RFC 7638: base64url(SHA-256(the JWK's required members, in order, without whitespace)).
    public var thumbprint: String { Base64URL.encode(SHA256.hash(data: Data(publicJWK.text.utf8))) }

    func sign(_ input: [UInt8]) throws -> [UInt8] {
        switch material {
        case .p256(let key): return Array(try key.signature(for: input).rawRepresentation)
        case .rsa(let key): return Array(try key.signature(for: input, padding: .insecurePKCS1v1_5).rawRepresentation)
        }
    }

    /// A compact JWS of `claims` with `header` (alg is added first).
    public func jwt(header: [(String, JSONValue)] = [], claims: [(String, JSONValue)]) throws -> String {
        let head = JSONValue.object([("alg", .string(algorithm))] + header).text
        let input = Base64URL.encode(Array(head.utf8)) + "." + Base64URL.encode(Array(JSONValue.object(claims).text.utf8))
        return input + "." + Base64URL.encode(try sign(Array(input.utf8)))
    }
}

/// Signs DPoP proofs for one key, fast: the header (with the public key) is encoded once, and
/// `ath` once per access token. One per proxy.
public final class DPoPSigner: Sendable {
    public let key: SigningKey
    private let encodedHeader: String
    private let lastToken = Mutex<(token: String, ath: String)?>(nil)

    public init(key: SigningKey) {
        self.key = key
        let header = JSONValue.object([("alg", .string(key.algorithm)), ("typ", .string("dpop+jwt")), ("jwk", key.publicJWK)])
        encodedHeader = Base64URL.encode(Array(header.text.utf8))
    }

    /// A proof for one request: `htm` and `htu` (the URL without query and fragment), a fresh `jti`
    /// and `iat`, the server's nonce when it gave one, and `ath` with an access token.
    public func proof(method: String, url: String, nonce: String?, accessToken: String?) throws -> String {
        var target = url
        if let cut = target.firstIndex(where: { $0 == "?" || $0 == "#" }) { target = String(target[..<cut]) }
        var claims: [(String, JSONValue)] = [("jti", .string(Assertions.jti())), ("htm", .string(method)), ("htu", .string(target)),
                                             ("iat", .integer(Int64(Date().timeIntervalSince1970)))]
        if let nonce { claims.append(("nonce", .string(nonce))) }
        if let accessToken { claims.append(("ath", .string(ath(accessToken)))) }
        let input = encodedHeader + "." + Base64URL.encode(Array(JSONValue.object(claims).text.utf8))
        return input + "." + Base64URL.encode(try key.sign(Array(input.utf8)))
    }

    private func ath(_ token: String) -> String {
        if let last = lastToken.withLock({ $0 }), last.token == token { return last.ath }
        let hash = Base64URL.encode(SHA256.hash(data: Data(token.utf8)))
        lastToken.withLock { $0 = (token, hash) }
        return hash
    }
}

/// JWTs mcp-vault makes: client assertions (RFC 7523 section 2.2) and DPoP proofs (RFC 9449).
public enum Assertions {
    public static let clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

    static func jti() -> String { Base64URL.encode(Randomness.bytes(18)) }

    /// private_key_jwt: `iss` = `sub` = the client id, `aud` = the authorization server's issuer,
    /// five minutes to live, a unique `jti`.
    public static func client(_ clientID: String, audience: String, key: SigningKey, now: Int64 = Int64(Date().timeIntervalSince1970)) throws -> String {
        try key.jwt(header: [("typ", .string("JWT"))], claims: [
            ("iss", .string(clientID)), ("sub", .string(clientID)), ("aud", .string(audience)),
            ("iat", .integer(now)), ("exp", .integer(now + 300)), ("jti", .string(jti())),
        ])
    }

    /// A DPoP proof for one request by `key` (see `DPoPSigner.proof`; a proxy keeps one signer,
    /// which encodes the header once).
    public static func dpop(method: String, url: String, key: SigningKey, nonce: String?, accessToken: String?) throws -> String {
        try DPoPSigner(key: key).proof(method: method, url: url, nonce: nonce, accessToken: accessToken)
    }
}
