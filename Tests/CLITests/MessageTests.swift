import AuthorizationServer
import Foundation
import Testing
import TestSupport

/// What the user reads when a URL is not what `login` expects: what the URL is, never a hint
/// that weakens security where it would not help.
@Suite("Messages: what a URL turns out to be")
struct LoginTargetMessageTests {
    private func login(_ url: String, _ extra: [String] = []) async throws -> ProcessResult {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        return try await runAsync(Binaries.mcpVault, ["login", url, "--passphrase-file", fixture.passphraseFile, "--timeout", "10"] + extra,
                                  environment: fixture.environment.merging(["BROWSER": "/bin/false", "MCP_VAULT_HTTP_TIMEOUT": "5"]) { $1 })
    }

    @Test func anMCPServerThatNeedsNoSignInIsNamedAsSuch() async throws {
        let server = try await TestAuthorizationServer {
            $0.mcpWithoutAuthorization = true
            $0.resourceMetadata = .nowhere
            $0.oauthMetadata = false
            $0.openIDMetadata = false
        }
        let result = try await login(server.mcpURL)
        #expect(result.status == 4, "\(result)")
        #expect(result.stderr.contains("\(server.mcpURL) answers initialize without authorization: no login needed"), "\(result)")
        #expect(!result.stderr.contains("--allow-unadvertised-pkce"), "\(result)")
    }

    /// A web server no one here wrote (Python's http.server): a POST gets 501, and no metadata.
    @Test func aPlainWebServerIsNotMistakenForAnAuthorizationServer() async throws {
        let script = "import http.server; s = http.server.HTTPServer(('127.0.0.1', 0), http.server.SimpleHTTPRequestHandler); print(s.server_port, flush=True); s.serve_forever()"
        let web = try ChildProcess("/usr/bin/python3", ["-c", script], environment: ["PATH": "/usr/bin:/bin"], output: .pipe)
        defer { web.stop() }
        let port = try #require(web.readLine(timeout: 20))
        let url = "http://127.0.0.1:\(port)/mcp"
        let result = try await login(url)
        #expect(result.status == 4, "\(result)")
        #expect(result.stderr.contains("\(url) answered initialize with HTTP 501, so it may not be an MCP server, and no OAuth metadata was found"),
                "\(result)")
        #expect(result.stderr.contains("http://127.0.0.1:\(port)/.well-known/oauth-authorization-server"), "the places looked at are named")
        #expect(!result.stderr.contains("--allow-unadvertised-pkce"), "\(result)")
    }

    @Test func aServerThatAsksForAuthorizationWithoutAnyMetadataSaysSo() async throws {
        let server = try await TestAuthorizationServer {
            $0.resourceMetadata = .nowhere
            $0.oauthMetadata = false
            $0.openIDMetadata = false
        }
        let result = try await login(server.mcpURL)
        #expect(result.status == 4, "\(result)")
        #expect(result.stderr.contains("asks for authorization (HTTP 401) but publishes no OAuth metadata"), "\(result)")
        #expect(!result.stderr.contains("--allow-unadvertised-pkce"), "\(result)")
    }

    /// Metadata that exists but does not list PKCE is where the flag is the answer.
    @Test func theUnsafeFlagIsSuggestedOnlyWhenMetadataOmitsPKCE() async throws {
        let server = try await TestAuthorizationServer { $0.codeChallengeMethods = nil }
        let result = try await login(server.mcpURL)
        #expect(result.status == 4 && result.stderr.contains("--allow-unadvertised-pkce"), "\(result)")
    }
}
