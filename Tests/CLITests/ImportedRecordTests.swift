import AuthorizationServer
import Foundation
import Testing
import TestSupport

/// A record imported from an older tool's plaintext file carries no endpoints: the first refresh
/// or logout discovers them from its server URL.
@Suite("Imported records refresh and revoke")
struct ImportedRecordTests {
    @Test func anImportedTokenIsRefreshedAndRevokedThroughDiscovery() async throws {
        let server = try await TestAuthorizationServer()
        // Real tokens from the server, as opencode would have left them: signed in elsewhere.
        let donor = try ServerSession(server)
        #expect(try await donor.login().status == 0)
        let signedIn = try donor.record()
        let tokens = try #require(signedIn.tokens)
        let clientID = try #require(signedIn.client?.clientID)

        let session = try ServerSession(server)
        let opencode = session.fixture.home.path + "/.local/share/opencode"
        try FileManager.default.createDirectory(atPath: opencode, withIntermediateDirectories: true)
        let expired = Int(Date().timeIntervalSince1970) - 60
        try """
            {"demo": {"tokens": {"accessToken": "\(tokens.accessToken)", "refreshToken": "\(tokens.refreshToken ?? "")", "expiresAt": \(expired)},
                      "clientInfo": {"clientId": "\(clientID)"}, "serverUrl": "\(session.url)"}}
            """.write(toFile: opencode + "/mcp-auth.json", atomically: true, encoding: .utf8)
        let migrate = try session.fixture.mcpVault(["migrate", "--passphrase-file", session.fixture.passphraseFile])
        #expect(migrate.status == 0, "\(migrate)")
        let before = try session.fixture.mcpVault(["status", session.url, "--passphrase-file", session.fixture.passphraseFile])
        #expect(before.stdout.contains("possible (endpoints found on first use)"), "\(before)")

        let refreshed = try await session.token()
        #expect(refreshed.status == 0, "\(refreshed)")
        #expect(try await server.accepts(refreshed.stdout.trimmingCharacters(in: .newlines)))
        let record = try session.record()
        #expect(record.issuer == server.origin && record.endpoints.token == server.origin + "/token", "stored: \(record)")
        #expect(try await server.stats()["refresh_requests"] == 1)

        let logout = try await runAsync(Binaries.mcpVault, ["logout", session.url, "--passphrase-file", session.fixture.passphraseFile],
                                        environment: session.environment)
        #expect(logout.status == 0 && logout.stdout.contains("tokens revoked at the server"), "\(logout)")
    }

    /// `token --format json` is the headers-helper contract of Claude Code and Codex.
    @Test func tokenFormatJSONIsAnObjectOfStrings() async throws {
        let session = try ServerSession(try await TestAuthorizationServer())
        #expect(try await session.login().status == 0)
        let result = try await session.token(["--format", "json"])
        #expect(result.status == 0, "\(result)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: String]
        let token = try #require(try session.record().tokens?.accessToken)
        #expect(object == ["Authorization": "Bearer " + token], "\(result.stdout)")
    }
}

@Suite("doctor and other tools' plaintext")
struct PlaintextStoreTests {
    /// mcp-remote's token files are plaintext that migrate does not import yet: doctor says so.
    @Test func doctorListsMcpRemoteTokenFiles() throws {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        let folder = fixture.home.path + "/.mcp-auth/mcp-remote-0.1.37"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try #"{"access_token":"plaintext","token_type":"Bearer"}"#.write(toFile: folder + "/0123abcd_tokens.json", atomically: true, encoding: .utf8)
        let doctor = try fixture.mcpVault(["doctor"])
        #expect(doctor.stdout.contains("mcp-remote tokens") && doctor.stdout.contains(folder + "/0123abcd_tokens.json")
                && doctor.stdout.contains("`migrate` does not import these yet"), "\(doctor)")
        #expect(!doctor.output.contains("plaintext\""), "the token itself is never shown")
    }
}
