import Foundation
import Logging

/// What a login needs to know beyond the server URL.
public struct LoginRequest: Sendable {
    public var serverURL: String
    public var scopes: [String] = []
    /// Send the RFC 8707 `resource` parameter (off for servers that reject it).
    public var sendResource = true
    /// A client registered in advance (`--client-id`).
    public var preregistered: ClientCredentials?
    /// A Client ID Metadata Document URL (`--client-metadata-url`).
    public var clientMetadataURL: String?
    /// A registration from an earlier login, reused when it is for the same issuer.
    public var previousRegistration: (issuer: String, client: ClientCredentials)?
    /// Proceed when the server does not advertise code_challenge_methods_supported at all.
    public var allowUnadvertisedPKCE = false
    public var callbackPort: Int?
    public var timeoutSeconds = 300

    public init(serverURL: String) {
        self.serverURL = serverURL
    }
}

/// What a login produced.
public struct LoginResult: Sendable {
    public var discovery: DiscoveryResult
    public var client: ClientCredentials
    public var tokens: TokenResponse
    /// Unix seconds when the token response arrived (for the absolute expiry).
    public var obtainedAt: Int64
    /// The scope that was requested.
    public var requestedScope: String?
}

/// The authorization-code flow with PKCE and a loopback redirect, end to end.
public struct LoginFlow: Sendable {
    let http: HTTPTransport
    let logger: Logger

    public init(http: HTTPTransport, logger: Logger) {
        self.http = http
        self.logger = logger
    }

    /// `present` is given the authorization URL and the receiver's port (to open a browser and
    /// say what is awaited).
    public func run(_ request: LoginRequest, present: @Sendable (String, Int) async -> Void) async throws -> LoginResult {
        do {
            return try await attempt(request, present: present)
        } catch OAuthError.server(_, "invalid_client", _) where request.previousRegistration != nil {
            // The server no longer knows the registration mcp-vault kept: register anew, once.
            logger.debug("the reused client registration was refused (invalid_client); registering again")
            var fresh = request
            fresh.previousRegistration = nil
            return try await attempt(fresh, present: present)
        }
    }

    private func attempt(_ request: LoginRequest, present: @Sendable (String, Int) async -> Void) async throws -> LoginResult {
        let discovery = try await Discovery(http: http, logger: logger).discover(request.serverURL)
        let server = discovery.server
        if let methods = server.codeChallengeMethodsSupported {
            guard methods.contains("S256") else { throw OAuthError.pkceUnsupported }
        } else if !request.allowUnadvertisedPKCE {
            throw OAuthError.pkceNotAdvertised
        }
        guard let authorizationEndpoint = server.authorizationEndpoint, let tokenEndpoint = server.tokenEndpoint else {
            throw OAuthError.malformedResponse(url: server.issuer, reason: "the metadata lacks the authorization or token endpoint")
        }

        // The port is chosen before registering, so the registered redirect URI is the one used.
        let reusable = request.previousRegistration.flatMap { previous in
            Discovery.sameIssuer(previous.issuer, server.issuer) && previous.client.source == "dynamic" ? previous.client : nil
        }
        let wantedPort = request.callbackPort ?? reusable?.redirectURI.flatMap { URL(string: $0)?.port } ?? 0
        let receiver: LoopbackReceiver
        if let bound = try? await LoopbackReceiver.bind(port: wantedPort) {
            receiver = bound
        } else if request.callbackPort == nil && wantedPort != 0 {
            receiver = try await LoopbackReceiver.bind(port: 0)  // the old port is taken: register anew
        } else {
            throw OAuthError.callbackPortBusy(wantedPort)
        }
        do {
            let client = try await client(for: request, server: server, redirectURI: receiver.redirectURI, reusable: reusable)
            let scope = Self.scope(request: request, discovery: discovery)
            let pkce = PKCE()
            let state = Randomness.token(bytes: 24)
            var fields = [("response_type", "code"), ("client_id", client.clientID), ("redirect_uri", receiver.redirectURI),
                          ("state", state), ("code_challenge", pkce.challenge), ("code_challenge_method", PKCE.method)]
            if let scope { fields.append(("scope", scope)) }
            if request.sendResource { fields.append(("resource", request.serverURL)) }
            let separator = authorizationEndpoint.contains("?") ? "&" : "?"
            let url = authorizationEndpoint + separator + fields.map { FormURLEncoding.escape($0.0) + "=" + FormURLEncoding.escape($0.1) }.joined(separator: "&")
            await present(url, receiver.port)

            let response = try await receiver.waitForResponse(state: state, timeoutSeconds: request.timeoutSeconds)
            if let iss = response["iss"] {
                guard Discovery.sameIssuer(iss, server.issuer) else { throw OAuthError.issMismatch(expected: server.issuer, found: iss) }
            } else if server.authorizationResponseIssParameterSupported == true {
                throw OAuthError.issMissing
            }
            if let error = response["error"] {
                throw OAuthError.authorizationDenied(error: error, description: response["error_description"])
            }
            guard let code = response["code"] else {
                throw OAuthError.malformedResponse(url: receiver.redirectURI, reason: "the response has neither a code nor an error")
            }
            let tokens = try await TokenClient(http: http).exchange(
                code: code, verifier: pkce.verifier, redirectURI: receiver.redirectURI, client: client, endpoint: tokenEndpoint,
                resource: request.sendResource ? request.serverURL : nil)
            await receiver.close()
            return LoginResult(discovery: discovery, client: client, tokens: tokens, obtainedAt: Int64(Date().timeIntervalSince1970),
                               requestedScope: scope)
        } catch {
            await receiver.close()
            throw error
        }
    }

