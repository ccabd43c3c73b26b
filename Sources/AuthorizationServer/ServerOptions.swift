/// The behaviours the bundled authorization server can be switched into, one per situation the
/// OAuth engine must handle. The defaults describe a well-behaved MCP server.
public struct ServerOptions: Sendable, Codable {
    /// Path component of the issuer ("" for an issuer at the origin, "/tenant" for one with a path).
    public var issuerPath = ""
    /// Serve RFC 7591 dynamic client registration.
    public var dynamicRegistration = true
    /// Clients known in advance: id, secret (nil for a public client) and token endpoint auth method.
    public var preregisteredClients: [RegisteredClient] = []
    /// Serve RFC 8414 metadata (`oauth-authorization-server`); false leaves only OpenID Connect discovery.
    public var oauthMetadata = true
    /// Serve OpenID Connect discovery (`openid-configuration`).
    public var openIDMetadata = true
    /// Where protected-resource metadata is served.
    public var resourceMetadata: ResourceMetadataPlacement = .everywhere
    /// `code_challenge_methods_supported`; nil leaves the field out.
    public var codeChallengeMethods: [String]? = ["S256"]
    /// A `resource` other than the MCP endpoint in the protected-resource metadata.
    public var resourceOverride: String?
    /// The RFC 9207 `iss` parameter on the authorization response.
    public var issParameter: IssParameter = .correct
    /// Access token lifetime in seconds.
    public var accessTokenLifetime = 3600
    /// Scopes the server offers; the MCP endpoint needs `requiredScope` for its "admin" tool.
    public var scopesSupported = ["mcp:read", "mcp:write", "mcp:admin", "offline_access"]
    /// The scope the "admin" tool needs (calling it without gets 403 insufficient_scope).
    public var requiredScope = "mcp:admin"
    /// Seconds to wait before answering metadata requests (a slow server).
    public var metadataDelay: Double = 0
    /// Serve authorization-server metadata that is not JSON.
    public var malformedMetadata = false
    /// Answer authorization requests with this OAuth error instead of a code (access_denied, say).
    public var authorizationError: String?
    /// Answer the authorization-code exchange with this OAuth error (invalid_grant, say).
    public var tokenError: String?
    /// Advertise a plain-http token endpoint on a non-loopback host.
    public var insecureTokenEndpoint = false
    /// Serve authorization-server metadata larger than any client should accept (2 MiB).
    public var oversizedMetadata = false
    /// A scope the MCP endpoint needs even for initialize (403 insufficient_scope without it).
    public var initializeScope: String?
    /// Serve RFC 8628 device authorization.
    public var deviceFlow = true
    /// How the (simulated) user answers a device authorization.
    public var deviceOutcome: DeviceOutcome = .approve
    /// Polls answered authorization_pending before the user "approves".
    public var devicePendingPolls = 1
    /// Answer the first poll with slow_down.
    public var deviceSlowDown = false
    /// The polling interval the server asks for, in seconds.
    public var deviceInterval = 1

    public enum DeviceOutcome: String, Sendable, Codable {
        case approve, deny, expire
    }

    /// Machine identities (the MCP authorization extensions): clients of the client-credentials
    /// grant, with a secret or a public key for private_key_jwt.
    public var machineClients: [MachineClient] = []
    /// Publish `dpop_signing_alg_values_supported` (ES256) and bind tokens asked for with a proof.
    public var dpop = false
    /// Demand this nonce in DPoP proofs at the token endpoint (400 use_dpop_nonce without it).
    public var tokenEndpointDPoPNonce: String?
    /// Demand this nonce in DPoP proofs at the MCP endpoint (401 use_dpop_nonce without it).
    public var resourceDPoPNonce: String?
    /// The public key (PEM) whose signatures on jwt-bearer assertions (workload identity) are trusted.
    public var workloadKeyPEM: String?
    /// Serve an enterprise IdP at /idp (OpenID configuration, RFC 8693 token exchange for ID-JAGs),
    /// whose ID-JAGs name this client id of the authorization server.
    public var idJAGClientID: String?

