import Credentials
import Foundation
import Testing
import TestSupport

/// Tests/Peers/hostile_mcp_server.py (plain Python, standard library only) in a child process on
/// a free port of 127.0.0.1: an MCP server that misbehaves as its mode says, with a token endpoint
/// that counts refresh grants. Run by the peers' venv python (scripts/python-peers).
final class HostileMCPServer: @unchecked Sendable {
    let port: Int
    private let process: ChildProcess
    private let directory: TemporaryDirectory

    var base: String { "http://127.0.0.1:\(port)" }
    var mcpURL: String { base + "/mcp" }

    static var python: String { Binaries.repositoryRoot + "/.build-python/venv/bin/python" }

    init(mode: String = "ok") async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            throw TestFailure("\(Self.python) is missing: run scripts/python-peers (scripts/test does)")
        }
        directory = try TemporaryDirectory(prefix: "hostile-server")
        let portFile = directory.file("port")
        process = try ChildProcess(Self.python, [Binaries.repositoryRoot + "/Tests/Peers/hostile_mcp_server.py", "--port-file", portFile,
                                                 "--mode", mode],
                                   environment: ["PATH": "/usr/bin:/bin", "HOME": directory.path],
                                   error: .file(directory.file("stderr")))
        for _ in 0..<400 {  // up to 20 s
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                self.port = port
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let log = (try? String(contentsOfFile: directory.file("stderr"), encoding: .utf8)) ?? ""
        process.stop()
        throw TestFailure("the hostile MCP server did not start:\n\(log)")
    }

    deinit {
        process.stop()
    }
}

/// A vault holding a record for the hostile server (its /token as the token endpoint, a public
/// client, the canary as the access token), unlocked into the session cache so that the proxy
/// needs no passphrase.
struct HostileProxySetup {
    let server: HostileMCPServer
    let fixture: VaultFixture

    init() async throws {
        server = try await HostileMCPServer()
        fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        let now = Int64(Date().timeIntervalSince1970)
        let url = try ServerURL(server.mcpURL)
        let record = CredentialRecord(
            server: url, issuer: server.base,
            endpoints: .init(token: server.base + "/token"),
            client: .init(clientID: "hostile-client", source: "dynamic", authMethod: "none"),
            tokens: .init(accessToken: Canary.token, refreshToken: Canary.token + "-refresh", scope: "mcp", expiresAt: now + 3600),
            now: now)
        let stored = try fixture.tool(["put", url.canonical], environment: ["MCP_VAULT_PASSPHRASE": VaultFixture.passphrase],
                                      input: String(decoding: record.encoded(), as: UTF8.self))
        try #require(stored.status == 0, "\(stored)")
        let unlocked = try fixture.mcpVault(["unlock", "--for", "10m", "--passphrase-file", fixture.passphraseFile])
        try #require(unlocked.status == 0, "\(unlocked)")
    }

    /// Runs Tests/Peers/hostile_proxy_scenarios.py's `scenario` against `mcp-vault proxy URL`.
    func run(_ scenario: String, _ extra: [String] = []) async throws -> ProcessResult {
        try await runAsync(HostileMCPServer.python,
                           [Binaries.repositoryRoot + "/Tests/Peers/hostile_proxy_scenarios.py", "--server-base", server.base,
                            "--scenario", scenario, "--canary", Canary.token, "--canary", "CANARY-"] + extra
                           + ["--", Binaries.mcpVault, "proxy", server.mcpURL],
                           environment: fixture.environment, timeout: 400)
    }

    /// The stored record, decoded: still there, and not marked as needing a login.
    func record() throws -> CredentialRecord {
        let stored = try fixture.tool(["get", server.mcpURL], environment: ["MCP_VAULT_PASSPHRASE": VaultFixture.passphrase])
        try #require(stored.status == 0, "\(stored)")
        return try CredentialRecord.decode(Array(stored.stdout.dropLast().utf8), id: "hostile")
    }

