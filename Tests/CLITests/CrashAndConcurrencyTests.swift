import Foundation
import Testing
import TestSupport

@Suite("Crash safety and concurrency")
struct CrashAndConcurrencyTests {
    /// A vault unlocked into the session cache, so that helper processes start fast.
    private func unlockedVault() throws -> VaultFixture {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        let unlocked = try fixture.mcpVault(["unlock", "--for", "10m", "--passphrase-file", fixture.passphraseFile])
        try #require(unlocked.status == 0, "\(unlocked)")
        return fixture
    }

    private func value(in fixture: VaultFixture, _ name: String) throws -> Int? {
        let result = try fixture.tool(["get", name])
        guard result.status == 0 else { return nil }
        let text = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return Int(text.hasPrefix("value-") ? String(text.dropFirst(6)) : text)
    }

    @Test func killedWritersLeaveTheOldOrTheNewRecordAndNoLitter() throws {
        let fixture = try unlockedVault()
        defer { _ = try? fixture.mcpVault(["lock"]) }
        var last = 0
        var generator = SystemRandomNumberGenerator()
        for round in 0..<200 {
            let writer = try ChildProcess(Binaries.testTool, ["rewrite", "crash"], environment: fixture.environment, output: .pipe)
            try #require(writer.readLine() == "ready", "writer \(round) did not start")
            usleep(UInt32.random(in: 0...15_000, using: &generator))
            writer.signal(SIGKILL)
            #expect(writer.wait() == 128 + SIGKILL)

            // The record opens, and holds a value no older than the last one seen.
            let current = try #require(try value(in: fixture, "crash"), "round \(round): the record does not open")
            #expect(current >= last, "round \(round): went back from \(last) to \(current)")
            last = current
        }
        #expect(last > 200)
        // The next command removes whatever temporary files the killed writers left.
        let status = try fixture.mcpVault(["status"])
        #expect(status.status != 77, "\(status)")
        let litter = try fixture.recordFiles().filter { $0.hasSuffix(".tmp") }
        #expect(litter.isEmpty, "\(litter)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.vaultPath).filter { $0.hasSuffix(".tmp") }.isEmpty)
    }

    @Test func twentyProcessesLoseNoUpdate() throws {
        let fixture = try unlockedVault()
        defer { _ = try? fixture.mcpVault(["lock"]) }
        let rounds = 10
        let writers = try (0..<20).map { index in
            try ChildProcess(Binaries.testTool, ["increment", String(rounds), "shared", "own-\(index)"], environment: fixture.environment)
        }
        for writer in writers {
            #expect(writer.wait() == 0)
        }
        #expect(try value(in: fixture, "shared") == 20 * rounds)
        for index in 0..<20 {
            #expect(try value(in: fixture, "own-\(index)") == rounds, "own-\(index)")
        }
    }
}
