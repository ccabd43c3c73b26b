#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
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
    /// How the user authorizes.
    public var mode: Mode = .automatic
    /// Whether a browser can be shown here (a display, or $BROWSER); `.automatic` uses the device
    /// flow when it cannot and the server offers it.
    public var canOpenBrowser = true
    /// Nobody at a terminal (a client runs mcp-vault): the device flow when the server offers
    /// it, else an immediate error rather than a wait for a browser nobody sees.
    public var unattended = false
    /// Bind the tokens to a new DPoP key (RFC 9449) when the server lists ES256 in
    /// dpop_signing_alg_values_supported (`--no-dpop` turns it off).
    public var dpop = true

    public enum Mode: Sendable, Equatable {
        case automatic
        case browser
        /// RFC 8628 device authorization.
        case device
        /// Print the URL and read the final redirect address from standard input.
        case paste
    }

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
    /// The key the tokens are bound to (DPoP), to seal with them.
    public var dpopKey: SigningKey?
}

/// The authorization-code flow with PKCE and a loopback redirect, end to end.
public struct LoginFlow: Sendable {
    let http: HTTPTransport
    let logger: Logger

    public init(http: HTTPTransport, logger: Logger) {
        self.http = http
        self.logger = logger
    }

    /// What the user is shown.
    public enum Prompt: Sendable {
        /// Open this URL; the answer comes back to the receiver on `port`.
        case browser(url: String, port: Int)
        /// Open this URL anywhere and paste the address it ends on.
        case paste(url: String)
        /// Device authorization: go to `uri` (or `complete`) and enter `userCode` within `expiresIn` seconds.
        case device(uri: String, complete: String?, userCode: String, expiresIn: Int)
    }

    /// `present` shows the user what to do; `readPasted` reads the pasted redirect address (paste mode).
    public func run(_ request: LoginRequest, present: @Sendable (Prompt) async -> Void,
                    readPasted: @Sendable () async throws -> String = { throw OAuthError.cancelled }) async throws -> LoginResult {
        do {
            return try await attempt(request, present: present, readPasted: readPasted)
        } catch OAuthError.server(_, "invalid_client", _) where request.previousRegistration != nil {
            // The server no longer knows the registration mcp-vault kept: register anew, once.
            logger.debug("the reused client registration was refused (invalid_client); registering again")
            var fresh = request
            fresh.previousRegistration = nil
            return try await attempt(fresh, present: present, readPasted: readPasted)
        }
    }

    private func attempt(_ request: LoginRequest, present: @Sendable (Prompt) async -> Void,
                         readPasted: @Sendable () async throws -> String) async throws -> LoginResult {
        let discovery = try await Discovery(http: http, logger: logger).discover(request.serverURL)
        let useDevice = request.mode == .device
            || (request.mode == .automatic && !request.canOpenBrowser && discovery.server.deviceAuthorizationEndpoint != nil)
        if request.unattended && !useDevice { throw OAuthError.needsSomeone(server: request.serverURL, scope: request.scopes.joined(separator: " ")) }
        if useDevice {
            return try await DeviceFlow(http: http, logger: logger).run(request, discovery: discovery, present: present)
        }
        let server = discovery.server
        if let methods = server.codeChallengeMethodsSupported {
            guard methods.contains("S256") else { throw OAuthError.pkceUnsupported }
        } else if !request.allowUnadvertisedPKCE {
            // With no metadata at all there is nothing that "does not advertise" PKCE: say so.
            if discovery.usedDefaultEndpoints {
                throw OAuthError.noOAuthMetadata(request.serverURL, status: 401, lookedAt: discovery.lookedAt)
            }
            throw OAuthError.pkceNotAdvertised
        }
        guard let authorizationEndpoint = server.authorizationEndpoint, let tokenEndpoint = server.tokenEndpoint else {
            throw OAuthError.malformedResponse(url: server.issuer, reason: "the metadata lacks the authorization or token endpoint")
        }

        // The port is chosen before registering, so the registered redirect URI is the one used.
        let reusable = Self.reusableClient(request, issuer: server.issuer)
        let wantedPort = request.callbackPort ?? reusable?.redirectURI.flatMap { URL(string: $0)?.port } ?? 0
        if request.mode == .paste {
            return try await pasteFlow(request, discovery: discovery, present: present, readPasted: readPasted,
                                       authorizationEndpoint: authorizationEndpoint, tokenEndpoint: tokenEndpoint, reusable: reusable)
        }
        let receiver: LoopbackReceiver
        if let bound = try? await LoopbackReceiver.bind(port: wantedPort, logger: logger) {
            receiver = bound
        } else if request.callbackPort == nil && wantedPort != 0 {
            // A dynamic registration names its port; when another program holds it now, a new
            // registration on a free port is the only way on.
            logger.info("port \(wantedPort), which the kept client registration names, is in use; registering a new client")
            receiver = try await LoopbackReceiver.bind(port: 0, logger: logger)
        } else {
            throw OAuthError.callbackPortBusy(wantedPort)
        }
        do {
            let client = try await client(for: request, server: server, redirectURI: receiver.redirectURI, reusable: reusable)
            let authorization = Self.authorizationRequest(request, discovery: discovery, client: client, redirectURI: receiver.redirectURI,
                                                          endpoint: authorizationEndpoint)
            await present(.browser(url: authorization.url, port: receiver.port))
            let response = try await receiver.waitForResponse(state: authorization.state, timeoutSeconds: request.timeoutSeconds)
            let result = try await finish(response, authorization: authorization, discovery: discovery, client: client,
                                          redirectURI: receiver.redirectURI, tokenEndpoint: tokenEndpoint, request: request)
            await receiver.close()
            return result
        } catch {
            await receiver.close()
            throw error
        }
    }

