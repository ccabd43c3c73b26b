import AuthorizationServer
import Credentials
import Foundation
import Testing
import TestSupport

@Suite("Hostile token endpoints")
struct HostileServerTests {
    /// Each misbehaviour at login ends within the deadline with a clear error and leaves the
    /// record that was there.
    @Test(arguments: [
        (ServerOptions.HostileAnswer.slowDrip, "did not answer in time"),
        (.hugeToken, "sent a access_token longer than"),
        (.redirect, "answered HTTP 302"),
        (.escapeSequences, "\\u{1b}[2J"),
    ])
    func loginRefusesWithoutDamage(mode: ServerOptions.HostileAnswer, message: String) async throws {
        let server = try await TestAuthorizationServer()
        let session = try ServerSession(server)
        #expect(try await session.login().status == 0)
        let before = try session.fixture.tool(["get", session.url], environment: ["MCP_VAULT_PASSPHRASE": VaultFixture.passphrase]).stdout
        _ = try await runAsync("/usr/bin/curl", ["-s", "-X", "POST", server.origin + "/test/hostile/" + mode.rawValue], environment: [:])
        let started = Date()
        let login = try await runAsync(Binaries.mcpVault, ["login", session.url, "--passphrase-file", session.fixture.passphraseFile],
                                       environment: session.environment.merging(["MCP_VAULT_HTTP_TIMEOUT": "3"]) { $1 })
        #expect(Date().timeIntervalSince(started) < 90, "within the deadline (the slow answer alone would take over 150 s)")
        #expect(login.status != 0, "\(login)")
        #expect(login.stderr.contains(message), "\(login)")
        #expect(!login.stderr.contains("\u{1b}"), "no raw escape reaches the terminal")
        let after = try session.fixture.tool(["get", session.url], environment: ["MCP_VAULT_PASSPHRASE": VaultFixture.passphrase]).stdout
        #expect(after == before, "the stored record is unchanged")
    }

    @Test(arguments: [
        (ServerOptions.HostileAnswer.hugeToken, "sent a access_token longer than"),
        (.redirect, "answered HTTP 302"),
    ])
    func refreshRefusesWithoutDamage(mode: ServerOptions.HostileAnswer, message: String) async throws {
        let server = try await TestAuthorizationServer()
        let signed = try await UnlockedSession(server)
        defer { signed.lock() }
        try signed.expire()
        let before = try signed.session.fixture.tool(["get", signed.session.url]).stdout
        _ = try await runAsync("/usr/bin/curl", ["-s", "-X", "POST", server.origin + "/test/hostile/" + mode.rawValue], environment: [:])
        let refresh = try await signed.token()
        #expect(refresh.status != 0 && refresh.stdout.isEmpty, "\(refresh)")
        #expect(refresh.stderr.contains(message), "\(refresh)")
        #expect(try signed.session.fixture.tool(["get", signed.session.url]).stdout == before)
    }

    /// expires_in of Int64.max and a hugely negative refresh_expires_in: clamped, never a crash.
    @Test func absurdNumbersAreClamped() async throws {
        let server = try await TestAuthorizationServer { $0.hostileTokenEndpoint = .absurdNumbers }
        let session = try ServerSession(server)
        // The login's own time, not the time after it: on a loaded machine a login took over a minute.
        let started = Int64(Date().timeIntervalSince1970)
        let login = try await session.login()
        #expect(login.status == 0, "\(login)")
        let record = try session.record()
        let now = Int64(Date().timeIntervalSince1970)
        #expect((record.tokens?.expiresAt ?? 0) <= now + 10 * 365 * 24 * 3600 + 60, "at most ten years")
        #expect((record.tokens?.refreshExpiresAt ?? -1) >= started - 5, "a negative lifetime is 'now', not the distant past")
        let status = try session.fixture.mcpVault(["status", "--passphrase-file", session.fixture.passphraseFile])
        #expect(status.status == 0, "\(status)")
        try session.expireAccessToken()
        let refreshed = try await session.token()
        #expect(refreshed.status == 0, "\(refreshed)")
    }

    @Test func aRefusedConnectionFailsAtOnceInOneSentence() async throws {
        let server = try await TestAuthorizationServer()
        let signed = try await UnlockedSession(server)
        defer { signed.lock() }
        try signed.expire()
        await server.stop()
        // Retrying until the connect timeout would end in "did not answer in time", not this.
        let result = try await signed.token()
        #expect(result.stderr.contains("cannot reach \(server.origin)/token: the connection was refused; is the server running, on that port?"), "\(result)")
        #expect(!result.stderr.contains("errno") && !result.stderr.contains("NIO"), "\(result)")
    }
}