    /// Pre-registered, then Client ID Metadata Document, then a reusable earlier registration,
    /// then dynamic registration.
    private func client(for request: LoginRequest, server: AuthorizationServerMetadata, redirectURI: String,
                        reusable: ClientCredentials?) async throws(OAuthError) -> ClientCredentials {
        if var client = request.preregistered {
            client.redirectURI = redirectURI
            return client
        }
        if let document = request.clientMetadataURL {
            guard server.clientIDMetadataDocumentSupported == true else {
                throw .noRegistration("the server does not accept Client ID Metadata Documents")
            }
            return ClientCredentials(clientID: document, clientSecret: nil, authMethod: "none", source: "metadata-document",
                                     redirectURI: redirectURI)
        }
        if let reusable, reusable.redirectURI == redirectURI {
            logger.debug("reusing the client registered earlier with this issuer")
            return reusable
        }
        guard let endpoint = server.registrationEndpoint else {
            throw .noRegistration("the server offers no dynamic registration; pass --client-id (and its secret)")
        }
        return try await DynamicRegistration(http: http).register(at: endpoint, redirectURI: redirectURI,
                                                                  supportedMethods: server.tokenEndpointAuthMethodsSupported)
    }

    /// `--scope` flags, else the 401's scope, else the resource's scopes_supported, else none;
    /// offline_access only when the authorization server lists it.
    static func scope(request: LoginRequest, discovery: DiscoveryResult) -> String? {
        var scopes = request.scopes
        if scopes.isEmpty, let challenged = discovery.challengedScope { scopes = challenged.split(separator: " ").map(String.init) }
        if scopes.isEmpty, let supported = discovery.resourceMetadata?.scopesSupported { scopes = supported }
        let offered = discovery.server.scopesSupported ?? []
        scopes.removeAll { $0 == "offline_access" }
        if offered.contains("offline_access") { scopes.append("offline_access") }
        var seen = Set<String>()
        scopes = scopes.filter { seen.insert($0).inserted }
        return scopes.isEmpty ? nil : scopes.joined(separator: " ")
    }

    /// What the MCP server made of a new token.
    public enum Verification: Sendable, Equatable {
        case accepted
        /// 403 insufficient_scope, with the scope the server asked for.
        case needsScope(String?)
    }

    /// Sends an MCP initialize request with the token; a 401 or other 403 means it does not work.
    public func verify(serverURL: String, accessToken: String) async throws(OAuthError) -> Verification {
        let response = try await http.postJSON(
            serverURL, body: Data(#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"mcp-vault","version":"0.1"}}}"#.utf8),
            headers: [("Authorization", "Bearer " + accessToken), ("Accept", "application/json, text/event-stream")])
        if response.status == 403, let challenge = response.header("WWW-Authenticate").flatMap(BearerChallenge.init),
           challenge.error == "insufficient_scope" {
            return .needsScope(challenge.scope)
        }
        if response.status == 401 || response.status == 403 {
            throw .server(url: serverURL, error: "HTTP \(response.status)", description: "the MCP server does not accept the new token")
        }
        return .accepted
    }
}

/// The token endpoint: authorization-code exchange and refresh.
public struct TokenClient: Sendable {
    let http: HTTPTransport

    public init(http: HTTPTransport) {
        self.http = http
    }

    func exchange(code: String, verifier: String, redirectURI: String, client: ClientCredentials, endpoint: String,
                  resource: String?) async throws(OAuthError) -> TokenResponse {
        var fields = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI), ("code_verifier", verifier)]
        if let resource { fields.append(("resource", resource)) }
        return try await post(endpoint, fields: fields, client: client)
    }

    public func refresh(_ refreshToken: String, client: ClientCredentials, endpoint: String, resource: String?) async throws(OAuthError) -> TokenResponse {
        var fields = [("grant_type", "refresh_token"), ("refresh_token", refreshToken)]
        if let resource { fields.append(("resource", resource)) }
        return try await post(endpoint, fields: fields, client: client)
    }

    private func post(_ endpoint: String, fields: [(String, String)], client: ClientCredentials) async throws(OAuthError) -> TokenResponse {
        let authentication = client.authentication()
        let response = try await http.postForm(endpoint, fields: fields + authentication.fields, headers: authentication.headers)
        let tokens = try response.decode(TokenResponse.self, from: endpoint)
        guard tokens.tokenType.lowercased() == "bearer", !tokens.accessToken.isEmpty else {
            throw .malformedResponse(url: endpoint, reason: "the token type is not Bearer")
        }
        return tokens
    }
}

/// RFC 7009 token revocation.
public struct RevocationClient: Sendable {
    let http: HTTPTransport

    public init(http: HTTPTransport) {
        self.http = http
    }

    /// Revokes `token`; the server answers 200 for any token, known or not.
    public func revoke(_ token: String, hint: String, client: ClientCredentials, endpoint: String) async throws(OAuthError) {
        let authentication = client.authentication()
        let response = try await http.postForm(endpoint, fields: [("token", token), ("token_type_hint", hint)] + authentication.fields,
                                               headers: authentication.headers)
        guard response.status == 200 else {
            if let error = try? JSONDecoder().decode(ErrorResponse.self, from: response.body) {
                throw .server(url: endpoint, error: error.error, description: error.errorDescription)
            }
            throw .unexpectedStatus(url: endpoint, status: response.status)
        }
    }
}
