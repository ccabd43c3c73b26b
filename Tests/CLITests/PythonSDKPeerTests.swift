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
}
