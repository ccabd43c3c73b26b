import Foundation
import Testing
import TestSupport

/// The proxy between two parts no one on this team wrote: the official MCP Python SDK's client
/// (Tests/Peers/proxy_scenarios.py, over the proxy's stdio) and its server
/// (Tests/Peers/python_sdk_server.py, with its own OAuth authorization server).
@Suite("Proxy between the MCP Python SDK's client and server")
struct ProxyInteropTests {
    /// A vault signed in to the peer, unlocked into the session cache.
    private func signedIn(_ server: PythonSDKServer, resource: String) async throws -> VaultFixture {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        let login = try await runAsync(Binaries.mcpVault, ["login", resource, "--passphrase-file", fixture.passphraseFile],
                                       environment: fixture.environment.merging(["BROWSER": "/usr/bin/curl -sL"]) { $1 })
        try #require(login.status == 0, "\(login)")
        try #require(fixture.mcpVault(["unlock", "--passphrase-file", fixture.passphraseFile]).status == 0)
        return fixture
    }

    private func scenarios(_ names: [String], server: PythonSDKServer, fixture: VaultFixture, proxy: [String]) async throws -> ProcessResult {
        let python = Binaries.repositoryRoot + "/.build-python/venv/bin/python"
        // Generous time limits: the tests run side by side on two cores. The proxy exits in
        // milliseconds after EOF when the machine is idle (see Tests/Peers/README.md).
        let arguments = [Binaries.repositoryRoot + "/Tests/Peers/proxy_scenarios.py", "--server-base", server.base,
                         "--request-timeout", "60", "--scenario-timeout", "180", "--exit-within", "5"]
            + names.flatMap { ["--scenario", $0] } + ["--", Binaries.mcpVault, "proxy"] + proxy
        return try await runAsync(python, arguments, environment: fixture.environment)
    }

    @Test func streamableHTTPEndToEnd() async throws {
        let server = try await PythonSDKServer()
        let fixture = try await signedIn(server, resource: server.mcpURL)
        defer { _ = try? fixture.mcpVault(["lock"]) }
        let result = try await scenarios(["basic", "progress", "server-request", "session-expiry", "revoked-access", "eof"],
                                         server: server, fixture: fixture, proxy: [server.mcpURL])
        #expect(result.status == 0, "\(result)")
        let stats = try await server.stats()
        #expect(stats["refresh_requests"] as? Int == 1, "the revoked access token healed by one refresh: \(stats)")
    }

    /// A server that offers only HTTP+SSE (2024-11-05): the proxy falls back by itself.
    @Test func legacySSEByFallback() async throws {
        let server = try await PythonSDKServer(arguments: ["--transport", "sse", "--sse-path", "/mcp"])
        let fixture = try await signedIn(server, resource: server.mcpURL)
        defer { _ = try? fixture.mcpVault(["lock"]) }
        let result = try await scenarios(["basic", "progress", "server-request", "session-expiry", "revoked-access"],
                                         server: server, fixture: fixture, proxy: [server.mcpURL])
        #expect(result.status == 0, "\(result)")
    }

    /// `--transport streamable-http` forbids the fallback: an SSE-only server's refusal of the
    /// initialize POST reaches the client as an error (the case list once let 400 and 404 through
    /// whatever the transport).
    @Test func streamableHTTPOnlyDoesNotFallBack() async throws {
        let server = try await PythonSDKServer(arguments: ["--transport", "sse", "--sse-path", "/mcp"])
        let fixture = try await signedIn(server, resource: server.mcpURL)
        defer { _ = try? fixture.mcpVault(["lock"]) }
        let proxy = try ProxyProcess(server.mcpURL, ["--transport", "streamable-http"], fixture: fixture)
        let answer = proxy.initialize()
        let error = answer?["error"] as? [String: Any]
        #expect((error?["message"] as? String)?.contains("answered HTTP 4") == true, "\(String(describing: answer))\n\(proxy.stderr)")
        #expect(!proxy.stderr.contains("using HTTP+SSE"), "\(proxy.stderr)")
    }

    /// The server dies mid-call: the pending request gets an error, not a hang.
    @Test func aServerKilledMidCallAnswersThePendingRequest() async throws {
        let server = try await PythonSDKServer()
        let fixture = try await signedIn(server, resource: server.mcpURL)
        defer { _ = try? fixture.mcpVault(["lock"]) }
        let proxy = try ProxyProcess(server.mcpURL, fixture: fixture)
        #expect(proxy.initialize()?["result"] != nil)
        proxy.send(#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"slow_count","arguments":{"n":100},"_meta":{"progressToken":"p"}}}"#)
        let first = proxy.receive()  // the first progress notification: the call is under way
        #expect(first?["method"] as? String == "notifications/progress", "\(String(describing: first))")
        server.kill()
        var answer: [String: Any]?
        repeat { answer = proxy.receive() } while answer != nil && answer?["id"] as? Int != 7  // the progress sent before the kill
        #expect(answer?["error"] != nil, "\(String(describing: answer))\n\(proxy.stderr)")
    }
}