    /// Scopes never granted, whatever is asked (to test the step-up retry limit).
    public var withheldScopes: [String] = []
    /// Accept Client ID Metadata Document URLs (any https URL) as client ids.
    public var clientIDMetadataDocuments = false
    /// Leave `none` out of token_endpoint_auth_methods_supported while still registering public
    /// clients (as the MCP Python SDK's authorization server does).
    public var omitNoneAuthMethod = false
    /// Refuse a token request without `client_id` in the form, even with Basic authentication
    /// (401 invalid_client "Missing client_id", as the MCP Python SDK's token endpoint does).
    public var requireClientIDInForm = false
    /// Refuse dynamic registrations that ask for `none` (invalid_client_metadata).
    public var refusePublicRegistration = false
    /// Seconds to wait before answering a refresh, after the refresh token has been rotated (an
    /// answer that arrives late, or that a killed client never reads).
    public var refreshDelay: Double = 0
    /// How the token endpoint misbehaves (the hostile-server tests); nil: it does not.
    public var hostileTokenEndpoint: HostileAnswer?
    /// The MCP endpoint serves without a token (a server that needs no sign-in).
    public var mcpWithoutAuthorization = false

    /// Token endpoint answers that no client should trust or wait for.
    public enum HostileAnswer: String, Sendable, Codable, CaseIterable {
        /// expires_in of Int64.max and a hugely negative refresh_expires_in.
        case absurdNumbers
        /// A correct answer sent one byte a second.
        case slowDrip
        /// An access token of 700 KB.
        case hugeToken
        /// A 302 redirect to another origin.
        case redirect
        /// A control sequence in the error description (a terminal escape).
        case escapeSequences
    }

    public enum ResourceMetadataPlacement: String, Sendable, Codable {
        case everywhere          // header, path-suffixed and root well-known URLs
        case rootOnly            // only /.well-known/oauth-protected-resource
        case headerOnly          // only at the URL named in WWW-Authenticate
        case nowhere             // none at all, and no resource_metadata in the challenge
        /// Only at the root, naming the origin as the resource (RFC 9728 section 3.3); the
        /// server then knows itself as the origin (the RFC 8707 resource it accepts).
        case rootOnlyOriginResource
    }

    public enum IssParameter: String, Sendable, Codable {
        case correct, absent, wrong
        /// Left out of the response although the metadata says it is sent.
        case absentButAdvertised
        /// The issuer with a slash appended: not the issuer, by RFC 9207's simple comparison.
        case trailingSlash
    }

    public init() {}
}

/// A machine client: authenticates with a secret (basic or post) or with a private_key_jwt
/// assertion signed by the key whose public half is `publicKeyPEM` (P-256 or RSA).
public struct MachineClient: Sendable, Equatable, Codable {
    public var id: String
    public var secret: String?
    public var publicKeyPEM: String?
    /// client_secret_basic, client_secret_post, private_key_jwt or none.
    public var authMethod: String

    public init(id: String, secret: String? = nil, publicKeyPEM: String? = nil, authMethod: String) {
        self.id = id
        self.secret = secret
        self.publicKeyPEM = publicKeyPEM
        self.authMethod = authMethod
    }
}

/// A client the server knows.
public struct RegisteredClient: Sendable, Equatable, Codable {
    public var id: String
    public var secret: String?
    public var authMethod: String
    public var redirectURIs: [String]
    public var grantTypes: [String]

    public init(id: String, secret: String?, authMethod: String, redirectURIs: [String] = [], grantTypes: [String] = ["authorization_code", "refresh_token"]) {
        self.id = id
        self.secret = secret
        self.authMethod = authMethod
        self.redirectURIs = redirectURIs
        self.grantTypes = grantTypes
    }
}
