/// RFC 9728 protected-resource metadata (the fields mcp-vault uses).
public struct ProtectedResourceMetadata: Codable, Sendable, Equatable {
    public var resource: String
    public var authorizationServers: [String]?
    public var scopesSupported: [String]?

    enum CodingKeys: String, CodingKey {
        case resource
        case authorizationServers = "authorization_servers"
        case scopesSupported = "scopes_supported"
    }
}

/// RFC 8414 / OpenID Connect discovery metadata (the fields mcp-vault uses).
public struct AuthorizationServerMetadata: Codable, Sendable, Equatable {
    public var issuer: String
    public var authorizationEndpoint: String?
    public var tokenEndpoint: String?
    public var registrationEndpoint: String?
    public var revocationEndpoint: String?
    public var deviceAuthorizationEndpoint: String?
    public var scopesSupported: [String]?
    public var codeChallengeMethodsSupported: [String]?
    public var tokenEndpointAuthMethodsSupported: [String]?
    public var authorizationResponseIssParameterSupported: Bool?
    public var clientIDMetadataDocumentSupported: Bool?
    public var grantTypesSupported: [String]?
    /// RFC 9449: the server binds tokens to DPoP keys of these algorithms.
    public var dpopSigningAlgValuesSupported: [String]?

    enum CodingKeys: String, CodingKey {
        case issuer
        case grantTypesSupported = "grant_types_supported"
        case dpopSigningAlgValuesSupported = "dpop_signing_alg_values_supported"
        case authorizationEndpoint = "authorization_endpoint"
        case tokenEndpoint = "token_endpoint"
        case registrationEndpoint = "registration_endpoint"
        case revocationEndpoint = "revocation_endpoint"
        case deviceAuthorizationEndpoint = "device_authorization_endpoint"
        case scopesSupported = "scopes_supported"
        case codeChallengeMethodsSupported = "code_challenge_methods_supported"
        case tokenEndpointAuthMethodsSupported = "token_endpoint_auth_methods_supported"
        case authorizationResponseIssParameterSupported = "authorization_response_iss_parameter_supported"
        case clientIDMetadataDocumentSupported = "client_id_metadata_document_supported"
    }
}

/// A token endpoint response (RFC 6749 section 5.1).
public struct TokenResponse: Codable, Sendable {
    public var accessToken: String
    public var tokenType: String
    public var expiresIn: Int?
    public var refreshToken: String?
    public var scope: String?
    /// Seconds the refresh token lasts, when the server says (`refresh_token_expires_in`, or
    /// Keycloak's `refresh_expires_in`).
    public var refreshExpiresIn: Int?

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token", tokenType = "token_type", expiresIn = "expires_in"
        case refreshToken = "refresh_token", scope
        case refreshTokenExpiresIn = "refresh_token_expires_in", refreshExpiresIn = "refresh_expires_in"
    }

    /// The longest token mcp-vault accepts: it must fit in an Authorization header
    /// (`HTTPTransport.headerValueLimit`), and real ones are a few kilobytes at most.
    public static let tokenLimit = HTTPTransport.headerValueLimit - "Bearer ".count
    /// The longest lifetime taken as given (ten years); longer ones are cut to this, negative ones
    /// are taken as 0 (already expired), so that no later arithmetic can overflow.
    public static let lifetimeLimit = 10 * 365 * 24 * 3600

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        accessToken = try container.decode(String.self, forKey: .accessToken)
        tokenType = try container.decode(String.self, forKey: .tokenType)
        expiresIn = try Self.lifetime(container, .expiresIn)
        refreshToken = try container.decodeIfPresent(String.self, forKey: .refreshToken)
        scope = try container.decodeIfPresent(String.self, forKey: .scope)
        refreshExpiresIn = try Self.lifetime(container, .refreshTokenExpiresIn) ?? Self.lifetime(container, .refreshExpiresIn)
    }

    /// A number of seconds as the server sent it (an integer or any JSON number), clamped.
    static func lifetime(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> Int? {
        guard container.contains(key), try !container.decodeNil(forKey: key) else { return nil }
        let seconds = try container.decode(Double.self, forKey: key)
        guard seconds.isFinite else { return lifetimeLimit }
        return Int(min(max(seconds, 0), Double(lifetimeLimit)))
    }

    /// A token endpoint's answer, decoded and checked: Bearer, not empty, not oversized.
    static func checked(_ response: HTTPTransport.Response, from endpoint: String, allowDPoP: Bool = false) throws(OAuthError) -> TokenResponse {
        let tokens = try response.decode(TokenResponse.self, from: endpoint)
        guard tokens.tokenType.lowercased() == "bearer" || allowDPoP && tokens.tokenType.lowercased() == "dpop" else {
            throw .malformedResponse(url: endpoint, reason: "the token type is not Bearer")
        }
        guard !tokens.accessToken.isEmpty else { throw .malformedResponse(url: endpoint, reason: "the access token is empty") }
        try tokens.checkSizes(from: endpoint)
        return tokens
    }

    /// Refuses tokens no server should send and no header could carry.
    func checkSizes(from url: String) throws(OAuthError) {
        if accessToken.utf8.count > Self.tokenLimit { throw .tokenTooLarge(field: "access_token", limit: Self.tokenLimit) }
        if let refreshToken, refreshToken.utf8.count > Self.tokenLimit { throw .tokenTooLarge(field: "refresh_token", limit: Self.tokenLimit) }
        if let scope, scope.utf8.count > Self.tokenLimit { throw .tokenTooLarge(field: "scope", limit: Self.tokenLimit) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(accessToken, forKey: .accessToken)
        try container.encode(tokenType, forKey: .tokenType)
        try container.encodeIfPresent(expiresIn, forKey: .expiresIn)
        try container.encodeIfPresent(refreshToken, forKey: .refreshToken)
        try container.encodeIfPresent(scope, forKey: .scope)
        try container.encodeIfPresent(refreshExpiresIn, forKey: .refreshTokenExpiresIn)
    }
}

/// An OAuth error response body.
struct ErrorResponse: Codable {
    var error: String
    var errorDescription: String?
    enum CodingKeys: String, CodingKey { case error, errorDescription = "error_description" }
}
