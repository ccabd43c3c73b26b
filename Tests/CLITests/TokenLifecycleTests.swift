import Credentials
import Foundation
import Testing
import TestSupport

/// A vault signed in to a bundled server, unlocked into the session cache so that many
/// processes start fast.
private struct SignedIn {
    let fixture: VaultFixture
    let server: TestAuthorizationServer
    var url: String { server.mcpURL }

    init(_ server: TestAuthorizationServer) async throws {
        self.server = server
        fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        let login = try await runAsync(Binaries.mcpVault, ["login", server.mcpURL, "--passphrase-file", fixture.passphraseFile],
                                       environment: fixture.environment.merging(["BROWSER": "/usr/bin/curl -sL"]) { $1 })
        try #require(login.status == 0, "\(login)")
        let unlocked = try fixture.mcpVault(["unlock", "--for", "5m", "--passphrase-file", fixture.passphraseFile])
        try #require(unlocked.status == 0)
    }

    func lock() { _ = try? fixture.mcpVault(["lock"]) }

    func token(_ extra: [String] = []) async throws -> ProcessResult {
        try await runAsync(Binaries.mcpVault, ["token", url] + extra, environment: fixture.environment.merging(["MCP_VAULT_HTTP_TIMEOUT": "3"]) { $1 })
    }

    func record() throws -> CredentialRecord {
        let stored = try fixture.tool(["get", url])
        return try CredentialRecord.decode(Array(stored.stdout.dropLast().utf8), id: "test")
    }

    /// Moves the stored access token's expiry into the past, as time would.
    func expireAccessToken() throws {
        var record = try record()
        record.tokens?.expiresAt = Int64(Date().timeIntervalSince1970) - 10
        let stored = try fixture.tool(["put", url], input: String(decoding: record.encoded(), as: UTF8.self))
        try #require(stored.status == 0, "\(stored)")
    }
}

@Suite("Token lifecycle")
struct TokenLifecycleTests {
    @Test func aTokenNearExpiryIsRefreshedAndTheRotatedRefreshTokenKept() async throws {
        let session = try await SignedIn(try await TestAuthorizationServer())
        defer { session.lock() }
        let before = try session.record()
        let fresh = try await session.token()
        #expect(fresh.status == 0 && fresh.stdout == (before.tokens?.accessToken ?? "") + "\n", "a fresh token is served as is")
        #expect(try await session.server.stats()["refresh_requests"] == 0)

        let refreshed = try await session.token(["--min-ttl", "100000"])
        #expect(refreshed.status == 0, "\(refreshed)")
        let after = try session.record()
        #expect(refreshed.stdout == (after.tokens?.accessToken ?? "") + "\n", "what is printed is what was sealed")
        #expect(after.tokens?.refreshToken != before.tokens?.refreshToken, "the rotated refresh token was kept")
        #expect(try await session.server.accepts(refreshed.stdout.trimmingCharacters(in: .newlines)))
        // Refreshing again uses the rotated token: no reuse is ever detected.
        #expect(try await session.token(["--min-ttl", "100000"]).status == 0)
        let stats = try await session.server.stats()
        #expect(stats["refresh_requests"] == 2 && stats["reuse_detections"] == 0 && stats["live_grants"] == 1, "\(stats)")
    }

    /// `token SERVER` is set up without the argument parser (start-up); with any option it is
    /// parsed. Both forms must behave alike: a fresh token, a refresh, an unknown server, a bad one.
    @Test func theOptionFreeFormAgreesWithTheParsedForm() async throws {
        let session = try await SignedIn(try await TestAuthorizationServer())
        defer { session.lock() }
        let environment = session.fixture.environment.merging(["MCP_VAULT_HTTP_TIMEOUT": "3"]) { $1 }
        func both(_ server: String) async throws -> (plain: ProcessResult, parsed: ProcessResult) {
            (try await runAsync(Binaries.mcpVault, ["token", server], environment: environment),
             try await runAsync(Binaries.mcpVault, ["token", "--min-ttl", "60", server], environment: environment))
        }
        let fresh = try await both(session.url)
        #expect(fresh.plain.status == 0 && fresh.plain.stdout == fresh.parsed.stdout, "\(fresh)")

        try session.expireAccessToken()
        let refreshed = try await runAsync(Binaries.mcpVault, ["token", session.url], environment: environment)
        let sealed = try session.record().tokens?.accessToken ?? ""
        #expect(refreshed.status == 0 && refreshed.stdout == sealed + "\n", "\(refreshed)")
        #expect(refreshed.stdout != fresh.plain.stdout, "the expired token was refreshed")
        #expect(try await session.server.stats()["refresh_requests"] == 1)

        for server in [session.url.replacingOccurrences(of: "/mcp", with: "/mpc"), "not a server"] {
            let failed = try await both(server)
            #expect(failed.plain.status != 0 && failed.plain.status == failed.parsed.status, "\(failed)")
            #expect(failed.plain.stderr == failed.parsed.stderr && failed.plain.stdout.isEmpty, "\(failed)")
        }
    }

