#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads token data in the spellings older tools used: camelCase (`accessToken`, `expiresAt`,
/// `clientInfo.clientId`), snake_case (`access_token`, `expires_at`, `client_id`), and opencode's
/// nesting (`tokens`, `clientInfo`, `serverUrl`).
enum LegacyTokenParser {
    /// `expiresAt` above this is taken to be in milliseconds (year 5138 in seconds).
    static let millisecondsThreshold: Double = 1e11

    private struct Client: Decodable {
        var clientId: String?
        var client_id: String?
        var clientSecret: String?
        var client_secret: String?
    }

    private struct Tokens: Decodable {
        var accessToken: String?
        var access_token: String?
        var refreshToken: String?
        var refresh_token: String?
        var expiresAt: Double?
        var expires_at: Double?
        var scope: String?
        var clientInfo: Client?
        var client_info: Client?
        var client_id: String?
        var client_secret: String?
        var serverUrl: String?
        var server_url: String?
        var tokens: NestedTokens?
    }

    /// opencode's entries nest the token fields one level down.
    private final class NestedTokens: Decodable, @unchecked Sendable {
        let value: Tokens
        init(from decoder: any Decoder) throws { value = try Tokens(from: decoder) }
    }

    /// Parses one JSON object of token data.
    static func token(from data: Data) throws(LegacyImportError) -> LegacyToken {
        guard !data.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }) else { throw .empty }
        let raw: Tokens
        do {
            raw = try JSONDecoder().decode(Tokens.self, from: data)
        } catch DecodingError.typeMismatch(_, let context) {
            throw .malformedJSON("\"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" has the wrong type")
        } catch {
            throw .malformedJSON("not a JSON object")
        }
        return try token(from: raw)
    }

    private static func token(from raw: Tokens) throws(LegacyImportError) -> LegacyToken {
        let nested = raw.tokens?.value
        guard let access = nested?.accessToken ?? nested?.access_token ?? raw.accessToken ?? raw.access_token else {
            throw raw.tokens == nil && raw.clientInfo != nil ? .noTokens : .noAccessToken
        }
        guard !access.isEmpty else { throw .noAccessToken }
        let client = raw.clientInfo ?? raw.client_info ?? nested?.clientInfo
        let expiry = nested?.expiresAt ?? nested?.expires_at ?? raw.expiresAt ?? raw.expires_at
        return LegacyToken(
            accessToken: access,
            refreshToken: nested?.refreshToken ?? nested?.refresh_token ?? raw.refreshToken ?? raw.refresh_token,
            expiresAt: try expiry.map { value throws(LegacyImportError) -> Int64 in
                let seconds = value > millisecondsThreshold ? value / 1000 : value
                guard seconds.isFinite, seconds >= 0, seconds < 1e11 else { throw .malformedJSON("expiresAt \(value) is not a time") }
                return Int64(seconds)
            },
            scope: nested?.scope ?? raw.scope,
            clientID: client?.clientId ?? client?.client_id ?? raw.client_id,
            clientSecret: client?.clientSecret ?? client?.client_secret ?? raw.client_secret,
            serverURL: raw.serverUrl ?? raw.server_url)
    }

    /// Parses a JSON object whose values are token data (the multi-entry files), keeping the
    /// key order stable (sorted). Each entry fails or succeeds on its own.
    static func entries(from data: Data) throws(LegacyImportError) -> [(key: String, token: Result<LegacyToken, LegacyImportError>, raw: Data)] {
        guard !data.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }) else { throw .empty }
        let object: [String: RawJSON]
        do {
            object = try JSONDecoder().decode([String: RawJSON].self, from: data)
        } catch {
            throw .malformedJSON("not a JSON object of entries")
        }
        return object.keys.sorted().map { key in
            (key, Result { () throws(LegacyImportError) -> LegacyToken in try token(from: object[key]!.data) }, object[key]!.data)
        }
    }

    /// A JSON value kept as its bytes, so that each entry is parsed (and fails) on its own.
    struct RawJSON: Decodable {
        let data: Data
        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(JSONValue.self)
            data = try JSONValue.canonicalEncoder.encode(value)
        }
    }
}

/// Any JSON value (to re-encode one entry of a multi-entry file).
enum JSONValue: Codable, Equatable {
    case string(String), integer(Int64), number(Double), bool(Bool), null

    /// Sorted keys, so that the same value always gives the same bytes (and fingerprint).
    static let canonicalEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
    case array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int64.self) { self = .integer(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .null: try container.encodeNil()
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