    struct AuthorizationRequest {
        let url: String
        let state: String
        let pkce: PKCE
        let scope: String?
    }

    static func authorizationRequest(_ request: LoginRequest, discovery: DiscoveryResult, client: ClientCredentials,
                                     redirectURI: String, endpoint: String) -> AuthorizationRequest {
        let scope = scope(request: request, discovery: discovery)
        let pkce = PKCE()
        let state = Randomness.token(bytes: 24)
        var fields = [("response_type", "code"), ("client_id", client.clientID), ("redirect_uri", redirectURI),
                      ("state", state), ("code_challenge", pkce.challenge), ("code_challenge_method", PKCE.method)]
        if let scope { fields.append(("scope", scope)) }
        if request.sendResource { fields.append(("resource", discovery.resource)) }
        let separator = endpoint.contains("?") ? "&" : "?"
        let url = endpoint + separator + fields.map { FormURLEncoding.escape($0.0) + "=" + FormURLEncoding.escape($0.1) }.joined(separator: "&")
        return AuthorizationRequest(url: url, state: state, pkce: pkce, scope: scope)
    }

    /// Checks an authorization response (iss, error, code) and exchanges the code.
    func finish(_ response: [String: String], authorization: AuthorizationRequest, discovery: DiscoveryResult, client: ClientCredentials,
                redirectURI: String, tokenEndpoint: String, request: LoginRequest) async throws -> LoginResult {
        let server = discovery.server
        if let iss = response["iss"] {
            // RFC 9207 section 2.4: a simple string comparison with the issuer, nothing normalized.
            guard iss == server.issuer else { throw OAuthError.issMismatch(expected: server.issuer, found: iss) }
        } else if server.authorizationResponseIssParameterSupported == true {
            throw OAuthError.issMissing
        }
        if let error = response["error"] {
            throw OAuthError.authorizationDenied(error: error, description: response["error_description"])
        }
        guard let code = response["code"] else {
            throw OAuthError.malformedResponse(url: redirectURI, reason: "the response has neither a code nor an error")
        }
        let dpopKey = request.dpop && (server.dpopSigningAlgValuesSupported ?? []).contains("ES256") ? SigningKey.generateP256() : nil
        let tokens = try await TokenClient(http: http).exchange(
            code: code, verifier: authorization.pkce.verifier, redirectURI: redirectURI, client: client, endpoint: tokenEndpoint,
            resource: request.sendResource ? discovery.resource : nil, dpop: dpopKey)
        return LoginResult(discovery: discovery, client: client, tokens: tokens, obtainedAt: Int64(Date().timeIntervalSince1970),
                           requestedScope: authorization.scope, dpopKey: dpopKey)
    }

    /// Paste mode: the redirect goes to a loopback address nothing listens on, on whatever
    /// machine has the browser; the user pastes the address it ends on.
    private func pasteFlow(_ request: LoginRequest, discovery: DiscoveryResult, present: @Sendable (Prompt) async -> Void,
                           readPasted: @Sendable () async throws -> String, authorizationEndpoint: String, tokenEndpoint: String,
                           reusable: ClientCredentials?) async throws -> LoginResult {
        let redirectURI = reusable?.redirectURI ?? "http://127.0.0.1:\(request.callbackPort ?? Int.random(in: 20000...60000))\(LoopbackReceiver.callbackPath)"
        let client = try await client(for: request, server: discovery.server, redirectURI: redirectURI, reusable: reusable)
        let authorization = Self.authorizationRequest(request, discovery: discovery, client: client, redirectURI: redirectURI,
                                                      endpoint: authorizationEndpoint)
        await present(.paste(url: authorization.url))
        let pasted = try await readPasted().trimmingWhitespace()
        guard let query = pasted.firstIndex(of: "?").map({ String(pasted[pasted.index(after: $0)...]) }) else {
            throw OAuthError.pasteNeedsAddress
        }
        let response = FormURLEncoding.decode(String(query.prefix(while: { $0 != "#" })))
        guard let state = response["state"], Randomness.equal(state, authorization.state) else { throw OAuthError.stateMismatch }
        return try await finish(response, authorization: authorization, discovery: discovery, client: client,
                                redirectURI: redirectURI, tokenEndpoint: tokenEndpoint, request: request)
    }