    func lock() { _ = try? fixture.mcpVault(["lock"]) }
}

/// The proxy against a hostile MCP server: one test per finding of the third hostile-server
/// review (the proxy). Each scenario checks, besides its subject, that every stdout line is one
/// JSON-RPC message, that every request is answered (a result or an error) within a bound, that
/// nothing loops (grants and requests counted for 3 s after the answer), that no token reaches
/// stderr, that the proxy exits within 2 s of stdin closing, and that a fresh proxy still serves
/// with the record afterwards. The scenario script prints one line per check; its output is in
/// the failure message.
///
/// Serialized: the memory scenarios measure the proxy's peak RSS and the endless ones keep a core
/// busy; side by side they would disturb one another.
@Suite("Proxy: hostile servers", .serialized)
struct HostileProxyTests {
    private func expectScenario(_ scenario: String, _ extra: [String] = []) async throws {
        let setup = try await HostileProxySetup()
        defer { setup.lock() }
        let result = try await setup.run(scenario, extra)
        #expect(result.status == 0, "\(scenario):\n\(result)")
        #expect(!result.stdout.contains("FAIL"), "\(scenario):\n\(result.stdout)")
        let record = try setup.record()
        #expect(!record.needsLogin && record.tokens != nil, "the record is still usable: \(record)")
    }

    /// The harness itself against a well-behaved server (passes before and after the fixes).
    @Test func aWellBehavedServerPassesTheHarness() async throws {
        try await expectScenario("ok")
    }

    /// Finding 1: a GET stream answered 401 for ever made ~35 refresh grants a second.
    @Test func aGETStreamRefusedForEverDoesNotLoopOnRefreshes() async throws {
        try await expectScenario("get-401-forever")
    }

    /// Finding 2: a pretty-printed answer reached the client as 14 lines.
    @Test func anIndentedAnswerReachesTheClientAsOneLine() async throws {
        try await expectScenario("pretty-json")
    }

    /// Finding 2: a truncated JSON answer passed through, and the request was never answered.
    @Test func aMalformedAnswerBecomesAnError() async throws {
        try await expectScenario("malformed-json")
    }

    /// Finding 2: JSON that is no JSON-RPC message passed through, the request never answered.
    @Test func anAnswerThatIsNotJSONRPCBecomesAnError() async throws {
        try await expectScenario("not-jsonrpc")
    }

    /// Finding 3: a 401 or 500 whose body never ends left the request unanswered for ever.
    @Test(arguments: ["endless-error-body-401", "endless-error-body-500"])
    func anEndlessErrorBodyStillAnswersTheRequest(scenario: String) async throws {
        try await expectScenario(scenario)
    }

    /// Finding 4: a 500 with a 64 KiB body was reported as NIOTooManyBytesError, the status lost.
    @Test func aBig500IsReportedByItsStatus() async throws {
        try await expectScenario("big-500")
    }

    /// Finding 4: an answer over --max-message-size was reported as NIOTooManyBytesError / LineTooLong.
    @Test func anOversizedAnswerNamesTheOption() async throws {
        try await expectScenario("oversized-answer")
    }

    /// Finding 5: 5,000 server requests answered by the client took 123 MiB; at most 64 MiB.
    @Test(arguments: ["get", "post"])
    func aStormOfServerRequestsStaysSmall(via: String) async throws {
        try await expectScenario("server-request-storm", ["--storm-via", via])
    }

    /// Finding 5: an SSE event of endless data: lines grew without limit; now the RSS grows by at most the cap + 8 MiB.
    @Test func anEndlessEventIsCutAtTheCap() async throws {
        try await expectScenario("endless-sse-event")
    }

    /// Finding 6: with http_proxy set, a loopback server's token went through the outbound proxy.
    @Test func aLoopbackServerIsNeverReachedThroughAnOutboundProxy() async throws {
        try await expectScenario("outbound-proxy")
    }
}
