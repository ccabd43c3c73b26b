import AuthorizationServer
import Credentials
import Foundation
import Testing
import TestSupport

@Suite("A refresh survives its caller")
struct RefreshSurvivalTests {
    /// The caller of a refresh killed at a random moment (SIGKILL, SIGTERM, SIGINT, SIGHUP), 207
    /// times among 230 refreshes, against a server that rotates refresh tokens and revokes the
    /// grant on reuse.
    @Test func killingTheCallerAtAnyMomentLosesNoGrant() async throws {
        let signed = try await UnlockedSession(try await TestAuthorizationServer { $0.refreshDelay = 0.02 })
        defer { signed.lock() }
        let signals = [SIGKILL, SIGTERM, SIGINT, SIGHUP]
        // Kill moments spread over 1.2 times what a whole refresh takes on this machine now,
        // measured again every tenth run (which is not killed), so that they land before, during
        // and after the exchange however the load changes. At most a second each.
        var span = 200_000
        var killed = 0
        var killedWhileRunning = 0
        for run in 0..<230 {
            try signed.expire()
            if run % 10 == 0 {
                let started = Date()
                #expect(try await signed.token().status == 0)
                span = min(max(Int(Date().timeIntervalSince(started) * 1.2e6), 50_000), 1_000_000)
                continue
            }
            let child = try ChildProcess(Binaries.mcpVault, ["token", signed.session.url], environment: signed.environment)
            try await Task.sleep(for: .microseconds(Int.random(in: 0...span)))
            if await child.waitAsync(timeout: 0) == nil { killedWhileRunning += 1 }
            child.signal(signals[killed % signals.count])
            killed += 1
            #expect(await child.waitAsync(timeout: 30) != nil)
        }
        #expect(killed == 207)
        // The next caller waits for any refresh still running, then gets a live token.
        let final = try await signed.token()
        #expect(final.status == 0, "\(final)")
        #expect(try await signed.session.server.accepts(final.stdout.trimmingCharacters(in: .newlines)))
        let stats = try await signed.session.server.stats()
        #expect(stats["reuse_detections"] == 0, "no rotated refresh token was ever presented again: \(stats)")
        #expect(stats["live_grants"] == 1, "\(stats)")
        // Kills land before, during and after the exchange; enough of them during it to count.
        #expect((stats["refresh_requests"] ?? 0) >= 23 + 40, "runs that reached the server: \(stats)")
        #expect(killedWhileRunning >= 40, "callers killed before they finished: \(killedWhileRunning)")
        #expect(try signed.session.record().needsLogin == false)
    }

    /// The server rotates, then answers after the caller has stopped waiting: the worker still
    /// seals the answer, and the next caller gets it without another refresh.
    @Test func anAnswerThatArrivesAfterTheCallerGaveUpIsStillSealed() async throws {
        let signed = try await UnlockedSession(try await TestAuthorizationServer { $0.refreshDelay = 9 })
        defer { signed.lock() }
        try signed.expire()
        let gaveUp = try await signed.token(environment: ["MCP_VAULT_HTTP_TIMEOUT": "2"])
        #expect(gaveUp.status == 3, "\(gaveUp)")
        #expect(gaveUp.stderr.contains("the refresh has not finished after 7 s; it goes on in the background"), "\(gaveUp)")
        let next = try await signed.token()
        #expect(next.status == 0, "\(next)")
        let stats = try await signed.session.server.stats()
        #expect(stats["refresh_requests"] == 1 && stats["reuse_detections"] == 0, "\(stats)")
        #expect(try await signed.session.server.accepts(next.stdout.trimmingCharacters(in: .newlines)))
    }

    @Test func aTokenThatCannotBeWrittenIsAnError() async throws {
        let signed = try await UnlockedSession(try await TestAuthorizationServer())
        defer { signed.lock() }
        let full = try await runAsync("/bin/sh", ["-c", "\"$0\" token \"$1\" >/dev/full", Binaries.mcpVault, signed.session.url],
                                      environment: signed.environment)
        #expect(full.status == 74, "\(full)")
        #expect(full.stderr.contains("could not be written to standard output"), "\(full)")
        let closed = try await runAsync("/bin/sh", ["-c", "\"$0\" token \"$1\" >&-", Binaries.mcpVault, signed.session.url],
                                        environment: signed.environment)
        #expect(closed.status == 74, "\(closed)")
    }
}