    /// Pre-registered, then Client ID Metadata Document, then a reusable earlier registration,
    /// then dynamic registration.
    func client(for request: LoginRequest, server: AuthorizationServerMetadata, redirectURI: String?,
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
        if var reusable {
            // A dynamic registration is tied to its redirect URI; a pre-registered client (or a
            // metadata document, or an imported one) takes any loopback port (RFC 8252 section 7.3).
            if reusable.source != "dynamic" {
                reusable.redirectURI = redirectURI
                logger.debug("reusing the \(reusable.source) client kept for this issuer")
                return reusable
            }
            if reusable.redirectURI == redirectURI {
                logger.debug("reusing the client registered earlier with this issuer")
                return reusable
            }
        }
        guard let endpoint = server.registrationEndpoint else {
            throw .noRegistration("the server offers no dynamic registration; pass --client-id (and its secret)")
        }
        return try await DynamicRegistration(http: http).register(at: endpoint, redirectURI: redirectURI,
                                                                  supportedMethods: server.tokenEndpointAuthMethodsSupported,
                                                                  device: redirectURI == nil)
    }

    /// The client kept from an earlier login with the same issuer, whatever its source.
    static func reusableClient(_ request: LoginRequest, issuer: String) -> ClientCredentials? {
        guard let previous = request.previousRegistration, Discovery.sameIssuer(previous.issuer, issuer) else { return nil }
        return previous.client
    }

