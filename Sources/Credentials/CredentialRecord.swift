#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What mcp-vault seals for one server: the plaintext JSON inside a vault record.
/// Its `description` is redacted; tokens and client secrets never reach a log line.
public struct CredentialRecord: Codable, Sendable, Equatable, CustomStringConvertible {
    public static let currentSchema = 1

    public var schema: Int
    /// The canonical server URL (the record's name in the vault).
    public var serverURL: String
    /// The named account this identity is (`login --account`); nil for the default account.
    public var account: String?
    /// The name the user knows the server by (`login --name`, or a client config's), if any.
    public var name: String?
    /// The RFC 8707 resource indicator sent with requests, when it differs from serverURL.
    public var resource: String?
    /// Whether to send `resource` on authorize, token and refresh requests.
    public var sendResource: Bool
    public var issuer: String?
    public var endpoints: Endpoints
    public var client: ClientRegistration?
    public var tokens: Tokens?
    /// How tokens are had without a person (client credentials, jwt-bearer, ID-JAG); nil for
    /// the authorization code grant, whose tokens are renewed by the refresh token.
    public var grant: Grant?
    /// The private key (PKCS#8 PEM, P-256) the tokens are bound to (RFC 9449 DPoP); only `proxy`
    /// can present such tokens.
    public var dpopKey: String?
    /// Set when the server refused the refresh token: the user must log in again.
    public var needsLogin: Bool
    /// Step-up authorizations started for one challenged scope, counted across processes.
    public var stepUp: StepUp?
    /// Set once the user has been told that the server's tokens live shorter than asked for
    /// (`--min-ttl`), so that every call refreshes; cleared when they live longer again.
    public var shortLivedWarned: Bool?
    /// Unix seconds.
    public var createdAt: Int64
    public var updatedAt: Int64

    public struct Endpoints: Codable, Sendable, Equatable {
        public var authorization: String?
        public var token: String?
        public var revocation: String?
        public init(authorization: String? = nil, token: String? = nil, revocation: String? = nil) {
            self.authorization = authorization
            self.token = token
            self.revocation = revocation
        }
    }

    public struct ClientRegistration: Codable, Sendable, Equatable {
        public var clientID: String
        public var clientSecret: String?
        /// How the client was obtained: preregistered, metadata-document, dynamic, imported.
        public var source: String
        /// Token endpoint authentication: none, client_secret_post, client_secret_basic.
        public var authMethod: String
        /// The redirect URI a dynamic registration is tied to.
        public var redirectURI: String?
        public init(clientID: String, clientSecret: String? = nil, source: String, authMethod: String, redirectURI: String? = nil) {
            self.clientID = clientID
            self.clientSecret = clientSecret
            self.source = source
            self.authMethod = authMethod
            self.redirectURI = redirectURI
        }
        enum CodingKeys: String, CodingKey {
            case clientID = "client_id", clientSecret = "client_secret", source, authMethod = "auth_method"
            case redirectURI = "redirect_uri"
        }
    }

    public struct Tokens: Codable, Sendable, Equatable {
        public var accessToken: String
        public var refreshToken: String?
        public var tokenType: String
        public var scope: String?
        /// Absolute expiry of the access token, Unix seconds; nil when the server gave none.
        public var expiresAt: Int64?
        /// Absolute expiry of the refresh token, when the server said.
        public var refreshExpiresAt: Int64?
        public init(accessToken: String, refreshToken: String? = nil, tokenType: String = "Bearer", scope: String? = nil,
                    expiresAt: Int64? = nil, refreshExpiresAt: Int64? = nil) {
            self.accessToken = accessToken
            self.refreshToken = refreshToken
            self.tokenType = tokenType
            self.scope = scope
            self.expiresAt = expiresAt
            self.refreshExpiresAt = refreshExpiresAt
        }
        enum CodingKeys: String, CodingKey {
            case accessToken = "access_token", refreshToken = "refresh_token", tokenType = "token_type", scope
            case expiresAt = "expires_at", refreshExpiresAt = "refresh_expires_at"
        }

