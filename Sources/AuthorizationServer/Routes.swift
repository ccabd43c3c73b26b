import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

struct Routes: Sendable {
    let options: ServerOptions
    let state: ServerState
    let base: BaseURL
    let machine: MachineState

    static let mcpPath = "/mcp"

    func issuer() async -> String { await base.value + options.issuerPath }
    func resource() async -> String {
        options.resourceMetadata == .rootOnlyOriginResource ? await base.value : await base.value + Self.mcpPath
    }

    func install(on router: Router<BasicRequestContext>) {
        let issuerPath = options.issuerPath
        let tail = issuerPath  // "" or "/tenant"

        router.post(.init(stringLiteral: Self.mcpPath)) { request, _ in try await self.mcp(request) }

        // RFC 9728 protected-resource metadata.
        if options.resourceMetadata != .nowhere {
            router.get("/resource-metadata/mcp") { _, _ in try await self.resourceMetadata() }
        }
        if options.resourceMetadata == .everywhere {
            router.get("/.well-known/oauth-protected-resource/mcp") { _, _ in try await self.resourceMetadata() }
        }
        if [.everywhere, .rootOnly, .rootOnlyOriginResource].contains(options.resourceMetadata) {
            router.get("/.well-known/oauth-protected-resource") { _, _ in try await self.resourceMetadata() }
        }

        // RFC 8414 and OpenID Connect discovery, at the places the MCP specification tries.
        if options.oauthMetadata {
            router.get(.init(stringLiteral: "/.well-known/oauth-authorization-server" + tail)) { _, _ in try await self.serverMetadata() }
        }
        if options.openIDMetadata {
            router.get(.init(stringLiteral: "/.well-known/openid-configuration" + tail)) { _, _ in try await self.serverMetadata() }
            if !tail.isEmpty {
                router.get(.init(stringLiteral: tail + "/.well-known/openid-configuration")) { _, _ in try await self.serverMetadata() }
            }
        }

        if options.dynamicRegistration {
            router.post(.init(stringLiteral: issuerPath + "/register")) { request, _ in try await self.register(request) }
        }
        router.get(.init(stringLiteral: issuerPath + "/authorize")) { request, _ in try await self.authorize(request) }
        if options.deviceFlow {
            router.post(.init(stringLiteral: issuerPath + "/device_authorization")) { request, _ in try await self.deviceAuthorization(request) }
        }
        router.post(.init(stringLiteral: issuerPath + "/token")) { request, _ in try await self.token(request) }
        router.post(.init(stringLiteral: issuerPath + "/revoke")) { request, _ in try await self.revoke(request) }
        router.get("/test/stats") { _, _ in Self.json(await self.state.stats()) }
        installMachineRoutes(on: router)
        router.post("/test/revoke-grants") { _, _ in
            await self.state.revokeAllGrants()
            return Response(status: .noContent)
        }
        router.post("/test/hostile/:mode") { _, context in
            await self.state.setHostileMode(context.parameters.get("mode").flatMap(ServerOptions.HostileAnswer.init(rawValue:)))
            return Response(status: .noContent)
        }
        router.post("/test/expire-clients") { _, _ in
            await self.state.expireAllClients()
            return Response(status: .noContent)
        }
    }

    // MARK: Metadata

    func resourceMetadata() async throws -> Response {
        let ownResource = await resource()
        let issuer = await issuer()
        let document: [String: Any] = [
            "resource": options.resourceOverride ?? ownResource,
            "authorization_servers": [issuer],
            "scopes_supported": options.scopesSupported,
            "bearer_methods_supported": ["header"],
        ]
        return Self.json(document)
    }