    /// Throws at once when an unattended authorization could not be done (no device flow), so
    /// that nothing is counted or shown for it.
    public func checkUnattended(_ request: LoginRequest) async throws {
        guard request.unattended, request.mode != .device else { return }
        let discovery = try await Discovery(http: http, logger: logger).discover(request.serverURL)
        if discovery.server.deviceAuthorizationEndpoint == nil {
            throw OAuthError.needsSomeone(server: request.serverURL, scope: request.scopes.joined(separator: " "))
        }
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
    public func verify(serverURL: String, accessToken: String, dpop: SigningKey? = nil) async throws(OAuthError) -> Verification {
        var nonce: String?
        var response: HTTPTransport.Response
        repeat {
            var headers = [("Authorization", (dpop == nil ? "Bearer " : "DPoP ") + accessToken), ("Accept", "application/json, text/event-stream")]
            if let dpop, let proof = try? Assertions.dpop(method: "POST", url: serverURL, key: dpop, nonce: nonce, accessToken: accessToken) {
                headers.append(("DPoP", proof))
            }
            response = try await http.postJSON(serverURL, body: Discovery.initializeRequest, headers: headers)
            // The MCP server's nonce (RFC 9449 section 9): once.
            guard dpop != nil, nonce == nil, response.status == 401, let given = response.header("DPoP-Nonce"),
                  response.header("WWW-Authenticate")?.contains("use_dpop_nonce") == true else { break }
            nonce = given
        } while true
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
                  resource: String?, dpop: SigningKey? = nil) async throws(OAuthError) -> TokenResponse {
        var fields = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI), ("code_verifier", verifier)]
        if let resource { fields.append(("resource", resource)) }
        return try await post(endpoint, fields: fields, client: client, dpop: dpop)
    }

    public func refresh(_ refreshToken: String, client: ClientCredentials, endpoint: String, resource: String?,
                        dpop: SigningKey? = nil) async throws(OAuthError) -> TokenResponse {
        var fields = [("grant_type", "refresh_token"), ("refresh_token", refreshToken)]
        if let resource { fields.append(("resource", resource)) }
        return try await post(endpoint, fields: fields, client: client, dpop: dpop)
    }

    /// The client credentials grant (RFC 6749 section 4.4): the client authenticates, nothing else.
    public func clientCredentials(client: ClientCredentials, endpoint: String, scope: String?, resource: String?,
                                  dpop: SigningKey? = nil) async throws(OAuthError) -> TokenResponse {
        var fields = [("grant_type", "client_credentials")]
        if let scope { fields.append(("scope", scope)) }
        if let resource { fields.append(("resource", resource)) }
        return try await post(endpoint, fields: fields, client: client, dpop: dpop)
    }

    public static let jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

    /// The JWT bearer grant (RFC 7523 section 2.1): a workload's assertion, or an ID-JAG.
    public func jwtBearer(assertion: String, client: ClientCredentials, endpoint: String, scope: String?, resource: String?,
                          dpop: SigningKey? = nil) async throws(OAuthError) -> TokenResponse {
        var fields = [("grant_type", Self.jwtBearerGrant), ("assertion", assertion)]
        if let scope { fields.append(("scope", scope)) }
        if let resource { fields.append(("resource", resource)) }
        return try await post(endpoint, fields: fields, client: client, dpop: dpop)
    }

    /// RFC 8693 token exchange at an enterprise IdP: an ID token for an ID-JAG (an identity
    /// assertion authorization grant) for `audience` (the MCP authorization server's issuer) and
    /// `resource` (the MCP server).
    public func identityAssertion(idToken: String, client: ClientCredentials, endpoint: String, audience: String, resource: String,
                                  scope: String?) async throws(OAuthError) -> String {
        var fields = [("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
                      ("requested_token_type", "urn:ietf:params:oauth:token-type:id-jag"),
                      ("subject_token", idToken), ("subject_token_type", "urn:ietf:params:oauth:token-type:id_token"),
                      ("audience", audience), ("resource", resource)]
        if let scope { fields.append(("scope", scope)) }
        let authentication = client.authentication()
        let response = try await http.postForm(endpoint, fields: fields + authentication.fields, headers: authentication.headers)
        struct Exchanged: Decodable {
            var access_token: String
            var issued_token_type: String?
        }
        guard response.status == 200 else {
            _ = try TokenResponse.checked(response, from: endpoint)  // throws the server's error
            throw .unexpectedStatus(url: endpoint, status: response.status)
        }
        let exchanged = try response.decode(Exchanged.self, from: endpoint, acceptedStatuses: [200])
        guard exchanged.issued_token_type == nil || exchanged.issued_token_type == "urn:ietf:params:oauth:token-type:id-jag" else {
            throw .malformedResponse(url: endpoint, reason: "the IdP issued \(exchanged.issued_token_type!), not an ID-JAG")
        }
        return exchanged.access_token
    }

    private func post(_ endpoint: String, fields: [(String, String)], client: ClientCredentials,
                      dpop: SigningKey? = nil) async throws(OAuthError) -> TokenResponse {
        var nonce: String?
        for attempt in 0..<2 {
            let authentication = client.authentication()
            var headers = authentication.headers
            if let dpop {
                guard let proof = try? Assertions.dpop(method: "POST", url: endpoint, key: dpop, nonce: nonce, accessToken: nil) else {
                    throw .malformedResponse(url: endpoint, reason: "a DPoP proof could not be signed")
                }
                headers.append(("DPoP", proof))
            }
            let response = try await http.postForm(endpoint, fields: fields + authentication.fields, headers: headers)
            // RFC 9449 section 8: the server wants its nonce in the proof; once.
            if dpop != nil, attempt == 0, response.status == 400 || response.status == 401, let given = response.header("DPoP-Nonce"),
               (try? JSONDecoder().decode(ErrorResponse.self, from: response.body))?.error == "use_dpop_nonce" {
                nonce = given
                continue
            }
            let tokens = try TokenResponse.checked(response, from: endpoint, allowDPoP: dpop != nil)
            if dpop != nil && tokens.tokenType.lowercased() != "dpop" {
                throw .malformedResponse(url: endpoint, reason: "a DPoP proof was sent, but the token is of type \(tokens.tokenType), not bound to the key")
            }
            return tokens
        }
        throw .malformedResponse(url: endpoint, reason: "the server asked for a DPoP nonce twice")
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
        let fields = [("token", token), ("token_type_hint", hint)] + authentication.fields
        do {
            try await post(endpoint, fields: fields, headers: authentication.headers)
        } catch .server(_, "invalid_request", let description?) where description.contains("client_secret")
                    && !fields.contains(where: { $0.0 == "client_secret" }) {
            // The MCP Python SDK's revocation endpoint wants a client_secret field even from a
            // public or Basic client ("client_secret: Field required"); an empty one satisfies it.
            try await post(endpoint, fields: fields + [("client_secret", "")], headers: authentication.headers)
        }
    }

    private func post(_ endpoint: String, fields: [(String, String)], headers: [(String, String)]) async throws(OAuthError) {
        let response = try await http.postForm(endpoint, fields: fields, headers: headers)
        guard response.status == 200 else {
            if let error = try? JSONDecoder().decode(ErrorResponse.self, from: response.body) {
                throw .server(url: endpoint, error: error.error, description: error.errorDescription)
            }
            throw .unexpectedStatus(url: endpoint, status: response.status)
        }
    }
}