    @Test func fiftyConcurrentCallersMakeOneRefreshAndAllGetTheSameToken() async throws {
        let session = try await SignedIn(try await TestAuthorizationServer())
        defer { session.lock() }
        try session.expireAccessToken()
        let outputs = try await withThrowingTaskGroup(of: ProcessResult.self) { group in
            for _ in 0..<50 { group.addTask { try await session.token() } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outputs.allSatisfy { $0.status == 0 }, "\(outputs.first { $0.status != 0 }.map(String.init(describing:)) ?? "")")
        #expect(Set(outputs.map(\.stdout)).count == 1, "every caller printed the same token")
        let stats = try await session.server.stats()
        #expect(stats["refresh_requests"] == 1, "exactly one refresh reached the server: \(stats)")
        #expect(stats["reuse_detections"] == 0 && stats["live_grants"] == 1, "\(stats)")
        #expect(try await session.server.accepts(outputs[0].stdout.trimmingCharacters(in: .newlines)))
    }

    @Test func aRefusedRefreshTokenMarksTheRecordForLogin() async throws {
        let session = try await SignedIn(try await TestAuthorizationServer())
        defer { session.lock() }
        try await session.server.post("/test/revoke-grants")
        let result = try await session.token(["--min-ttl", "100000"])
        #expect(result.status == 3, "\(result)")
        #expect(result.stderr.contains("invalid_grant") && result.stderr.contains("mcp-vault login \(session.url)"), "\(result)")
        let record = try session.record()
        #expect(record.needsLogin)
        #expect(record.client != nil, "the client registration is kept for the next login")
        let status = try session.fixture.mcpVault(["status", session.url])
        #expect(status.stdout.contains("needs login"), "\(status)")
    }

    @Test func aServerThatIsDownNeverCostsTheCurrentToken() async throws {
        let session = try await SignedIn(try await TestAuthorizationServer())
        defer { session.lock() }
        let current = try session.record().tokens?.accessToken ?? ""
        await session.server.stop()
        // Still valid, though not for the asked-for time: the current token is served.
        let served = try await session.token(["--min-ttl", "100000"])
        #expect(served.status == 0 && served.stdout == current + "\n", "\(served)")
        #expect(served.stderr.contains("refresh failed"), "\(served)")
        // Expired: a clear failure, and the record stays as it was.
        try session.expireAccessToken()
        let before = try session.fixture.tool(["get", session.url]).stdout
        let failed = try await session.token()
        #expect(failed.status != 0 && failed.stdout.isEmpty, "\(failed)")
        #expect(failed.stderr.contains("cannot reach"), "\(failed)")
        #expect(try session.fixture.tool(["get", session.url]).stdout == before)
        // Logout with the server down deletes locally and says the grant may live on.
        let logout = try await runAsync(Binaries.mcpVault, ["logout", session.url], environment: session.fixture.environment)
        #expect(logout.status == 5 && logout.stdout.contains("may live on"), "\(logout)")
    }

    @Test func logoutRevokesAtTheServerThenDeletes() async throws {
        let session = try await SignedIn(try await TestAuthorizationServer())
        defer { session.lock() }
        let result = try await runAsync(Binaries.mcpVault, ["logout", session.url], environment: session.fixture.environment)
        #expect(result.status == 0 && result.stdout.contains("revoked at the server"), "\(result)")
        let stats = try await session.server.stats()
        #expect(stats["live_grants"] == 0 && stats["revocations"] == 2, "the refresh token no longer works there: \(stats)")
        #expect(try session.fixture.tool(["get", session.url]).status != 0, "the record is gone")
    }

    @Test func logoutLocalOnlyLeavesTheServerAlone() async throws {
        let session = try await SignedIn(try await TestAuthorizationServer())
        defer { session.lock() }
        let result = try await runAsync(Binaries.mcpVault, ["logout", "--all", "--local-only", "--yes"], environment: session.fixture.environment)
        #expect(result.status == 0, "\(result)")
        #expect(try await session.server.stats()["revocations"] == 0)
        #expect(try session.fixture.tool(["get", session.url]).status != 0)
    }
}

/// Calls the bundled server's "admin" tool; returns the status and the WWW-Authenticate value.
private func callAdminTool(_ token: String, at url: String) async throws -> (status: String, challenge: String?) {
    let result = try await runAsync("/usr/bin/curl", ["-s", "-o", "/dev/null", "-D", "-", "-w", "%{http_code}", "-X", "POST",
                                                     "-H", "Authorization: Bearer \(token)", "-H", "Content-Type: application/json",
                                                     "-d", #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"admin"}}"#, url],
                                    environment: [:])
    let lines = result.stdout.split(separator: "\r\n").map(String.init)
    let challenge = lines.first { $0.lowercased().hasPrefix("www-authenticate:") }.map { String($0.dropFirst("www-authenticate:".count)).trimmingCharacters(in: .whitespaces) }
    return (String(lines.last ?? ""), challenge)
}

@Suite("Step-up authorization")
struct StepUpTests {
    @Test func aChallengeIsAnsweredWithTheUnionOfScopes() async throws {
        let session = try await SignedIn(try await TestAuthorizationServer())
        defer { session.lock() }
        let first = try session.record().tokens?.accessToken ?? ""
        let refused = try await callAdminTool(first, at: session.url)
        #expect(refused.status == "403", "\(refused)")
        let challenge = try #require(refused.challenge)
        #expect(challenge.contains("insufficient_scope"))

        let result = try await runAsync(Binaries.mcpVault, ["token", session.url, "--challenge", challenge],
                                        environment: session.fixture.environment.merging(["BROWSER": "/usr/bin/curl -sL"]) { $1 })
        #expect(result.status == 0, "\(result)")
        let token = result.stdout.trimmingCharacters(in: .newlines)
        #expect(try await callAdminTool(token, at: session.url).status == "200")
        let scopes = Set((try session.record().tokens?.scope ?? "").split(separator: " "))
        #expect(scopes.isSuperset(of: ["mcp:read", "mcp:admin"]), "\(scopes)")
    }

    @Test func aServerThatNeverGrantsTheScopeIsAskedOncePerCall() async throws {
        let session = try await SignedIn(try await TestAuthorizationServer { $0.withheldScopes = ["mcp:admin"] })
        defer { session.lock() }
        let refused = try await callAdminTool(try session.record().tokens?.accessToken ?? "", at: session.url)
        let challenge = try #require(refused.challenge)
        let result = try await runAsync(Binaries.mcpVault, ["token", session.url, "--challenge", challenge],
                                        environment: session.fixture.environment.merging(["BROWSER": "/usr/bin/curl -sL"]) { $1 })
        #expect(result.status == 4, "\(result)")
        #expect(result.stderr.contains("wants more scope"), "\(result)")
        #expect(try await session.server.stats()["authorization_requests"] == 2,
                "the login, then one step-up attempt: a grant without the scope is not asked again in the same call")
    }
}

@Suite("Step-up during login")
struct LoginStepUpTests {
    @Test func loginAsksAgainWhenItsCheckGetsInsufficientScope() async throws {
        let server = try await TestAuthorizationServer { $0.initializeScope = "mcp:write" }
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        let login = try await runAsync(Binaries.mcpVault, ["login", server.mcpURL, "--passphrase-file", fixture.passphraseFile],
                                       environment: fixture.environment.merging(["BROWSER": "/usr/bin/curl -sL"]) { $1 })
        #expect(login.status == 0, "\(login)")
        #expect(login.stdout.contains("mcp:write"), "the sealed token carries the scope the server asked for: \(login)")
        #expect(try await server.stats()["authorization_requests"] == 2, "one authorization, then one step-up")
    }

    @Test func loginGivesUpAtTheStepUpLimit() async throws {
        let server = try await TestAuthorizationServer {
            $0.initializeScope = "mcp:write"
            $0.withheldScopes = ["mcp:write"]
        }
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        let login = try await runAsync(Binaries.mcpVault, ["login", server.mcpURL, "--passphrase-file", fixture.passphraseFile],
                                       environment: fixture.environment.merging(["BROWSER": "/usr/bin/curl -sL"]) { $1 })
        #expect(login.status == 4 && login.stderr.contains("wants more scope"), "\(login)")
        #expect(try await server.stats()["authorization_requests"] == 2)
        #expect(try fixture.mcpVault(["status", server.mcpURL, "--passphrase-file", fixture.passphraseFile]).status == 66,
                "nothing was sealed")
    }
}
