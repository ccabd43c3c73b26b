import Foundation
import Testing
import TestSupport

/// A canary token is stored, then every command runs (verbose too); it must appear in no output,
/// no error and no file on disk.
@Suite("Secrets stay secret")
struct CanaryTests {
    @Test func theCanaryNeverAppears() throws {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        try storeCredential(fixture, url: "https://canary.example.com/mcp", token: Canary.token)
        let pass = ["--passphrase-file", fixture.passphraseFile]
        var outputs: [ProcessResult] = []
        for command in [["status"], ["status", "--json"], ["status", "https://canary.example.com/mcp"], ["status", "--verbose"],
                        ["doctor"], ["doctor", "--verbose"], ["unlock", "--for", "1m", "--verbose"], ["status", "--verbose"], ["lock"]] {
            let needsPassphrase = command[0] != "doctor" && command[0] != "lock"
            outputs.append(try fixture.mcpVault(command + (needsPassphrase ? pass : [])))
        }
        // A legacy file holding the canary goes through migrate (dry run, then for real).
        let legacy = fixture.home.path + "/.config/opencode/mcp-oauth"
        try FileManager.default.createDirectory(atPath: legacy, withIntermediateDirectories: true)
        try #"{"accessToken": "\#(Canary.token)", "refreshToken": "\#(Canary.token)-r", "serverUrl": "https://legacy-canary.example.com/mcp"}"#
            .write(toFile: legacy + "/00112233445566778899aabbccddeeff.json", atomically: true, encoding: .utf8)
        try #"{"accessToken": \#(Canary.token.count), "note": "\#(Canary.token)"}"#
            .write(toFile: legacy + "/ffeeddccbbaa99887766554433221100.json", atomically: true, encoding: .utf8)
        outputs.append(try fixture.mcpVault(["migrate", "--dry-run", "--verbose"] + pass))
        outputs.append(try fixture.mcpVault(["migrate", "--verbose"] + pass))
        #expect(outputs.last?.stdout.contains("imported") == true, "\(outputs.last!)")
        // A damaged record's error path, too.
        let record = fixture.vaultPath + "/records/" + (try fixture.recordFiles()[0])
        var bytes = try Data(contentsOf: URL(fileURLWithPath: record))
        bytes[bytes.count - 1] ^= 1
        try bytes.write(to: URL(fileURLWithPath: record))
        outputs.append(try fixture.mcpVault(["status", "--verbose"] + pass))

        for result in outputs {
            #expect(!result.output.contains(Canary.token), "\(result)")
            #expect(!result.output.contains(VaultFixture.passphrase), "\(result)")
        }
        #expect(outputs.contains { $0.stdout.contains("canary.example.com") }, "the record was listed at all")
        for (path, data) in try fixture.snapshot() {
            #expect(data.range(of: Data(Canary.token.utf8)) == nil, "\(path) holds the canary in the clear")
        }
    }
}
