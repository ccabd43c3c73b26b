import Crypto
import _CryptoExtras
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A compact JWS, parsed and (with a key) verified: what the server checks of client
/// assertions, workload assertions, ID-JAGs and DPoP proofs.
struct ParsedJWT {
    let header: [String: Any]
    let claims: [String: Any]
    let signingInput: [UInt8]
    let signature: [UInt8]

    init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let head = Self.decode(parts[0]), let body = Self.decode(parts[1]), let signature = Self.decode(parts[2]),
              let header = try? JSONSerialization.jsonObject(with: Data(head)) as? [String: Any],
              let claims = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return nil }
        self.header = header
        self.claims = claims
        self.signingInput = Array((parts[0] + "." + parts[1]).utf8)
        self.signature = signature
    }

    static func decode(_ text: Substring) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map { [UInt8]($0) }
    }

    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    var algorithm: String? { header["alg"] as? String }

    /// Whether the signature verifies with the PEM public key (ES256 with P-256, RS256 with RSA).
    func verifies(pem: String) -> Bool {
        switch algorithm {
        case "ES256":
            guard let key = try? P256.Signing.PublicKey(pemRepresentation: pem),
                  let signature = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(signature, for: signingInput)
        case "RS256":
            guard let key = try? _RSA.Signing.PublicKey(pemRepresentation: pem) else { return false }
            return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: signingInput, padding: .insecurePKCS1v1_5)
        default:
            return false
        }
    }

    /// Whether the signature verifies with an EC P-256 JWK (a DPoP proof's own key).
    func verifies(jwk: [String: Any]) -> Bool {
        guard algorithm == "ES256", jwk["kty"] as? String == "EC", jwk["crv"] as? String == "P-256", jwk["d"] == nil,
              let x = (jwk["x"] as? String).flatMap({ Self.decode(Substring($0)) }), let y = (jwk["y"] as? String).flatMap({ Self.decode(Substring($0)) }),
              let key = try? P256.Signing.PublicKey(x963Representation: [0x04] + x + y),
              let signature = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
        return key.isValidSignature(signature, for: signingInput)
    }

    /// RFC 7638 thumbprint of an EC JWK.
    static func thumbprint(_ jwk: [String: Any]) -> String {
        let text = "{\"crv\":\"\(jwk["crv"] as? String ?? "")\",\"kty\":\"\(jwk["kty"] as? String ?? "")\",\"x\":\"\(jwk["x"] as? String ?? "")\",\"y\":\"\(jwk["y"] as? String ?? "")\"}"
        return encode(SHA256.hash(data: Data(text.utf8)))
    }

    func integer(_ claim: String) -> Int? { (claims[claim] as? NSNumber)?.intValue }

    /// `aud` is `audience` (alone or in an array), with or without one trailing slash.
    func hasAudience(_ audience: String) -> Bool {
        let accepted = [audience, audience + "/"]
        if let single = claims["aud"] as? String { return accepted.contains(single) }
        return (claims["aud"] as? [String])?.contains { accepted.contains($0) } ?? false
    }
}

/// What the server keeps for the machine-identity grants and DPoP.
actor MachineState {
    var seenAssertionIDs: Set<String> = []
    var seenProofIDs: Set<String> = []
    /// Every token request of the extensions, as checked (JSON objects): for the tests to assert on.
    var log: [Data] = []
    let idpKey = P256.Signing.PrivateKey()
    /// Clients registered while the server runs (`POST /test/machine-clients`): a key made by
    /// `mcp-vault keygen` after the server started.
    var extraClients: [MachineClient] = []
    func add(_ client: MachineClient) { extraClients.append(client) }

    func firstUse(assertion jti: String) -> Bool { seenAssertionIDs.insert(jti).inserted }
    func firstUse(proof jti: String) -> Bool { seenProofIDs.insert(jti).inserted }
    func append(_ entry: Data) { log.append(entry) }
    /// The log as a JSON array.
    func entries() -> String { "[" + log.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ",") + "]" }

    /// A JWT signed by the IdP's key.
    func signByIdP(header: [String: Any], claims: [String: Any]) -> String {
        let head = ParsedJWT.encode((try? JSONSerialization.data(withJSONObject: header.merging(["alg": "ES256"]) { $1 }, options: [.sortedKeys])) ?? Data())
        let body = ParsedJWT.encode((try? JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys])) ?? Data())
        let input = head + "." + body
        let signature = (try? idpKey.signature(for: Data(input.utf8)).rawRepresentation) ?? Data()
        return input + "." + ParsedJWT.encode(signature)
    }

    var idpPublicPEM: String { idpKey.publicKey.pemRepresentation }
}

extension Routes {
    static let jwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    static let tokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"

