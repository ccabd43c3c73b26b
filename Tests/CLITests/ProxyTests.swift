import AuthorizationServer
import Foundation
import Testing
import TestSupport

/// `mcp-vault proxy` driven over its pipes, line by line, as an MCP client would.
final class ProxyProcess: @unchecked Sendable {
    let process: ChildProcess
    let stderrPath: String

    init(_ url: String, _ extra: [String] = [], fixture: VaultFixture, environment: [String: String] = [:]) throws {
        stderrPath = fixture.home.file("proxy-\(UUID().uuidString).err")
        process = try ChildProcess(Binaries.mcpVault, ["proxy", url] + extra,
                                   environment: fixture.environment.merging(environment) { $1 }, output: .pipe, error: .file(stderrPath),
                                   pipedInput: true)
    }

    func send(_ line: String) { process.write(line + "\n") }

    /// The next message from the proxy, parsed (nil after 60 s: long only on a loaded machine).
    func receive() -> [String: Any]? {
        guard let line = process.readLine(timeout: 60) else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
    }

    func request(_ id: Int, _ method: String, _ params: String = "{}") -> [String: Any]? {
        send(#"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)","params":\#(params)}"#)
        return receive()
    }

    func initialize(_ id: Int = 1) -> [String: Any]? {
        let answer = request(id, "initialize", #"{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}"#)
        send(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        return answer
    }

    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    static func errorMessage(_ answer: [String: Any]?) -> String? {
        (answer?["error"] as? [String: Any])?["message"] as? String
    }
}

@Suite("Proxy: the vault behind it")
struct ProxyVaultTests {
    /// No record: an immediate error naming login; after a login elsewhere, the same proxy serves.
    @Test func withoutCredentialsItAnswersAtOnceAndServesAfterALogin() async throws {
        let session = try ServerSession(try await TestAuthorizationServer())
        let proxy = try ProxyProcess(session.url, ["--passphrase-file", session.fixture.passphraseFile], fixture: session.fixture)
        let refused = proxy.initialize()
        let message = try #require(ProxyProcess.errorMessage(refused), "\(String(describing: refused))")
        #expect(message.contains("mcp-vault login \(session.url)"), "\(message)")
        #expect(proxy.stderr.contains("mcp-vault login \(session.url)"))
        #expect(try await session.login().status == 0)
        let initialized = proxy.initialize(2)
        #expect(initialized?["result"] != nil, "\(String(describing: initialized))")
        #expect(proxy.request(3, "ping")?["result"] != nil)
    }

    /// A 404 for initialize under `--transport streamable-http` is an error, not a fallback to
    /// HTTP+SSE (once, 400 and 404 fell back whatever the transport).
    @Test func a404UnderStreamableHTTPOnlyIsNotAFallback() async throws {
        let server = try await TestAuthorizationServer()
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        let url = server.origin + "/no-such-endpoint"
        try storeCredential(fixture, url: url, token: "a-token-for-nothing")
        let proxy = try ProxyProcess(url, ["--transport", "streamable-http", "--verbose", "--passphrase-file", fixture.passphraseFile], fixture: fixture)
        let message = try #require(ProxyProcess.errorMessage(proxy.initialize()), "\(proxy.stderr)")
        #expect(message.contains("answered HTTP 404"), "\(message)")
        #expect(!proxy.stderr.contains("using HTTP+SSE"), "\(proxy.stderr)")
    }

    /// A locked vault: an immediate error naming unlock; after `mcp-vault unlock`, it serves.
    @Test func aLockedVaultIsNamedAndAnUnlockElsewhereIsPickedUp() async throws {
        let signed = try await UnlockedSession(try await TestAuthorizationServer())
        signed.lock()
        let proxy = try ProxyProcess(signed.session.url, fixture: signed.session.fixture)
        let message = try #require(ProxyProcess.errorMessage(proxy.initialize()))
        #expect(message.contains("mcp-vault unlock"), "\(message)")
        let unlocked = try signed.session.fixture.mcpVault(["unlock", "--passphrase-file", signed.session.fixture.passphraseFile])
        #expect(unlocked.status == 0)
        defer { signed.lock() }
        #expect(proxy.initialize(2)?["result"] != nil)
    }

    /// A grant the server refused: an immediate error naming login.
    @Test func aRefusedGrantIsNamed() async throws {
        let signed = try await UnlockedSession(try await TestAuthorizationServer())
        defer { signed.lock() }
        let proxy = try ProxyProcess(signed.session.url, fixture: signed.session.fixture)
        #expect(proxy.initialize()?["result"] != nil)
        try await signed.session.server.post("/test/revoke-grants")
        try signed.expire()
        let message = try #require(ProxyProcess.errorMessage(proxy.request(2, "ping")))
        #expect(message.contains("mcp-vault login \(signed.session.url)"), "\(message)")
    }

    /// Five proxies and twenty `token` callers on one expired token make one refresh.
    @Test func fiveProxiesAndTwentyCallersMakeOneRefresh() async throws {
        let signed = try await UnlockedSession(try await TestAuthorizationServer())
        defer { signed.lock() }
        let proxies = try (0..<5).map { _ in try ProxyProcess(signed.session.url, fixture: signed.session.fixture) }
        for proxy in proxies { #expect(proxy.initialize()?["result"] != nil) }
        try signed.expire()
        for (index, proxy) in proxies.enumerated() { proxy.send(#"{"jsonrpc":"2.0","id":\#(10 + index),"method":"ping"}"#) }
        let callers = try await withThrowingTaskGroup(of: ProcessResult.self) { group in
            for _ in 0..<20 { group.addTask { try await signed.token() } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for proxy in proxies { #expect(proxy.receive()?["result"] != nil) }
        #expect(callers.allSatisfy { $0.status == 0 }, "\(callers.filter { $0.status != 0 })")
        #expect(Set(callers.map(\.stdout)).count == 1, "one token for everyone")
        let stats = try await signed.session.server.stats()
        #expect(stats["refresh_requests"] == 1 && stats["reuse_detections"] == 0, "\(stats)")
    }

    /// `--ignore-tool` takes mcp-remote's patterns: `*` for any run of characters, any case.
    @Test(arguments: [("ADM*", true), ("*min", true), ("a*n", true), ("admin", true), ("adm", false), ("x*", false)])
    func ignoredToolPatternsMatchAsMcpRemotesDo(pattern: String, hidden: Bool) async throws {
        let signed = try await UnlockedSession(try await TestAuthorizationServer())
        defer { signed.lock() }
        let proxy = try ProxyProcess(signed.session.url, ["--ignore-tool", pattern], fixture: signed.session.fixture)
        #expect(proxy.initialize()?["result"] != nil)
        let tools = (proxy.request(2, "tools/list")?["result"] as? [String: Any])?["tools"] as? [[String: Any]]
        #expect(tools?.contains { $0["name"] as? String == "admin" } == !hidden, "\(pattern): \(String(describing: tools))")
    }

    /// --verbose logs methods, ids, statuses and timings, never the token.
    @Test func theTokenNeverReachesTheLog() async throws {
        let signed = try await UnlockedSession(try await TestAuthorizationServer())
        defer { signed.lock() }
        let token = try #require(try signed.session.record().tokens?.accessToken)
        let proxy = try ProxyProcess(signed.session.url, ["--verbose", "--header", "X-Trace: ${TRACE_ID}"], fixture: signed.session.fixture,
                                     environment: ["TRACE_ID": "trace-1"])
        #expect(proxy.initialize()?["result"] != nil)
        #expect(proxy.request(2, "ping")?["result"] != nil)
        proxy.process.closeInput()
        // Generous: CI runs some 230 tests side by side on two cores (the exit itself is quick).
        let exit = await proxy.process.waitAsync(timeout: 30)
        #expect(exit == 0, "exit \(String(describing: exit)); \(proxy.stderr)")
        #expect(proxy.stderr.contains("POST ping id 2: HTTP 200"), "\(proxy.stderr)")
        #expect(!proxy.stderr.contains(token) && !proxy.stderr.contains(String(token.prefix(12))), "the token is in the log")
    }
}

/// A client restarts its servers: the old proxy is ended (SIGTERM, then SIGKILL) while its refresh
/// still holds the record's lock; the new one waits for that refresh instead of making another.
@Suite("Proxy: a client restarting it")
struct ProxyRestartTests {
    @Test func aNewProxyServesWhileTheOldOnesRefreshStillHoldsTheLock() async throws {
        let signed = try await UnlockedSession(try await TestAuthorizationServer { $0.refreshDelay = 6 })
        defer { signed.lock() }
        try signed.expire()
        let old = try ProxyProcess(signed.session.url, fixture: signed.session.fixture)
        // Its initialize needs a token: the refresh starts (the server answers in 6 s).
        old.send(#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}"#)
        // Ended while its refresh runs (if the worker is already gone on a slow machine, the
        // checks below still hold).
        _ = try? await RefreshWorkerTests.waitForWorker(vault: signed.session.fixture.vaultPath)
        old.process.signal(SIGTERM)
        try await Task.sleep(for: .milliseconds(200))
        old.process.signal(SIGKILL)
        let new = try ProxyProcess(signed.session.url, fixture: signed.session.fixture)
        #expect(new.initialize()?["result"] != nil, "\(new.stderr)")
        #expect(new.request(3, "ping")?["result"] != nil, "\(new.stderr)")
        let stats = try await signed.session.server.stats()
        #expect(stats["refresh_requests"] == 1 && stats["reuse_detections"] == 0, "one refresh served both: \(stats)")
        #expect(try signed.session.record().needsLogin == false)
    }
}

@Suite("Proxy: step-up")
struct ProxyStepUpTests {
    /// Three proxies hit 403 insufficient_scope at once: one authorization serves all three, each
    /// retries its call with the new token.
    @Test func aScopeChallengeIsSteppedUpOnceForEveryProxy() async throws {
        let signed = try await UnlockedSession(try await TestAuthorizationServer())
        defer { signed.lock() }
        let browser = ["BROWSER": "/usr/bin/curl -sL"]
        let proxies = try (0..<3).map { _ in try ProxyProcess(signed.session.url, fixture: signed.session.fixture, environment: browser) }
        for proxy in proxies { #expect(proxy.initialize()?["result"] != nil) }
        let call = #"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"admin","arguments":{}}}"#
        for proxy in proxies { proxy.send(call) }
        for proxy in proxies {
            let answer = proxy.receive()
            #expect(answer?["result"] != nil, "\(String(describing: answer))\n\(proxy.stderr)")
        }
        #expect(try await signed.session.server.stats()["authorization_requests"] == 2, "the login and one step-up")
    }

    /// Without a browser, the client is told the exact command.
    @Test func withoutABrowserTheClientGetsTheCommand() async throws {
        let signed = try await UnlockedSession(try await TestAuthorizationServer())
        defer { signed.lock() }
        let proxy = try ProxyProcess(signed.session.url, fixture: signed.session.fixture)
        #expect(proxy.initialize()?["result"] != nil)
        let answer = proxy.request(5, "tools/call", #"{"name":"admin","arguments":{}}"#)
        let message = try #require(ProxyProcess.errorMessage(answer), "\(String(describing: answer))")
        #expect(message.contains("run `mcp-vault token \(signed.session.url) --challenge 'Bearer error=\"insufficient_scope\""), "\(message)")
    }
}
