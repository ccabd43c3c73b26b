import Foundation
import Testing
import TestSupport

/// The refresh worker as `token`'s callers see it: a worker that hangs or is killed.
@Suite("The refresh worker seen from token")
struct RefreshWorkerTests {
    /// A hung token endpoint: `token` gives up after its patience (the HTTP timeout + 5 s), and
    /// its stderr ends with it: the worker, which goes on, writes into a pipe of token's own. A
    /// reader of token's stderr to its end (a pipe, as clients read it) waited for the worker's
    /// 60 s deadline before.
    @Test func aHungRefreshDoesNotHoldTokensStandardError() async throws {
        let signed = try await UnlockedSession(try await TestAuthorizationServer { $0.refreshDelay = 40 })
        defer { signed.lock() }
        try signed.expire()
        let started = Date()
        let result = try await runAsync("/bin/sh", ["-c", "\"$0\" token \"$1\" 2>&1 >/dev/null | cat", Binaries.mcpVault, signed.session.url],
                                        environment: signed.environment.merging(["MCP_VAULT_HTTP_TIMEOUT": "2"]) { $1 }, timeout: 90)
        let seconds = Date().timeIntervalSince(started)
        #expect(result.stdout.contains("the refresh has not finished after 7 s"), "\(result)")
        #expect(seconds < 25, "the pipe of token's stderr closed after \(seconds) s (the worker waits 40 s for the server)")
    }

    /// A worker killed by a signal: `token` exited 137 with no word and no token. Now, with the
    /// stored token still valid, it is handed out with a warning saying why.
    @Test func aKilledWorkerLeavesTheValidTokenHandedOutWithAWarning() async throws {
        // The server holds its answer long enough, and token waits long enough, that the kill
        // lands while token waits, even on a loaded machine.
        let signed = try await UnlockedSession(try await TestAuthorizationServer { $0.refreshDelay = 90 })
        defer { signed.lock() }
        let stored = try #require(try signed.session.record().tokens?.accessToken)
        // A --min-ttl longer than the token's life: a refresh is wanted, the token is still valid.
        async let answer = signed.token(["--min-ttl", "7200"], environment: ["MCP_VAULT_HTTP_TIMEOUT": "60"])
        let worker = try await Self.waitForWorker(vault: signed.session.fixture.vaultPath)
        kill(worker, SIGKILL)
        let result = try await answer
        #expect(result.status == 0 && result.stdout == stored + "\n", "\(result)")
        #expect(result.stderr.contains("the refresh worker was killed by signal 9 (SIGKILL) before it answered; handing out the current token"),
                "\(result)")
    }

    /// The pid of a running `mcp-vault-oauth refresh-worker` for the vault at `vault` (tests run
    /// side by side), from /proc.
    static func waitForWorker(vault: String) async throws -> Int32 {
        for _ in 0..<600 {
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
                guard let pid = Int32(entry), let command = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
                let words = command.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
                if words.count > 1, words[0].hasSuffix("/mcp-vault-oauth"), words[1] == "refresh-worker", words.contains(vault) { return pid }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("no refresh worker started")
    }
}
