#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// How mcp-vault is known to an authorization server.
public struct ClientCredentials: Sendable, Equatable {
    public var clientID: String
    public var clientSecret: String?
    /// Token endpoint authentication: none, client_secret_post or client_secret_basic.
    public var authMethod: String
    /// preregistered, metadata-document or dynamic.
    public var source: String
    /// The redirect URI the registration is for (dynamic registrations are tied to one).
    public var redirectURI: String?
    /// private_key_jwt: the key that signs the client assertion, and its audience (the
    /// authorization server's issuer).
    public var assertionKey: SigningKey?
    public var assertionAudience: String?

    public init(clientID: String, clientSecret: String?, authMethod: String, source: String, redirectURI: String? = nil) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.authMethod = authMethod
        self.source = source
        self.redirectURI = redirectURI
    }

    /// Body fields and headers that authenticate the client at the token (or revocation) endpoint.
    /// With Basic, `client_id` goes in the form as well: RFC 6749 section 2.3.1 permits it, and
    /// widely deployed servers (the MCP Python SDK's among them) refuse a request without it.
    func authentication() -> (fields: [(String, String)], headers: [(String, String)]) {
        switch authMethod {
        case "client_secret_basic":
            let pair = FormURLEncoding.escape(clientID) + ":" + FormURLEncoding.escape(clientSecret ?? "")
            return ([("client_id", clientID)], [("Authorization", "Basic " + Data(pair.utf8).base64EncodedString())])
        case "client_secret_post":
            return ([("client_id", clientID), ("client_secret", clientSecret ?? "")], [])
        case "private_key_jwt":
            // A fresh assertion (new jti, iat) for every request.
            let assertion = assertionKey.flatMap { try? Assertions.client(clientID, audience: assertionAudience ?? "", key: $0) } ?? ""
            return ([("client_id", clientID), ("client_assertion_type", Assertions.clientAssertionType), ("client_assertion", assertion)], [])
        default:
            return ([("client_id", clientID)], [])
        }
    }
}

/// RFC 7591 dynamic client registration for a native public client.
struct DynamicRegistration {
    let http: HTTPTransport

    static let deviceGrant = "urn:ietf:params:oauth:grant-type:device_code"

    /// Registers for the authorization-code grant with `redirectURI`, or (`device`) for the
    /// device grant with no redirect.
    ///
    /// A native app cannot keep a secret, so it registers as a public client (`none`) whenever the
    /// server allows it: when its metadata lists `none`, and also when the metadata leaves `none`
    /// out (as the MCP Python SDK's does while accepting it); only a registration refused for
    /// that reason is retried with the secret-based method the metadata lists.
    func register(at endpoint: String, redirectURI: String?, supportedMethods: [String]?, device: Bool = false) async throws(OAuthError) -> ClientCredentials {
        do {
            return try await register(at: endpoint, redirectURI: redirectURI, method: "none", device: device)
        } catch .server(_, "invalid_client_metadata", _) where !(supportedMethods ?? []).contains("none") {
            // RFC 8414: a server that lists no methods supports client_secret_basic.
            let listed = supportedMethods ?? ["client_secret_basic"]
            let fallback = listed.contains("client_secret_post") ? "client_secret_post" : "client_secret_basic"
            return try await register(at: endpoint, redirectURI: redirectURI, method: fallback, device: device)
        }
    }

    private func register(at endpoint: String, redirectURI: String?, method: String, device: Bool) async throws(OAuthError) -> ClientCredentials {
        struct Registration: Encodable {
            var client_name = "mcp-vault"
            var grant_types: [String]
            var token_endpoint_auth_method: String
            var application_type = "native"
            var redirect_uris: [String]?
            var response_types: [String]?
        }
        let request = Registration(grant_types: device ? [Self.deviceGrant, "refresh_token"] : ["authorization_code", "refresh_token"],
                                   token_endpoint_auth_method: method,
                                   redirect_uris: redirectURI.map { [$0] }, response_types: redirectURI.map { _ in ["code"] })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = (try? encoder.encode(request)) ?? Data()
        let response = try await http.postJSON(endpoint, body: body)
        struct Registered: Decodable {
            var client_id: String
            var client_secret: String?
            var token_endpoint_auth_method: String?
        }
        let registered = try response.decode(Registered.self, from: endpoint, acceptedStatuses: [200, 201])
        // The server may assign another method than the one asked for; a secret without a method is Basic (RFC 7591).
        let assigned = registered.token_endpoint_auth_method ?? (registered.client_secret == nil ? method : "client_secret_basic")
        return ClientCredentials(clientID: registered.client_id, clientSecret: registered.client_secret,
                                 authMethod: assigned, source: "dynamic", redirectURI: redirectURI)
    }
}
