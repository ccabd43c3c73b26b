import AuthorizationServer
import Credentials
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

    /// mcp-remote's pair of files, matched to its server through Claude Desktop's configuration:
    /// the expiry counted from the file's time, the registration from client_info.json.
    @Test func anMCPRemoteTokenIsRefreshedAndRevokedThroughDiscovery() async throws {
        let server = try await TestAuthorizationServer()
        let donor = try ServerSession(server)
        #expect(try await donor.login().status == 0)
        let signedIn = try donor.record()
        let tokens = try #require(signedIn.tokens)
        let client = try #require(signedIn.client)

        let session = try ServerSession(server)
        let tokensFile = try MCPRemoteHome.write(session.fixture.home.path, url: session.url, name: "demo",
                                                 tokens: tokens, client: client, expiresIn: 3600)
        let folder = URL(fileURLWithPath: tokensFile).deletingLastPathComponent().path
        // Written two hours ago with an hour to live: expired an hour ago.
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-7200)], ofItemAtPath: tokensFile)

        let migrate = try session.fixture.mcpVault(["migrate", "--passphrase-file", session.fixture.passphraseFile])
        #expect(migrate.status == 0 && migrate.stdout.contains("imported        \(session.url)"), "\(migrate)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
        let imported = try session.record()
        #expect(imported.name == "demo" && imported.client?.clientID == client.clientID, "\(imported)")
        #expect((imported.tokens?.expiresAt).map { $0 < Int64(Date().timeIntervalSince1970) } == true, "expired, from the file's time")

        let refreshed = try await session.token()
        #expect(refreshed.status == 0, "\(refreshed)")
        #expect(try await server.accepts(refreshed.stdout.trimmingCharacters(in: .newlines)))
        #expect(try session.record().endpoints.token == server.origin + "/token")
        #expect(try await server.stats()["refresh_requests"] == 1)
        let again = try await session.token()
        #expect(again.stdout == refreshed.stdout, "the refreshed token is stored and served")

        let logout = try await runAsync(Binaries.mcpVault, ["logout", "demo", "--passphrase-file", session.fixture.passphraseFile],
                                        environment: session.environment)
        #expect(logout.status == 0 && logout.stdout.contains("tokens revoked at the server"), "\(logout)")
        #expect(try await !server.accepts(refreshed.stdout.trimmingCharacters(in: .newlines)))
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
    /// mcp-remote's token files are plaintext that migrate imports; so are the MCP entries of
    /// other clients' own token files, which are named with what migrate does with them.
    @Test func doctorListsEveryPlaintextStoreItKnows() throws {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        let folder = fixture.home.path + "/.mcp-auth/mcp-remote-0.1.37"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try #"{"access_token":"plaintext","token_type":"Bearer"}"#.write(toFile: folder + "/0123abcd_tokens.json", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: fixture.home.path + "/.gemini", withIntermediateDirectories: true)
        try #"[{"serverName":"linear","token":{"accessToken":"gemini-plaintext"}}]"#.write(toFile: fixture.home.path + "/.gemini/mcp-oauth-tokens.json",
                                                                                            atomically: true, encoding: .utf8)
        let doctor = try fixture.mcpVault(["doctor"])
        #expect(doctor.stdout.contains("mcp-remote tokens") && doctor.stdout.contains(folder + "/0123abcd_tokens.json")
                && doctor.stdout.contains("run `mcp-vault migrate` to seal them"), "\(doctor)")
        #expect(doctor.stdout.contains(fixture.home.path + "/.gemini/mcp-oauth-tokens.json holds 1 MCP server token in plaintext")
                && doctor.stdout.contains("run `mcp-vault migrate` (it takes only those entries out of the file)"), "\(doctor)")
        #expect(!doctor.output.contains("plaintext\"") && !doctor.output.contains("gemini-plaintext"), "the tokens themselves are never shown")
    }
}

/// MD5 by coreutils' md5sum: an implementation no one here wrote, to name mcp-remote's files.
enum MD5Sum {
    static func hex(_ text: String) throws -> String? {
        try run("/usr/bin/md5sum", [], environment: [:], input: text).stdout.split(separator: " ").first.map(String.init)
    }
}

/// A home directory as mcp-remote 0.1.29 leaves it after signing in to `url`: the tokens and the
/// client registration under ~/.mcp-auth, named by the URL's MD5, and a Claude Desktop
/// configuration that launches mcp-remote for the server as `name`.
enum MCPRemoteHome {
    /// Writes the files; returns the tokens file's path.
    static func write(_ home: String, url: String, name: String, tokens: CredentialRecord.Tokens,
                      client: CredentialRecord.ClientRegistration, expiresIn: Int) throws -> String {
        let folder = home + "/.mcp-auth/mcp-remote-0.1.29"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: home + "/.config/Claude", withIntermediateDirectories: true)
        try #"{"mcpServers": {"\#(name)": {"command": "npx", "args": ["-y", "mcp-remote", "\#(url)"]}}}"#
            .write(toFile: home + "/.config/Claude/claude_desktop_config.json", atomically: true, encoding: .utf8)
        guard let hash = try MD5Sum.hex(url) else { throw TestFailure("md5sum printed nothing") }
        let tokensFile = folder + "/\(hash)_tokens.json"
        try #"{"access_token": "\#(tokens.accessToken)", "token_type": "Bearer", "expires_in": \#(expiresIn), "refresh_token": "\#(tokens.refreshToken ?? "")"}"#
            .write(toFile: tokensFile, atomically: true, encoding: .utf8)
        let secret = client.clientSecret.map { #", "client_secret": ""# + $0 + "\"" } ?? ""
        try #"{"client_id": "\#(client.clientID)", "token_endpoint_auth_method": "\#(client.authMethod)"\#(secret)}"#
            .write(toFile: folder + "/\(hash)_client_info.json", atomically: true, encoding: .utf8)
        return tokensFile
    }
}
