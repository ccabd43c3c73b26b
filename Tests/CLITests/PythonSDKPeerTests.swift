import Credentials
import Foundation
import Testing
import TestSupport

/// Sign-in, refresh and logout against an MCP server built on the official MCP Python SDK: its
/// metadata, registration, token and revocation endpoints are the SDK's, not ours.
@Suite("Against the MCP Python SDK's authorization server")
struct PythonSDKPeerTests {
    private func initialize(_ url: String, token: String) async throws -> String {
        let result = try await runAsync("/usr/bin/curl", [
            "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "Authorization: Bearer \(token)",
            "-H", "Content-Type: application/json", "-H", "Accept: application/json, text/event-stream",
            "-d", #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}"#,
            url,
        ], environment: [:])
        return result.stdout
    }

    @Test func loginRefreshAndLogoutWork() async throws {
        let server = try await PythonSDKServer()
        let fixture = try VaultFixture()
        let environment = fixture.environment.merging(["BROWSER": "/usr/bin/curl -sL", "MCP_VAULT_HTTP_TIMEOUT": "10"]) { $1 }
        let unlock = ["--passphrase-file", fixture.passphraseFile]

        let login = try await runAsync(Binaries.mcpVault, ["login", server.mcpURL, "--timeout", "30"] + unlock, environment: environment)
        #expect(login.status == 0, "\(login)")
        #expect(login.stdout.contains("Signed in to \(server.mcpURL)"), "\(login)")
        let first = try await runAsync(Binaries.mcpVault, ["token", server.mcpURL] + unlock, environment: environment)
        let firstToken = first.stdout.trimmingCharacters(in: .newlines)
        #expect(try await initialize(server.mcpURL, token: firstToken) == "200")

        // The SDK's tokens live an hour: asking for two forces a refresh at its token endpoint.
        let refreshed = try await runAsync(Binaries.mcpVault, ["token", server.mcpURL, "--min-ttl", "7200"] + unlock, environment: environment)
        let secondToken = refreshed.stdout.trimmingCharacters(in: .newlines)
        #expect(refreshed.status == 0 && !secondToken.isEmpty && secondToken != firstToken, "\(refreshed)")
        #expect(try await initialize(server.mcpURL, token: secondToken) == "200")
        #expect(try await initialize(server.mcpURL, token: firstToken) == "401", "the SDK rotated the old pair away")

        let logout = try await runAsync(Binaries.mcpVault, ["logout", server.mcpURL] + unlock, environment: environment)
        #expect(logout.status == 0, "\(logout)")
        #expect(logout.stdout.contains("tokens revoked at the server and deleted"), "\(logout)")
        #expect(try await initialize(server.mcpURL, token: secondToken) == "401", "revoked at the server")
    }

    /// mcp-remote's files holding real tokens of the SDK's server, matched through a Claude
    /// Desktop configuration: migrate imports them, the first refresh discovers the SDK's
    /// endpoints and rotates at its token endpoint, logout revokes there.
    @Test func anMCPRemoteImportRefreshesAndRevokesAtTheSDKsServer() async throws {
        let server = try await PythonSDKServer()
        let donor = try VaultFixture()
        let environment = { (fixture: VaultFixture) in
            fixture.environment.merging(["BROWSER": "/usr/bin/curl -sL", "MCP_VAULT_HTTP_TIMEOUT": "10"]) { $1 }
        }
        let signedIn = try await runAsync(Binaries.mcpVault, ["login", server.mcpURL, "--timeout", "30", "--passphrase-file", donor.passphraseFile],
                                          environment: environment(donor))
        try #require(signedIn.status == 0, "\(signedIn)")
        let stored = try donor.tool(["get", server.mcpURL], environment: ["MCP_VAULT_PASSPHRASE": VaultFixture.passphrase])
        let record = try CredentialRecord.decode(Array(stored.stdout.dropLast().utf8), id: "donor")
        let tokens = try #require(record.tokens)
        let client = try #require(record.client)

        let fixture = try VaultFixture()
        _ = try MCPRemoteHome.write(fixture.home.path, url: server.mcpURL, name: "sdk", tokens: tokens, client: client, expiresIn: 0)

        let unlock = ["--passphrase-file", fixture.passphraseFile]
        let migrate = try await runAsync(Binaries.mcpVault, ["migrate"] + unlock, environment: environment(fixture))
        #expect(migrate.status == 0 && migrate.stdout.contains("imported        \(server.mcpURL)"), "\(migrate)")
        let before = try await server.stats()
        let refreshed = try await runAsync(Binaries.mcpVault, ["token", "sdk"] + unlock, environment: environment(fixture))
        let newToken = refreshed.stdout.trimmingCharacters(in: .newlines)
        #expect(refreshed.status == 0 && newToken != tokens.accessToken, "\(refreshed)")
        #expect(try await initialize(server.mcpURL, token: newToken) == "200")
        let after = try await server.stats()
        #expect((after["refresh_requests"] as? Int ?? 0) - (before["refresh_requests"] as? Int ?? 0) == 1, "\(before) \(after)")

        let logout = try await runAsync(Binaries.mcpVault, ["logout", "sdk"] + unlock, environment: environment(fixture))
        #expect(logout.status == 0 && logout.stdout.contains("tokens revoked at the server and deleted"), "\(logout)")
        #expect(try await initialize(server.mcpURL, token: newToken) == "401", "revoked at the SDK's server")
    }
}