    func installMachineRoutes(on router: Router<BasicRequestContext>) {
        router.post("/test/machine-clients") { request, _ in
            let body = try await request.body.collect(upTo: 64 * 1024)
            let client = try JSONDecoder().decode(MachineClient.self, from: Data(buffer: body))
            await self.machine.add(client)
            return Response(status: .noContent)
        }
        router.get("/test/token-requests") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: await self.machine.entries())))
        }
        guard options.idJAGClientID != nil else { return }
        router.get("/idp/.well-known/openid-configuration") { _, _ in
            let issuer = await self.base.value + "/idp"
            return Self.json(["issuer": issuer, "token_endpoint": issuer + "/token",
                              "grant_types_supported": [Self.tokenExchange]])
        }
        // An ID token from the IdP for the tests (in place of an OpenID Connect sign-in).
        router.get("/test/idp/id-token") { request, _ in
            let query = FormEncoding.decode(request.uri.query ?? "")
            let now = Int(Date().timeIntervalSince1970)
            let token = await self.machine.signByIdP(header: ["typ": "JWT"], claims: [
                "iss": await self.base.value + "/idp", "sub": query["sub"] ?? "alice", "aud": query["aud"] ?? "idp-client",
                "iat": now, "exp": now + (Int(query["lifetime"] ?? "") ?? 3600)])
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: token)))
        }
        router.post("/idp/token") { request, _ in try await self.idpTokenExchange(request) }
    }

    /// RFC 8693 at the IdP: an ID token it issued, for an ID-JAG (typ oauth-id-jag+jwt) naming the
    /// audience, the resource and the client id at the MCP authorization server.
    /// Logs one checked request.
    func log(_ entry: [String: Any]) async {
        await machine.append((try? JSONSerialization.data(withJSONObject: entry, options: [.sortedKeys])) ?? Data())
    }

    func idpTokenExchange(_ request: Request) async throws -> Response {
        let form = FormEncoding.decode(String(buffer: try await request.body.collect(upTo: 64 * 1024)))
        var entry: [String: Any] = ["endpoint": "idp", "grant_type": form["grant_type"] ?? "-"]
        let response = await idpTokenExchange(form, entry: &entry)
        await log(entry)
        return response
    }

    func idpTokenExchange(_ form: [String: String], entry: inout [String: Any]) async -> Response {
        guard form["grant_type"] == Self.tokenExchange else { return Self.oauthError("unsupported_grant_type", "token exchange only") }
        let missing = [("subject_token", nil), ("subject_token_type", "urn:ietf:params:oauth:token-type:id_token"),
                       ("requested_token_type", "urn:ietf:params:oauth:token-type:id-jag"), ("audience", nil), ("resource", nil)]
            .filter { name, value in form[name] == nil || (value != nil && form[name] != value) }.map(\.0)
        entry["missing"] = missing
        guard missing.isEmpty else { return Self.oauthError("invalid_request", "missing or wrong: " + missing.joined(separator: ", ")) }
        let idpIssuer = await base.value + "/idp"
        let idpKey = await machine.idpPublicPEM
        guard let idToken = ParsedJWT(form["subject_token"]!), idToken.verifies(pem: idpKey),
              idToken.claims["iss"] as? String == idpIssuer, (idToken.integer("exp") ?? 0) > Int(Date().timeIntervalSince1970) else {
            entry["outcome"] = "invalid_grant"
            return Self.oauthError("invalid_grant", "the ID token is not the IdP's, or expired")
        }
        let now = Int(Date().timeIntervalSince1970)
        let jag = await machine.signByIdP(header: ["typ": "oauth-id-jag+jwt"], claims: [
            "iss": idpIssuer, "sub": idToken.claims["sub"] as? String ?? "-", "aud": form["audience"]!, "resource": form["resource"]!,
            "client_id": options.idJAGClientID ?? "", "iat": now, "exp": now + 300, "jti": UUID().uuidString])
        entry["outcome"] = "issued"
        entry["audience"] = form["audience"]
        entry["resource"] = form["resource"]
        return Self.json(["access_token": jag, "issued_token_type": "urn:ietf:params:oauth:token-type:id-jag", "token_type": "N_A"])
    }

    /// The machine client a token request authenticates as: client_secret_basic, _post, or a
    /// private_key_jwt assertion (signature, iss = sub = the client, aud = the issuer, exp, a
    /// jti never seen before). Nil, with the reason, when it does not.
    func authenticateMachine(_ request: Request, _ form: [String: String], entry: inout [String: Any]) async -> (MachineClient?, String?) {
        let issuer = await issuer()
        let clients = options.machineClients + (await machine.extraClients)
        if let header = request.headers[.authorization], header.hasPrefix("Basic "),
           let decoded = Data(base64Encoded: String(header.dropFirst(6))).flatMap({ String(data: $0, encoding: .utf8) }),
           let colon = decoded.firstIndex(of: ":") {
            entry["client_auth"] = "client_secret_basic"
            let id = FormEncoding.unescape(decoded[..<colon]), secret = FormEncoding.unescape(decoded[decoded.index(after: colon)...])
            guard let client = clients.first(where: { $0.id == id }), client.authMethod == "client_secret_basic", client.secret == secret else {
                return (nil, "wrong client id or secret")
            }
            return (client, nil)
        }
        if form["client_assertion_type"] != nil || form["client_assertion"] != nil {
            entry["client_auth"] = "private_key_jwt"
            guard form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" else { return (nil, "wrong client_assertion_type") }
            guard let assertion = form["client_assertion"].flatMap(ParsedJWT.init) else { return (nil, "the client assertion is not a JWT") }
            entry["assertion_alg"] = assertion.algorithm
            entry["assertion_claims"] = assertion.claims
            guard let id = assertion.claims["iss"] as? String, let client = clients.first(where: { $0.id == id }),
                  client.authMethod == "private_key_jwt", let pem = client.publicKeyPEM else { return (nil, "unknown client") }
            guard assertion.verifies(pem: pem) else { return (nil, "the assertion's signature does not verify") }
            guard assertion.claims["sub"] as? String == id else { return (nil, "sub is not the client id") }
            guard assertion.hasAudience(issuer) else { return (nil, "aud is not the issuer") }
            let now = Int(Date().timeIntervalSince1970)
            guard let exp = assertion.integer("exp"), exp > now - 30, exp <= now + 3600 else { return (nil, "exp is missing, past or too far") }
            guard let jti = assertion.claims["jti"] as? String, await machine.firstUse(assertion: jti) else { return (nil, "jti is missing or was used before") }
            entry["assertion_verified"] = true
            return (client, nil)
        }
        if let id = form["client_id"], let client = clients.first(where: { $0.id == id }) {
            switch client.authMethod {
            case "client_secret_post":
                entry["client_auth"] = "client_secret_post"
                return form["client_secret"] == client.secret ? (client, nil) : (nil, "wrong client secret")
            case "none":
                entry["client_auth"] = "none"
                return (client, nil)
            default:
                return (nil, "the client authenticates with \(client.authMethod)")
            }
        }
        return (nil, "no client authentication")
    }

    /// A DPoP proof at `url` for `method`: typ, alg, jwk, signature, htm, htu, iat, a new jti, the
    /// nonce demanded, and `ath` when a token goes with it. Returns the key's thumbprint, or the
    /// error to answer.
    func checkProof(_ request: Request, method: String, url: String, nonce: String?, accessToken: String?,
                    entry: inout [String: Any]) async -> (jkt: String?, error: String?, nonceMissing: Bool) {
        guard let header = request.headers[values: HTTPField.Name("DPoP")!].first else { return (nil, nil, false) }
        guard let proof = ParsedJWT(header) else { return (nil, "the DPoP proof is not a JWT", false) }
        entry["dpop_claims"] = proof.claims
        guard proof.header["typ"] as? String == "dpop+jwt", let jwk = proof.header["jwk"] as? [String: Any] else { return (nil, "typ or jwk is wrong", false) }
        guard proof.verifies(jwk: jwk) else { return (nil, "the proof's signature does not verify with its jwk", false) }
        guard proof.claims["htm"] as? String == method else { return (nil, "htm is not \(method)", false) }
        guard let htu = proof.claims["htu"] as? String, !htu.contains("?"), !htu.contains("#"),
              Self.normalized(htu) == Self.normalized(url) else { return (nil, "htu is not \(url)", false) }
        guard let iat = proof.integer("iat"), abs(iat - Int(Date().timeIntervalSince1970)) <= 300 else { return (nil, "iat is missing or not now", false) }
        if let accessToken {
            let expected = ParsedJWT.encode(SHA256.hash(data: Data(accessToken.utf8)))
            guard proof.claims["ath"] as? String == expected else { return (nil, "ath is not the hash of the access token", false) }
        }
        if let nonce, proof.claims["nonce"] as? String != nonce { return (nil, nil, true) }
        guard let jti = proof.claims["jti"] as? String, await machine.firstUse(proof: jti) else { return (nil, "jti is missing or was used before (a replayed proof)", false) }
        entry["dpop_verified"] = true
        return (ParsedJWT.thumbprint(jwk), nil, false)
    }

    /// The token endpoint's DPoP check, for every grant: a missing nonce (when one is demanded)
    /// and a bad proof are answered, and logged, here. Returns the response to send instead, or the
    /// proof's key thumbprint (nil without a proof).
    func checkTokenEndpointProof(_ request: Request, entry: inout [String: Any]) async -> (jkt: String?, refusal: Response?) {
        let proof = await checkProof(request, method: "POST", url: await issuer() + "/token", nonce: options.tokenEndpointDPoPNonce,
                                     accessToken: nil, entry: &entry)
        if proof.nonceMissing, let nonce = options.tokenEndpointDPoPNonce {
            entry["outcome"] = "use_dpop_nonce"
            await log(entry)
            var response = Self.oauthError("use_dpop_nonce", "a nonce is required in the DPoP proof")
            response.headers[HTTPField.Name("DPoP-Nonce")!] = nonce
            return (nil, response)
        }
        if let error = proof.error {
            entry["outcome"] = "invalid_dpop_proof"
            await log(entry)
            return (nil, Self.oauthError("invalid_dpop_proof", error))
        }
        return (proof.jkt, nil)
    }

    static func normalized(_ url: String) -> String {
        var text = url.lowercased()
        if text.hasSuffix("/") { text.removeLast() }
        return text
    }

    /// client_credentials and jwt-bearer (workload assertions and ID-JAGs), with DPoP binding.
    func machineToken(_ request: Request, _ form: [String: String]) async -> Response {
        let grantType = form["grant_type"] ?? "-"
        var entry: [String: Any] = ["endpoint": "token", "grant_type": grantType]
        let issuer = await issuer()
        func refuse(_ error: String, _ description: String, status: HTTPResponse.Status = .badRequest) async -> Response {
            entry["outcome"] = error
            await log(entry)
            return Self.oauthError(error, description, status: status)
        }
        // DPoP first: a nonce demanded is answered before anything else is looked at.
        let proof = await checkTokenEndpointProof(request, entry: &entry)
        if let refusal = proof.refusal { return refusal }
        let (client, reason) = await authenticateMachine(request, form, entry: &entry)
        let scope = form["scope"] ?? ""
        var user = "-"
        switch grantType {
        case "client_credentials":
            guard let client else { return await refuse("invalid_client", reason ?? "client authentication failed", status: .unauthorized) }
            user = client.id
        case Self.jwtBearer:
            guard let assertion = form["assertion"].flatMap(ParsedJWT.init) else { return await refuse("invalid_request", "assertion is missing or not a JWT") }
            entry["assertion_claims"] = assertion.claims
            entry["assertion_alg"] = assertion.algorithm
            if scope.split(separator: " ").contains("refuse.unauthorized") { return await refuse("unauthorized_client", "this client may not use the grant") }
            if scope.split(separator: " ").contains("refuse.scope") { return await refuse("invalid_scope", "the scope is not granted") }
            let now = Int(Date().timeIntervalSince1970)
            if assertion.header["typ"] as? String == "oauth-id-jag+jwt" {
                guard let client else { return await refuse("invalid_client", reason ?? "client authentication failed", status: .unauthorized) }
                guard assertion.verifies(pem: await machine.idpPublicPEM) else { return await refuse("invalid_grant", "the ID-JAG is not the IdP's") }
                guard assertion.hasAudience(issuer), (assertion.integer("exp") ?? 0) > now else { return await refuse("invalid_grant", "the ID-JAG's aud or exp is wrong") }
                guard assertion.claims["client_id"] as? String == client.id else { return await refuse("invalid_grant", "the ID-JAG is for another client") }
                guard assertion.claims["resource"] as? String == (await resource()) else { return await refuse("invalid_grant", "the ID-JAG is for another resource") }
                entry["id_jag"] = true
            } else {
                guard let pem = options.workloadKeyPEM, assertion.verifies(pem: pem) else { return await refuse("invalid_grant", "the assertion's signature does not verify") }
                guard let exp = assertion.integer("exp"), exp > now - 5 else { return await refuse("invalid_grant", "the assertion has expired") }
                guard assertion.hasAudience(issuer) else { return await refuse("invalid_grant", "the assertion's audience is not this server") }
                if let jti = assertion.claims["jti"] as? String, !(await machine.firstUse(assertion: jti)) {
                    return await refuse("invalid_grant", "the assertion was used before")
                }
            }
            user = assertion.claims["sub"] as? String ?? "-"
        default:
            return await refuse("unsupported_grant_type", "\(grantType) is not offered")
        }
        let issued = await state.issueMachineToken(user: user, scope: scope, lifetime: options.accessTokenLifetime, jkt: proof.jkt)
        entry["outcome"] = "issued"
        await log(entry)
        var document: [String: Any] = ["access_token": issued, "token_type": proof.jkt != nil ? "DPoP" : "Bearer", "expires_in": options.accessTokenLifetime]
        if !scope.isEmpty { document["scope"] = scope }
        return Self.json(document, headers: [.cacheControl: "no-store"])
    }
}