        /// The latest instant a record may name (the end of year 9999): a time read from a record
        /// written by anything is clamped to 0 through this, so no arithmetic on it can overflow.
        public static let latestTime: Int64 = 253_402_300_799

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            accessToken = try container.decode(String.self, forKey: .accessToken)
            refreshToken = try container.decodeIfPresent(String.self, forKey: .refreshToken)
            tokenType = try container.decode(String.self, forKey: .tokenType)
            scope = try container.decodeIfPresent(String.self, forKey: .scope)
            expiresAt = try container.decodeIfPresent(Int64.self, forKey: .expiresAt).map { min(max($0, 0), Self.latestTime) }
            refreshExpiresAt = try container.decodeIfPresent(Int64.self, forKey: .refreshExpiresAt).map { min(max($0, 0), Self.latestTime) }
        }
    }

    /// A machine identity's way to new tokens: the same grant again, when the token runs short.
    public struct Grant: Codable, Sendable, Equatable {
        public static let clientCredentials = "client_credentials"
        public static let jwtBearer = "jwt_bearer"
        public static let idJAG = "id_jag"

        /// client_credentials, jwt_bearer or id_jag.
        public var type: String
        /// private_key_jwt's key (PKCS#8 PEM): from --private-key-file, or made by `keygen`.
        public var privateKey: String?
        /// jwt-bearer: the file the assertion is read from afresh at every token request.
        public var assertionFile: String?
        /// jwt-bearer: the command whose standard output is the assertion.
        public var assertionCommand: String?
        /// The scope asked for, space-separated.
        public var scope: String?
        /// ID-JAG: the enterprise IdP.
        public var idp: IdentityProvider?

        public init(type: String) { self.type = type }

        public struct IdentityProvider: Codable, Sendable, Equatable {
            public var issuer: String
            public var clientID: String
            public var tokenEndpoint: String
            public init(issuer: String, clientID: String, tokenEndpoint: String) {
                self.issuer = issuer
                self.clientID = clientID
                self.tokenEndpoint = tokenEndpoint
            }
            enum CodingKeys: String, CodingKey { case issuer, clientID = "client_id", tokenEndpoint = "token_endpoint" }
        }

        enum CodingKeys: String, CodingKey {
            case type, privateKey = "private_key", assertionFile = "assertion_file", assertionCommand = "assertion_command", scope, idp
        }

        /// What `status` calls it.
        public var displayName: String {
            switch type {
            case Self.clientCredentials: privateKey != nil ? "client credentials (private_key_jwt)" : "client credentials"
            case Self.jwtBearer: "jwt-bearer (workload identity)"
            case Self.idJAG: "ID-JAG (enterprise-managed)"
            default: type
            }
        }
    }

    /// The step-up authorizations started for `scope` since `since` (Unix seconds).
    public struct StepUp: Codable, Sendable, Equatable {
        /// The scopes asked for, space-separated, sorted.
        public var scope: String
        public var attempts: Int
        public var since: Int64
        public init(scope: String, attempts: Int, since: Int64) {
            self.scope = scope
            self.attempts = attempts
            self.since = since
        }
    }

    enum CodingKeys: String, CodingKey {
        case schema, serverURL = "server_url", account, name, resource, sendResource = "send_resource", issuer, endpoints, client, tokens
        case grant, dpopKey = "dpop_key"
        case needsLogin = "needs_login", stepUp = "step_up", shortLivedWarned = "short_lived_warned", createdAt = "created_at", updatedAt = "updated_at"
    }

    public init(server: ServerURL, issuer: String? = nil, endpoints: Endpoints = Endpoints(), client: ClientRegistration? = nil,
                tokens: Tokens? = nil, now: Int64) {
        schema = Self.currentSchema
        serverURL = server.canonical
        account = server.account
        resource = nil
        sendResource = true
        self.issuer = issuer
        self.endpoints = endpoints
        self.client = client
        self.tokens = tokens
        needsLogin = false
        createdAt = now
        updatedAt = now
    }

    /// The server and account this record is for.
    public func server() throws(CredentialsError) -> ServerURL {
        try ServerURL(serverURL, account: account)
    }

    public var description: String {
        "CredentialRecord(\(serverURL)\(account.map { " account \($0)" } ?? ""), issuer: \(issuer ?? "-"), tokens: \(tokens == nil ? "none" : "redacted"))"
    }

    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return [UInt8](try! encoder.encode(self))  // strings, integers and booleans always encode
    }

    /// The largest plaintext a record file can hold (1 MiB less its header and tag).
    public static let maximumPayload = (1 << 20) - 88 - 16

    /// `encoded()`, refused when it could not be stored, naming the field that makes it too large.
    public func encodedForStorage() throws(CredentialsError) -> [UInt8] {
        let bytes = encoded()
        guard bytes.count > Self.maximumPayload else { return bytes }
        let fields: [(String, String?)] = [
            ("server_url", serverURL), ("resource", resource), ("issuer", issuer), ("endpoints.authorization", endpoints.authorization),
            ("endpoints.token", endpoints.token), ("endpoints.revocation", endpoints.revocation), ("client.client_id", client?.clientID),
            ("client.client_secret", client?.clientSecret), ("client.redirect_uri", client?.redirectURI),
            ("tokens.access_token", tokens?.accessToken), ("tokens.refresh_token", tokens?.refreshToken), ("tokens.scope", tokens?.scope),
            ("grant.private_key", grant?.privateKey), ("grant.assertion_file", grant?.assertionFile), ("grant.assertion_command", grant?.assertionCommand),
        ]
        let largest = fields.max { ($0.1?.utf8.count ?? 0) < ($1.1?.utf8.count ?? 0) }
        throw .recordTooLarge(field: largest?.0 ?? "?", size: bytes.count, limit: Self.maximumPayload)
    }

    public static func decode(_ payload: [UInt8], id: String) throws(CredentialsError) -> CredentialRecord {
        do {
            let record = try JSONDecoder().decode(CredentialRecord.self, from: Data(payload))
            guard record.schema == currentSchema else {
                throw CredentialsError.malformedCredential(id: id, reason: "schema \(record.schema) is not \(currentSchema)")
            }
            return record
        } catch let error as CredentialsError {
            throw error
        } catch {
            if StoredRecord.kind(of: payload) == .secret { throw .notACredential(id: id) }
            throw .malformedCredential(id: id, reason: "its JSON does not match the credential schema")
        }
    }
}
