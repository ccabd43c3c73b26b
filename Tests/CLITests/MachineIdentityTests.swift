import AuthorizationServer
import Foundation
import OAuth
import Testing
import TestSupport

/// Machine identities (the MCP authorization extensions) against the bundled server, which checks
/// each request the way the conformance suite's extension scenarios do and logs what it checked
/// (`/test/token-requests`).
@Suite("Machine identities")
struct MachineIdentityTests {
    static let secret = "cc-secret-" + Canary.token

    /// The server's log of checked extension requests.
    func log(_ server: TestAuthorizationServer) async throws -> [[String: Any]] {
        let result = try await runAsync("/usr/bin/curl", ["-s", server.origin + "/test/token-requests"], environment: [:])
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]] ?? []
    }

    func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)
    }

    /// A PEM key pair made by openssl, as a user would: (private, public).
    func opensslKey(_ kind: String, in fixture: VaultFixture) throws -> (String, String) {
        let key = fixture.home.file("key-\(kind).pem"), pub = fixture.home.file("key-\(kind).pub")
        let make = kind == "rsa" ? "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out \(key)"
            : "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out \(key)"
        let result = try run("/bin/sh", ["-c", make + " 2>/dev/null && openssl pkey -in \(key) -pubout -out \(pub)"], environment: ["PATH": "/usr/bin:/bin"])
        try #require(result.status == 0, "\(result)")
        return (key, try String(contentsOfFile: pub, encoding: .utf8))
    }

    @Test(arguments: ["client_secret_basic", "client_secret_post"])
    func clientCredentialsWithASecret(method: String) async throws {
        let server = try await TestAuthorizationServer { $0.machineClients = [MachineClient(id: "ci-bot", secret: Self.secret, authMethod: method)] }
        let session = try ServerSession(server)
        let fixture = session.fixture
        let pass = ["--passphrase-file", fixture.passphraseFile]
        let secretFile = fixture.home.file("client-secret")
        try write(Self.secret + "\n", to: secretFile)
        let login = try await runAsync(Binaries.mcpVault, ["login", server.mcpURL, "--grant", "client-credentials", "--client-id", "ci-bot",
                                                           "--client-secret-file", secretFile, "--client-auth-method", method] + pass,
                                       environment: session.environment)
        #expect(login.status == 0 && login.stdout.contains("grant      client credentials"), "\(login)")
        var entries = try await log(server)
        #expect(entries.count == 1 && entries[0]["grant_type"] as? String == "client_credentials"
                && entries[0]["client_auth"] as? String == method && entries[0]["outcome"] as? String == "issued", "\(entries)")

        let first = try await session.token()
        #expect(first.status == 0, "\(first)")
        let accepted = try await server.accepts(first.stdout.trimmingCharacters(in: .newlines))
        #expect(accepted)
        // No refresh token: when the token runs short, the same grant again.
        try session.expireAccessToken()
        let second = try await session.token()
        #expect(second.status == 0 && second.stdout != first.stdout, "\(second)")
        entries = try await log(server)
        #expect(entries.count == 2 && entries.allSatisfy { $0["outcome"] as? String == "issued" }, "\(entries)")
        let status = try fixture.mcpVault(["status", "--json"] + pass)
        #expect(status.stdout.contains("\"grant\" : \"client credentials\""), "\(status)")
        for result in [login, first, second, status] { #expect(!result.stdout.contains(Self.secret) && !result.stderr.contains(Self.secret)) }
    }

    @Test func aRefusedClientIsReportedOnceAsItIs() async throws {
        let server = try await TestAuthorizationServer { $0.machineClients = [MachineClient(id: "ci-bot", secret: "right", authMethod: "client_secret_basic")] }
        let session = try ServerSession(server)
        let secretFile = session.fixture.home.file("client-secret")
        try write("wrong\n", to: secretFile)
        let login = try await runAsync(Binaries.mcpVault, ["login", server.mcpURL, "--grant", "client-credentials", "--client-id", "ci-bot",
                                                           "--client-secret-file", secretFile, "--passphrase-file", session.fixture.passphraseFile],
                                       environment: session.environment)
        #expect(login.status == 4 && login.stderr.contains("refused the grant: invalid_client"), "\(login)")
        #expect(try await log(server).count == 1, "no retry")
        #expect(try session.fixture.recordFiles().isEmpty, "nothing stored")
    }

    @Test(arguments: ["ec", "rsa"])
    func privateKeyJWT(kind: String) async throws {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        let (keyFile, publicPEM) = try opensslKey(kind, in: fixture)
        let server = try await TestAuthorizationServer {
            $0.machineClients = [MachineClient(id: "signer", publicKeyPEM: publicPEM, authMethod: "private_key_jwt")]
        }
        let session = ServerSession(server, fixture: fixture)
        let login = try await runAsync(Binaries.mcpVault, ["login", server.mcpURL, "--grant", "client-credentials", "--client-id", "signer",
                                                           "--private-key-file", keyFile, "--passphrase-file", fixture.passphraseFile],
                                       environment: session.environment)
        #expect(login.status == 0, "\(login)")
        try session.expireAccessToken()
        #expect(try await session.token().status == 0)
        let entries = try await log(server)
        #expect(entries.count == 2, "\(entries)")
        var jtis = Set<String>()
        for entry in entries {
            let claims = entry["assertion_claims"] as? [String: Any] ?? [:]
            #expect(entry["client_auth"] as? String == "private_key_jwt" && entry["assertion_verified"] as? Bool == true
                    && entry["assertion_alg"] as? String == (kind == "rsa" ? "RS256" : "ES256"), "\(entry)")
            #expect(claims["iss"] as? String == "signer" && claims["sub"] as? String == "signer" && claims["aud"] as? String == server.origin, "\(claims)")
            let iat = (claims["iat"] as? NSNumber)?.int64Value ?? 0, exp = (claims["exp"] as? NSNumber)?.int64Value ?? 0
            #expect(exp > iat && abs(iat - Int64(Date().timeIntervalSince1970)) < 120)
            jtis.insert(claims["jti"] as? String ?? "")
        }
        #expect(jtis.count == 2 && !jtis.contains(""), "a new jti for every assertion")
        // The key is sealed: the vault's files do not hold it in the clear.
        let pem = try String(contentsOfFile: keyFile, encoding: .utf8)
        let body = pem.split(separator: "\n").dropFirst().first.map(String.init) ?? pem
        for (_, bytes) in try fixture.snapshot() { #expect(!String(decoding: bytes, as: UTF8.self).contains(body)) }
    }

    /// keygen: the private key is made in the vault and never written to a file; the public key it
    /// prints verifies the assertions the vault's key signs.
    @Test func keygenKeepsThePrivateKeyInTheVault() async throws {
        let server = try await TestAuthorizationServer()
        let session = try ServerSession(server)
        let fixture = session.fixture
        let pass = ["--passphrase-file", fixture.passphraseFile]
        let made = try fixture.mcpVault(["keygen", server.mcpURL] + pass)
        #expect(made.status == 0 && made.stdout.contains("\"kty\":\"EC\"") && made.stdout.contains("-----BEGIN PUBLIC KEY-----"), "\(made)")
        #expect(!made.stdout.contains("PRIVATE") && !made.stderr.contains("PRIVATE"))
        let again = try fixture.mcpVault(["keygen", server.mcpURL] + pass)
        #expect(again.stdout == made.stdout, "the same key, printed again")
        let publicPEM = String(made.stdout[made.stdout.range(of: "-----BEGIN PUBLIC KEY-----")!.lowerBound...])
        let client = try JSONEncoder().encode(MachineClient(id: "kg", publicKeyPEM: publicPEM, authMethod: "private_key_jwt"))
        _ = try await runAsync("/usr/bin/curl", ["-s", "-X", "POST", "--data-binary", String(decoding: client, as: UTF8.self),
                                                 server.origin + "/test/machine-clients"], environment: [:])
        let login = try await runAsync(Binaries.mcpVault, ["login", server.mcpURL, "--grant", "client-credentials", "--client-id", "kg"] + pass,
                                       environment: session.environment)
        #expect(login.status == 0, "\(login)")
        #expect(try await log(server).first?["assertion_verified"] as? Bool == true)
        // No file under HOME holds a private key.
        let enumerator = FileManager.default.enumerator(atPath: fixture.home.path)
        while let relative = enumerator?.nextObject() as? String {
            let text = (FileManager.default.contents(atPath: fixture.home.path + "/" + relative)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            #expect(!text.contains("PRIVATE KEY"), "\(relative)")
        }
    }

    /// Workload identity: the assertion is read afresh from its file at every token request; a
    /// refusal is reported as the server said it, once, with no other grant tried.
    @Test func jwtBearerReadsTheAssertionAfreshAndNeverRetries() async throws {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        let workload = SigningKey.generateP256()
        let server = try await TestAuthorizationServer { $0.workloadKeyPEM = workload.publicPEM }
        let session = ServerSession(server, fixture: fixture)
        func assertion(audience: String, lifetime: Int64 = 300) throws -> String {
            let now = Int64(Date().timeIntervalSince1970)
            return try workload.jwt(header: [("typ", .string("JWT"))], claims: [
                ("iss", .string("https://idp.example")), ("sub", .string("workload-7")), ("aud", .string(audience)),
                ("iat", .integer(now - 10)), ("exp", .integer(now + lifetime)), ("jti", .string(UUID().uuidString))])
        }
        let file = fixture.home.file("token")
        let first = try assertion(audience: server.origin)
        try write(first + "\n", to: file)
        let login = try await runAsync(Binaries.mcpVault, ["login", server.mcpURL, "--grant", "jwt-bearer", "--client-id", "wl",
                                                           "--assertion-file", file, "--passphrase-file", fixture.passphraseFile],
                                       environment: session.environment)
        #expect(login.status == 0, "\(login)")
        // The file rotates; the next token request sends the new assertion.
        let second = try assertion(audience: server.origin)
        try write(second, to: file)
        try session.expireAccessToken()
        let renewed = try await session.token(["--verbose"])
        #expect(renewed.status == 0, "\(renewed)")
        let accepted = try await server.accepts(renewed.stdout.trimmingCharacters(in: .newlines))
        #expect(accepted, "the token works at the MCP server")
        #expect(!renewed.stderr.contains(second) && !renewed.stderr.contains(first), "no assertion in the verbose log")
        var entries = try await log(server)
        #expect(entries.count == 2 && (entries[1]["assertion_claims"] as? [String: Any])?["jti"] as? String
                == (ParsedJWTClaims.jti(second)), "\(entries)")
        #expect(entries.allSatisfy { $0["grant_type"] as? String == "urn:ietf:params:oauth:grant-type:jwt-bearer" })

        // A wrong audience: invalid_grant, said as it is, one request, no other grant.
        try write(try assertion(audience: "https://wrong.example"), to: file)
        try session.expireAccessToken()
        let refused = try await session.token()
        #expect(refused.status == 4 && refused.stderr.contains("invalid_grant"), "\(refused)")
        entries = try await log(server)
        #expect(entries.count == 3 && entries[2]["outcome"] as? String == "invalid_grant", "\(entries)")
        for result in [login, refused] { #expect(!result.stderr.contains(first) && !result.stdout.contains(first)) }

        // invalid_scope and unauthorized_client at login, each from one request.
        for (scope, error) in [("refuse.scope", "invalid_scope"), ("refuse.unauthorized", "unauthorized_client")] {
            try write(try assertion(audience: server.origin), to: file)
            let before = try await log(server).count
            let denied = try await runAsync(Binaries.mcpVault, ["login", server.mcpURL, "--account", "other", "--grant", "jwt-bearer",
                                                                "--client-id", "wl", "--assertion-command", "cat \(file)", "--scope", scope,
                                                                "--passphrase-file", fixture.passphraseFile], environment: session.environment)
            #expect(denied.status == 4 && denied.stderr.contains(error), "\(denied)")
            #expect(try await log(server).count == before + 1)
        }
    }

    /// DPoP: the tokens are bound to a key sealed in the record; the token endpoint's and the MCP
    /// server's nonces are honoured; `token` refuses; the proxy presents a fresh proof each time.
    @Test func dpopBindsTheTokenToTheVaultsKey() async throws {
        let server = try await TestAuthorizationServer {
            $0.machineClients = [MachineClient(id: "ci-bot", secret: Self.secret, authMethod: "client_secret_basic")]
            $0.dpop = true
            $0.tokenEndpointDPoPNonce = "as-nonce-1"
            $0.resourceDPoPNonce = "rs-nonce-1"
        }
        let session = try ServerSession(server)
        let fixture = session.fixture
        let pass = ["--passphrase-file", fixture.passphraseFile]
        let secretFile = fixture.home.file("client-secret")
        try write(Self.secret, to: secretFile)
        let login = try await runAsync(Binaries.mcpVault, ["login", server.mcpURL, "--grant", "client-credentials", "--client-id", "ci-bot",
                                                           "--client-secret-file", secretFile] + pass, environment: session.environment)
        #expect(login.status == 0 && login.stdout.contains("bound to a DPoP key"), "\(login)")
        var entries = try await log(server)
        #expect(entries.map { $0["outcome"] as? String } == ["use_dpop_nonce", "issued"] && entries[1]["dpop_verified"] as? Bool == true, "\(entries)")
        let proof = entries[1]["dpop_claims"] as? [String: Any] ?? [:]
        #expect(proof["htm"] as? String == "POST" && proof["htu"] as? String == server.origin + "/token" && proof["nonce"] as? String == "as-nonce-1", "\(proof)")

        let token = try await session.token()
        #expect(token.status == 3 && token.stderr.contains("DPoP") && token.stderr.contains("mcp-vault proxy") && token.stdout.isEmpty, "\(token)")

        #expect(try fixture.mcpVault(["unlock"] + pass).status == 0)
        defer { _ = try? fixture.mcpVault(["lock"]) }
        let proxy = try ProxyProcess(server.mcpURL, fixture: fixture)
        #expect(proxy.initialize()?["result"] != nil, "\(proxy.stderr)")
        let call = proxy.request(2, "tools/call", #"{"name":"whoami","arguments":{}}"#)
        #expect(((call?["result"] as? [String: Any])?["content"] as? [[String: Any]])?.first?["text"] as? String == "ci-bot", "\(String(describing: call)) \(proxy.stderr)")
        proxy.process.closeInput()
        _ = await proxy.process.waitAsync(timeout: 10)
        entries = try await log(server).filter { $0["endpoint"] as? String == "mcp" }
        #expect(entries.first?["outcome"] as? String == "use_dpop_nonce", "\(entries)")
        let accepted = entries.filter { $0["outcome"] as? String == "accepted" }
        #expect(accepted.count >= 3, "initialize, initialized, tools/call: \(entries)")
        let proofIDs = accepted.compactMap { ($0["dpop_claims"] as? [String: Any])?["jti"] as? String }
        #expect(Set(proofIDs).count == proofIDs.count, "a fresh proof for every request")
        #expect(accepted.allSatisfy { ($0["dpop_claims"] as? [String: Any])?["ath"] != nil && ($0["dpop_claims"] as? [String: Any])?["nonce"] as? String == "rs-nonce-1" })
    }

    /// A person's login binds the tokens too when the server offers DPoP; the refresh proves the
    /// key; --no-dpop keeps bearer tokens that `token` prints.
    @Test func aBrowserLoginIsBoundAndRefreshedWithProofs() async throws {
        let server = try await TestAuthorizationServer {
            $0.dpop = true
            $0.tokenEndpointDPoPNonce = "as-nonce-2"
            $0.resourceDPoPNonce = "rs-nonce-2"
        }
        let session = try ServerSession(server)
        let fixture = session.fixture
        let pass = ["--passphrase-file", fixture.passphraseFile]
        let login = try await session.login()
        #expect(login.status == 0, "\(login)")
        let bound = try session.record()
        #expect(bound.dpopKey != nil && bound.tokens?.tokenType == "DPoP")
        let token = try await session.token()
        #expect(token.status == 3 && token.stderr.contains("mcp-vault proxy"), "\(token)")

        #expect(try fixture.mcpVault(["unlock"] + pass).status == 0)
        defer { _ = try? fixture.mcpVault(["lock"]) }
        try session.expireAccessToken()
        let proxy = try ProxyProcess(server.mcpURL, fixture: fixture)
        #expect(proxy.initialize()?["result"] != nil, "\(proxy.stderr)")
        let call = proxy.request(2, "tools/call", #"{"name":"whoami","arguments":{}}"#)
        #expect(((call?["result"] as? [String: Any])?["content"] as? [[String: Any]])?.first?["text"] as? String == "alice", "\(proxy.stderr)")
        proxy.process.closeInput()
        _ = await proxy.process.waitAsync(timeout: 10)
        #expect(try await server.stats()["refresh_requests"] == 1)
        let refreshed = try session.record()
        #expect(refreshed.dpopKey == bound.dpopKey && refreshed.tokens?.accessToken != bound.tokens?.accessToken)
        let proofs = try await log(server).filter { $0["endpoint"] as? String == "token" }.map { $0["outcome"] as? String }
        #expect(proofs == ["use_dpop_nonce", "proof accepted", "use_dpop_nonce", "proof accepted"], "login and refresh each met the nonce: \(proofs)")

        let plain = try await session.login(["--no-dpop", "--account", "plain"])
        #expect(plain.status == 0, "\(plain)")
        let printed = try await session.token(["--account", "plain"])
        #expect(printed.status == 0 && !printed.stdout.isEmpty, "\(printed)")
    }

    /// The server's own checks that the client's proofs are held to: a bound token presented as
    /// Bearer, and a replayed proof, are refused (with a key and token made here).
    @Test func theServerRefusesBearerUseAndReplayedProofs() async throws {
        let server = try await TestAuthorizationServer {
            $0.machineClients = [MachineClient(id: "ci-bot", secret: "s", authMethod: "client_secret_post")]
            $0.dpop = true
        }
        let key = SigningKey.generateP256()
        let tokenProof = try Assertions.dpop(method: "POST", url: server.origin + "/token", key: key, nonce: nil, accessToken: nil)
        let issued = try await runAsync("/usr/bin/curl", ["-s", "-H", "DPoP: \(tokenProof)", "-d", "grant_type=client_credentials&client_id=ci-bot&client_secret=s",
                                                          server.origin + "/token"], environment: [:])
        let answer = try JSONSerialization.jsonObject(with: Data(issued.stdout.utf8)) as? [String: Any]
        let token = try #require(answer?["access_token"] as? String, "\(issued)")
        #expect(answer?["token_type"] as? String == "DPoP")
        func initialize(_ headers: [String]) async throws -> String {
            try await runAsync("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "Content-Type: application/json",
                                                 "-H", "Accept: application/json, text/event-stream"] + headers.flatMap { ["-H", $0] }
                                                + ["-d", #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#, server.mcpURL], environment: [:]).stdout
        }
        #expect(try await initialize(["Authorization: Bearer \(token)"]) == "401", "a bound token as Bearer")
        let proof = try Assertions.dpop(method: "POST", url: server.mcpURL, key: key, nonce: nil, accessToken: token)
        #expect(try await initialize(["Authorization: DPoP \(token)", "DPoP: \(proof)"]) == "200")
        #expect(try await initialize(["Authorization: DPoP \(token)", "DPoP: \(proof)"]) == "401", "the same proof again")
        let otherKey = try Assertions.dpop(method: "POST", url: server.mcpURL, key: SigningKey.generateP256(), nonce: nil, accessToken: token)
        #expect(try await initialize(["Authorization: DPoP \(token)", "DPoP: \(otherKey)"]) == "401", "a proof by another key")
    }

    /// Enterprise-managed authorization: the IdP's ID token is exchanged for an ID-JAG (audience:
    /// the MCP authorization server, resource: the MCP server), then the jwt-bearer grant; a
    /// second sign-in with the same IdP asks for nothing.
    @Test func idJAGFromOneCorporateSignIn() async throws {
        let server = try await TestAuthorizationServer {
            $0.machineClients = [MachineClient(id: "xaa-client", secret: Self.secret, authMethod: "client_secret_basic")]
            $0.idJAGClientID = "xaa-client"
        }
        let session = try ServerSession(server)
        let fixture = session.fixture
        let pass = ["--passphrase-file", fixture.passphraseFile]
        let idToken = try await runAsync("/usr/bin/curl", ["-s", server.origin + "/test/idp/id-token?sub=dana&aud=idp-client"], environment: [:]).stdout
        let idTokenFile = fixture.home.file("id-token"), secretFile = fixture.home.file("client-secret")
        try write(idToken, to: idTokenFile)
        try write(Self.secret, to: secretFile)
        let common = ["--grant", "id-jag", "--client-id", "xaa-client", "--client-secret-file", secretFile,
                      "--idp-issuer", server.origin + "/idp", "--idp-client-id", "idp-client"] + pass
        let login = try await runAsync(Binaries.mcpVault, ["login", server.mcpURL] + common + ["--idp-id-token-file", idTokenFile],
                                       environment: session.environment)
        #expect(login.status == 0, "\(login)")
        let entries = try await log(server)
        #expect(entries.count == 2, "\(entries)")
        #expect(entries[0]["endpoint"] as? String == "idp" && entries[0]["outcome"] as? String == "issued"
                && entries[0]["audience"] as? String == server.origin && entries[0]["resource"] as? String == server.mcpURL, "\(entries)")
        #expect(entries[1]["id_jag"] as? Bool == true && entries[1]["outcome"] as? String == "issued", "\(entries)")
        let token = try await session.token()
        let accepted = try await server.accepts(token.stdout.trimmingCharacters(in: .newlines))
        #expect(token.status == 0 && accepted, "\(token)")
        // Expiry: a new ID-JAG from the sealed sign-in, then a new token.
        try session.expireAccessToken()
        let renewed = try await session.token()
        #expect(renewed.status == 0 && renewed.stdout != token.stdout, "\(renewed)")
        #expect(try await log(server).count == 4)
        // The same IdP for another identity: no ID token given, the sealed sign-in serves.
        let again = try await runAsync(Binaries.mcpVault, ["login", server.mcpURL, "--account", "second"] + common, environment: session.environment)
        #expect(again.status == 0, "\(again)")
        for result in [login, again, token] { #expect(!result.stdout.contains(idToken) && !result.stderr.contains(idToken)) }
    }
}

/// The `jti` of a compact JWS (for comparing what the server saw with what was written).
enum ParsedJWTClaims {
    static func jti(_ jwt: String) -> String? {
        let parts = jwt.split(separator: ".")
        guard parts.count == 3, let bytes = Base64URL.decode(parts[1]),
              let claims = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { return nil }
        return claims["jti"] as? String
    }
}