    func serverMetadata() async throws -> Response {
        if options.metadataDelay > 0 { try await Task.sleep(for: .seconds(options.metadataDelay)) }
        if options.oversizedMetadata {
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: Self.oversizedDocument))
        }
        if options.malformedMetadata {
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{\"issuer\": ")))
        }
        let issuer = await issuer()
        var document: [String: Any] = [
            "issuer": issuer,
            "authorization_endpoint": issuer + "/authorize",
            "token_endpoint": issuer + "/token",
            "revocation_endpoint": issuer + "/revoke",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_methods_supported": (options.omitNoneAuthMethod ? [] : ["none"]) + ["client_secret_post", "client_secret_basic"],
            "scopes_supported": options.scopesSupported,
            "authorization_response_iss_parameter_supported": options.issParameter != .absent,
        ]
        if options.dynamicRegistration { document["registration_endpoint"] = issuer + "/register" }
        if options.deviceFlow {
            document["device_authorization_endpoint"] = issuer + "/device_authorization"
            document["grant_types_supported"] = ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"]
        }
        if let methods = options.codeChallengeMethods { document["code_challenge_methods_supported"] = methods }
        if options.insecureTokenEndpoint { document["token_endpoint"] = "http://auth.example.com/token" }
        if options.clientIDMetadataDocuments { document["client_id_metadata_document_supported"] = true }
        if !options.machineClients.isEmpty || options.workloadKeyPEM != nil || options.idJAGClientID != nil {
            document["grant_types_supported"] = (document["grant_types_supported"] as? [String] ?? []) + ["client_credentials", Self.jwtBearer]
            document["token_endpoint_auth_methods_supported"] = (document["token_endpoint_auth_methods_supported"] as? [String] ?? []) + ["private_key_jwt"]
            document["token_endpoint_auth_signing_alg_values_supported"] = ["ES256", "RS256"]
        }
        if options.dpop { document["dpop_signing_alg_values_supported"] = ["ES256"] }
        return Self.json(document)
    }

    /// 2 MiB of JSON, built once: larger than any client should accept.
    static let oversizedDocument = ByteBuffer(string: "{\"padding\": \"" + String(repeating: "x", count: 2 << 20) + "\"}")

    // MARK: Registration (RFC 7591)

    func register(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 64 * 1024)
        let registration = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
        let deviceOnly = (registration?["grant_types"] as? [String])?.contains("urn:ietf:params:oauth:grant-type:device_code") == true
            && (registration?["redirect_uris"] as? [String] ?? []).isEmpty
        guard let object = registration, let redirects = (object["redirect_uris"] as? [String]) ?? (deviceOnly ? [] : nil),
              !redirects.isEmpty || deviceOnly else {
            return Self.oauthError("invalid_client_metadata", "redirect_uris is required", status: .badRequest)
        }
        let method = object["token_endpoint_auth_method"] as? String ?? "client_secret_basic"
        guard ["none", "client_secret_post", "client_secret_basic"].contains(method), !(options.refusePublicRegistration && method == "none") else {
            return Self.oauthError("invalid_client_metadata", "unsupported token_endpoint_auth_method", status: .badRequest)
        }
        let client = RegisteredClient(
            id: ServerState.randomToken("client"), secret: method == "none" ? nil : ServerState.randomToken("secret"),
            authMethod: method, redirectURIs: redirects,
            grantTypes: object["grant_types"] as? [String] ?? ["authorization_code"])
        await state.register(client)
        await state.countRegistration()
        var response: [String: Any] = [
            "client_id": client.id, "redirect_uris": redirects, "token_endpoint_auth_method": method,
            "grant_types": client.grantTypes, "client_id_issued_at": Int(Date().timeIntervalSince1970),
        ]
        if let secret = client.secret {
            response["client_secret"] = secret
            response["client_secret_expires_at"] = 0
        }
        return Self.json(response, status: .created)
    }

    // MARK: Authorization

    func authorize(_ request: Request) async throws -> Response {
        await state.countAuthorization()
        let query = FormEncoding.decode(request.uri.query ?? "")
        if let clientID = query["client_id"], options.clientIDMetadataDocuments, clientID.hasPrefix("https://"),
           await state.client(clientID) == nil {
            await state.register(RegisteredClient(id: clientID, secret: nil, authMethod: "none"))
        }
        guard let clientID = query["client_id"], let client = await state.client(clientID) else {
            return Self.page("Unknown client", status: .badRequest)
        }
        guard let redirect = query["redirect_uri"], client.redirectURIs.isEmpty || client.redirectURIs.contains(redirect) else {
            return Self.page("The redirect_uri is not registered for this client", status: .badRequest)
        }
        let state = query["state"]
        func back(_ fields: [(String, String)]) async -> Response {
            var fields = fields
            if let state { fields.append(("state", state)) }
            switch options.issParameter {
            case .correct: fields.append(("iss", await issuer()))
            case .trailingSlash: fields.append(("iss", await issuer() + "/"))
            case .wrong: fields.append(("iss", "https://evil.example.com"))
            case .absent, .absentButAdvertised: break
            }
            let separator = redirect.contains("?") ? "&" : "?"
            return Response(status: .found, headers: [.location: redirect + separator + FormEncoding.encode(fields)])
        }
        if let error = options.authorizationError {
            return await back([("error", error), ("error_description", "The user denied the request")])
        }
        guard query["response_type"] == "code" else {
            return await back([("error", "unsupported_response_type")])
        }
        guard let challenge = query["code_challenge"], query["code_challenge_method"] == "S256" else {
            return await back([("error", "invalid_request"), ("error_description", "PKCE with S256 is required")])
        }
        let ownResource = await self.resource()
        if let resource = query["resource"], resource != ownResource {
            return await back([("error", "invalid_target"), ("error_description", "unknown resource")])
        }
        let code = ServerState.randomToken("code")
        await self.state.storeCode(code, .init(clientID: clientID, redirectURI: redirect, challenge: challenge,
                                               scope: (query["scope"] ?? "").split(separator: " ").map(String.init)
                                                   .filter { !options.withheldScopes.contains($0) }.joined(separator: " "),
                                               resource: query["resource"],
                                               expires: Date().addingTimeInterval(120),
                                               user: query["login_hint"].flatMap { $0.isEmpty ? nil : $0 } ?? ServerState.defaultUser))
        return await back([("code", code)])
    }

    // MARK: Token

    func token(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 64 * 1024)
        let form = FormEncoding.decode(String(buffer: body))
        if options.requireClientIDInForm && form["client_id"] == nil {
            return Self.oauthError("invalid_client", "Missing client_id", status: .unauthorized)
        }
        if form["grant_type"] == "client_credentials" || form["grant_type"] == Self.jwtBearer {
            return await machineToken(request, form)
        }
        // DPoP on the authorization code and refresh grants: a proof binds the tokens to its key.
        var proofEntry: [String: Any] = ["endpoint": "token", "grant_type": form["grant_type"] ?? "-"]
        var jkt: String?
        if options.dpop, request.headers[values: HTTPField.Name("DPoP")!].first != nil {
            let proof = await checkTokenEndpointProof(request, entry: &proofEntry)
            if let refusal = proof.refusal { return refusal }
            jkt = proof.jkt
            proofEntry["outcome"] = "proof accepted"
            await log(proofEntry)
        }
        guard let client = await authenticate(request, form), !(await state.isExpired(client.id)) else {
            return Self.oauthError("invalid_client", "client authentication failed", status: .unauthorized)
        }
        switch form["grant_type"] {
        case "authorization_code":
            if let error = options.tokenError { return Self.oauthError(error, "the server refuses this code") }
            guard let code = form["code"], let pending = await state.takeCode(code), pending.expires > Date(),
                  pending.clientID == client.id else {
                return Self.oauthError("invalid_grant", "the code is unknown, used or expired")
            }
            guard form["redirect_uri"] == pending.redirectURI else {
                return Self.oauthError("invalid_grant", "redirect_uri differs from the authorization request")
            }
            guard let verifier = form["code_verifier"], PKCE.challenge(for: verifier) == pending.challenge else {
                return Self.oauthError("invalid_grant", "PKCE verification failed")
            }
            if let resource = form["resource"], resource != pending.resource {
                return Self.oauthError("invalid_target", "resource differs from the authorization request")
            }
            let issued = await state.issueNewGrant(clientID: client.id, scope: pending.scope, resource: pending.resource,
                                                   lifetime: options.accessTokenLifetime, user: pending.user, jkt: jkt)
            return await hostile(issued) ?? tokenResponse(issued, bound: jkt != nil)
        case "refresh_token":
            guard let token = form["refresh_token"] else { return Self.oauthError("invalid_request", "refresh_token is required") }
            switch await state.refresh(token, clientID: client.id, lifetime: options.accessTokenLifetime, jkt: jkt) {
            case .issued(let tokens):
                // Rotated already: a client that never reads this answer has lost the grant.
                if options.refreshDelay > 0 { try await Task.sleep(for: .seconds(options.refreshDelay)) }
                return await hostile(tokens) ?? tokenResponse(tokens, bound: jkt != nil)
            case .reused: return Self.oauthError("invalid_grant", "refresh token reuse detected; the grant is revoked")
            case .unknown: return Self.oauthError("invalid_grant", "unknown refresh token")
            }
        case "urn:ietf:params:oauth:grant-type:device_code":
            guard let code = form["device_code"],
                  let (entry, early) = await state.poll(code, slowDownBy: 0), entry.clientID == client.id else {
                return Self.oauthError("invalid_grant", "unknown device code")
            }
            if options.deviceSlowDown && entry.polls == 1 {
                await state.slowDown(code, by: 5)  // the client must now wait 5 s more
                return Self.oauthError("slow_down", "polling too fast")
            }
            if early { return Self.oauthError("slow_down", "polling too fast") }
            switch options.deviceOutcome {
            case .deny:
                await state.finishDevice(code)
                return Self.oauthError("access_denied", "the user declined")
            case .expire:
                await state.finishDevice(code)
                return Self.oauthError("expired_token", "the device code expired")
            case .approve:
                let pendingPolls = options.devicePendingPolls + (options.deviceSlowDown ? 1 : 0)
                if entry.polls <= pendingPolls { return Self.oauthError("authorization_pending", "waiting for the user") }
                await state.finishDevice(code)
                return tokenResponse(await state.issueNewGrant(clientID: client.id, scope: entry.scope, resource: entry.resource,
                                                               lifetime: options.accessTokenLifetime))
            }
        default:
            return Self.oauthError("unsupported_grant_type", "grant_type is not supported")
        }
    }

    // MARK: Device authorization (RFC 8628)

    func deviceAuthorization(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 64 * 1024)
        let form = FormEncoding.decode(String(buffer: body))
        guard let client = await authenticate(request, form) else {
            return Self.oauthError("invalid_client", "client authentication failed", status: .unauthorized)
        }
        let code = ServerState.randomToken("device")
        let userCode = String(ServerState.randomToken("").dropFirst().prefix(8)).uppercased()
        await state.storeDevice(code, .init(clientID: client.id, scope: form["scope"] ?? "", resource: form["resource"],
                                            interval: Double(options.deviceInterval)))
        let base = await base.value
        return Self.json([
            "device_code": code, "user_code": userCode, "verification_uri": base + "/device",
            "verification_uri_complete": base + "/device?user_code=" + userCode,
            "expires_in": 600, "interval": options.deviceInterval,
        ])
    }

    /// The token endpoint's answer in hostile mode, or nil.
    private func hostile(_ tokens: ServerState.IssuedTokens) async -> Response? {
        guard let mode = await state.hostileMode ?? options.hostileTokenEndpoint else { return nil }
        switch mode {
        case .absurdNumbers:
            let body = #"{"access_token":"\#(tokens.access)","token_type":"Bearer","refresh_token":"\#(tokens.refresh)","expires_in":9223372036854775807,"refresh_expires_in":-9223372036854775807}"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        case .slowDrip:
            let body = Array(#"{"access_token":"\#(tokens.access)","token_type":"Bearer","refresh_token":"\#(tokens.refresh)","expires_in":3600}"#.utf8)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(contentLength: body.count) { writer in
                for byte in body {
                    try await writer.write(ByteBuffer(bytes: [byte]))
                    try await Task.sleep(for: .seconds(1))
                }
                try await writer.finish(nil)
            })
        case .hugeToken:
            return Self.json(["access_token": String(repeating: "A", count: 700 * 1024), "token_type": "Bearer",
                              "refresh_token": tokens.refresh, "expires_in": 3600])
        case .redirect:
            return Response(status: .found, headers: [.location: "https://elsewhere.example.com/token"])
        case .escapeSequences:
            return Self.oauthError("invalid_grant", "refused \u{1b}[2J\u{1b}[31mclear screen\u{7}")
        }
    }

    private func tokenResponse(_ tokens: ServerState.IssuedTokens, bound: Bool = false) -> Response {
        var document: [String: Any] = [
            "access_token": tokens.access, "token_type": bound ? "DPoP" : "Bearer", "expires_in": options.accessTokenLifetime, "refresh_token": tokens.refresh,
        ]
        if !tokens.scope.isEmpty { document["scope"] = tokens.scope }
        return Self.json(document, headers: [.cacheControl: "no-store"])
    }

    /// client_secret_basic, client_secret_post or none, as the client registered.
    private func authenticate(_ request: Request, _ form: [String: String]) async -> RegisteredClient? {
        if let header = request.headers[.authorization], header.hasPrefix("Basic "),
           let decoded = Data(base64Encoded: String(header.dropFirst(6))).flatMap({ String(data: $0, encoding: .utf8) }),
           let colon = decoded.firstIndex(of: ":") {
            let id = FormEncoding.unescape(decoded[..<colon]), secret = FormEncoding.unescape(decoded[decoded.index(after: colon)...])
            guard let client = await state.client(id), client.authMethod == "client_secret_basic", client.secret == secret,
                  form["client_id"].map({ $0 == id }) ?? true else { return nil }
            return client
        }
        guard let id = form["client_id"], let client = await state.client(id) else { return nil }
        switch client.authMethod {
        case "none": return form["client_secret"] == nil ? client : nil
        case "client_secret_post": return form["client_secret"] == client.secret ? client : nil
        default: return nil
        }
    }

    // MARK: Revocation (RFC 7009)

    func revoke(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 64 * 1024)
        let form = FormEncoding.decode(String(buffer: body))
        guard await authenticate(request, form) != nil else {
            return Self.oauthError("invalid_client", "client authentication failed", status: .unauthorized)
        }
        if let token = form["token"] { await state.revokeToken(token) }
        return Response(status: .ok)
    }

    // MARK: MCP

    func mcp(_ request: Request) async throws -> Response {
        let metadataURL: String? = switch options.resourceMetadata {
        case .nowhere, .rootOnly, .rootOnlyOriginResource: nil
        case .headerOnly: await base.value + "/resource-metadata/mcp"
        case .everywhere: await base.value + "/.well-known/oauth-protected-resource/mcp"
        }
        let authorization = request.headers[.authorization] ?? ""
        let scheme = authorization.split(separator: " ").first.map { $0.lowercased() } ?? ""
        let presented: String? = ["bearer", "dpop"].contains(scheme) ? String(authorization.dropFirst(scheme.count + 1)) : nil
        var granted: String? = if let presented { await state.validate(presented) } else { nil }
        if let presented, granted != nil, let jkt = await state.binding(of: presented) {
            // A DPoP-bound token: only with the DPoP scheme and a proof by its key (RFC 9449 section 7).
            var entry: [String: Any] = ["endpoint": "mcp", "scheme": scheme]
            let proof = await checkProof(request, method: "POST", url: await base.value + Self.mcpPath, nonce: options.resourceDPoPNonce,
                                         accessToken: presented, entry: &entry)
            if scheme == "dpop", proof.nonceMissing, let nonce = options.resourceDPoPNonce {
                entry["outcome"] = "use_dpop_nonce"
                await log(entry)
                return Response(status: .unauthorized, headers: [.wwwAuthenticate: "DPoP error=\"use_dpop_nonce\", algs=\"ES256\"",
                                                                 HTTPField.Name("DPoP-Nonce")!: nonce, .contentType: "application/json"],
                                body: .init(byteBuffer: ByteBuffer(string: "{\"error\":\"use_dpop_nonce\"}")))
            }
            let accepted = scheme == "dpop" && proof.error == nil && proof.jkt == jkt
            entry["outcome"] = accepted ? "accepted" : (scheme != "dpop" ? "bearer_refused" : proof.error ?? "wrong key")
            await log(entry)
            if !accepted {
                return Response(status: .unauthorized, headers: [.wwwAuthenticate: "DPoP error=\"invalid_token\", algs=\"ES256\"", .contentType: "application/json"],
                                body: .init(byteBuffer: ByteBuffer(string: "{\"error\":\"invalid_token\"}")))
            }
        } else if scheme == "dpop" {
            granted = nil  // a bearer token presented as DPoP
        }
        guard granted != nil || options.mcpWithoutAuthorization else {
            let challenge = "Bearer " + (metadataURL.map { "resource_metadata=\"\($0)\", " } ?? "") + "scope=\"mcp:read\""
            return Response(status: .unauthorized, headers: [.wwwAuthenticate: challenge, .contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: "{\"error\":\"unauthorized\"}")))
        }
        let scope = granted ?? ""
        let body = try await request.body.collect(upTo: 1 << 20)
        let message = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
        // The "admin" tool needs options.requiredScope (and, when set, everything needs
        // options.initializeScope): a 403 insufficient_scope step-up challenge.
        let needed: String? = if message["method"] as? String == "tools/call",
                                 (message["params"] as? [String: Any])?["name"] as? String == "admin" {
            options.requiredScope
        } else {
            options.initializeScope
        }
        if let needed, !scope.split(separator: " ").contains(Substring(needed)) {
            let wanted = (scope.split(separator: " ").map(String.init) + [needed]).joined(separator: " ")
            let challenge = "Bearer error=\"insufficient_scope\", scope=\"\(wanted)\", resource_metadata=\"\(await base.value)/.well-known/oauth-protected-resource/mcp\""
            return Response(status: .forbidden, headers: [.wwwAuthenticate: challenge, .contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: "{\"error\":\"insufficient_scope\"}")))
        }
        // A small MCP server: notifications and responses are accepted without an answer.
        guard let id = message["id"], let method = message["method"] as? String else { return Response(status: .accepted) }
        let result: [String: Any]
        switch method {
        case "initialize":
            result = ["protocolVersion": "2025-11-25", "capabilities": ["tools": [String: Any]()],
                      "serverInfo": ["name": "mcp-vault-demo-server", "version": "1.0"]]
        case "ping":
            result = [:]
        case "tools/list":
            result = ["tools": [["name": "admin", "description": "Needs \(options.requiredScope).", "inputSchema": ["type": "object"]]]]
        case "tools/call" where (message["params"] as? [String: Any])?["name"] as? String == "whoami":
            // Who the token was issued to (the login_hint of its authorization): tells accounts apart.
            let user = if let presented { await state.user(of: presented) ?? "-" } else { "-" }
            result = ["content": [["type": "text", "text": user]]]
        case "tools/call":
            result = ["content": [["type": "text", "text": "done"]]]
        default:
            return Self.json(["jsonrpc": "2.0", "id": id, "error": ["code": -32601, "message": "method not found"]])
        }
        return Self.json(["jsonrpc": "2.0", "id": id, "result": result])
    }

    // MARK: Responses

    static func json(_ object: Any, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func oauthError(_ code: String, _ description: String, status: HTTPResponse.Status = .badRequest) -> Response {
        json(["error": code, "error_description": description], status: status)
    }

    static func page(_ text: String, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
    }
}
