import Credentials
import Foundation
import Testing
import TestSupport

/// Stores a credential for `url` through the test tool (payload on stdin, never argv).
func storeCredential(_ fixture: VaultFixture, url: String, token: String = "an-access-token", expiresIn: Int64? = 3600,
                     scope: String = "read write", refreshable: Bool = true, name: String? = nil) throws {
    let now = Int64(Date().timeIntervalSince1970)
    let server = try ServerURL(url)
    let record = CredentialRecord(
        server: server, issuer: "https://auth.example.com",
        endpoints: .init(token: "https://auth.example.com/token"),
        client: .init(clientID: "client-123", clientSecret: token + "-client-secret", source: "dynamic", authMethod: "client_secret_post"),
        tokens: .init(accessToken: token, refreshToken: refreshable ? token + "-refresh" : nil, scope: scope,
                      expiresAt: expiresIn.map { now + $0 }),
        now: now)
    var named = record
    named.name = name
    let stored = try fixture.tool(["put", server.canonical], environment: ["MCP_VAULT_PASSPHRASE": VaultFixture.passphrase],
                                  input: String(decoding: named.encoded(), as: UTF8.self))
    try #require(stored.status == 0, "\(stored)")
}

@Suite("Commands")
struct CommandTests {
    private func passphraseVault() throws -> VaultFixture {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        return fixture
    }

    @Test func statusListsServersWithoutSecrets() throws {
        let fixture = try passphraseVault()
        try storeCredential(fixture, url: "https://one.example.com/mcp", expiresIn: 3600)
        try storeCredential(fixture, url: "https://two.example.com/mcp", expiresIn: -7200, scope: "tools")
        let result = try fixture.mcpVault(["status", "--passphrase-file", fixture.passphraseFile])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("unlocked with the passphrase"))
        #expect(result.stdout.contains("https://one.example.com/mcp"))
        #expect(result.stdout.contains("valid, expires in 59 min") || result.stdout.contains("valid, expires in 1 h"), "\(result)")
        #expect(result.stdout.contains("expired 2 h 0 min ago") || result.stdout.contains("expired 1 h 59 min ago"), "\(result)")
        #expect(result.stdout.contains("client-123"))
        #expect(result.stdout.contains("read write"))
        #expect(!result.output.contains("an-access-token"))
    }

    @Test func statusOfOneServerFindsItUnderAnyEquivalentURL() throws {
        let fixture = try passphraseVault()
        try storeCredential(fixture, url: "https://mcp.example.com/mcp")
        let result = try fixture.mcpVault(["status", "https://MCP.example.com:443/mcp/", "--passphrase-file", fixture.passphraseFile])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("https://mcp.example.com/mcp"))
        let missing = try fixture.mcpVault(["status", "https://other.example.com/mcp", "--passphrase-file", fixture.passphraseFile])
        #expect(missing.status == 66, "\(missing)")
        #expect(missing.stderr.contains("no credentials for https://other.example.com/mcp"), "\(missing)")
        let invalid = try fixture.mcpVault(["status", "ftp://x", "--passphrase-file", fixture.passphraseFile])
        #expect(invalid.status == 64, "\(invalid)")
    }

    @Test func statusJSONIsMachineReadable() throws {
        let fixture = try passphraseVault()
        try storeCredential(fixture, url: "https://one.example.com/mcp")
        let result = try fixture.mcpVault(["status", "--json", "--passphrase-file", fixture.passphraseFile])
        #expect(result.status == 0, "\(result)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let records = try #require(object?["records"] as? [[String: Any]])
        #expect(records.count == 1)
        #expect(records[0]["server_url"] as? String == "https://one.example.com/mcp")
        #expect(records[0]["state"] as? String == "valid")
        #expect(records[0]["can_refresh"] as? Bool == true)
        #expect(object?["unlocked_by"] as? String == "passphrase")
    }

    @Test func aLockedVaultSaysHowManyRecordsAndHowToUnlockAtOnce() throws {
        let fixture = try passphraseVault()
        try storeCredential(fixture, url: "https://one.example.com/mcp")
        try storeCredential(fixture, url: "https://two.example.com/mcp")
        let result = try fixture.mcpVault(["status"])
        #expect(result.status == 77, "\(result)")
        #expect(result.stderr.contains("is locked; it holds 2 records"))
        #expect(result.stderr.contains("standard input is not a terminal"))
        #expect(result.stderr.contains("hint: run `mcp-vault unlock`"))
        #expect(result.seconds < 5, "no prompt is waited on: \(result.seconds) s")
    }

    @Test func aDamagedRecordIsReportedWhileTheOthersAreListed() throws {
        let fixture = try passphraseVault()
        try storeCredential(fixture, url: "https://one.example.com/mcp")
        try storeCredential(fixture, url: "https://two.example.com/mcp")
        let victim = fixture.vaultPath + "/records/" + (try fixture.recordFiles()[0])
        var bytes = try Data(contentsOf: URL(fileURLWithPath: victim))
        bytes[bytes.count - 3] ^= 0x20
        try bytes.write(to: URL(fileURLWithPath: victim))
        let result = try fixture.mcpVault(["status", "--passphrase-file", fixture.passphraseFile])
        #expect(result.status == 65, "\(result)")
        #expect(result.stderr.contains("failed authentication"))
        #expect(result.stdout.components(separatedBy: ".example.com/mcp").count == 2, "the intact record is still listed: \(result)")
    }

    @Test func unlockCachesTheKeyUntilLock() throws {
        let fixture = try passphraseVault()
        let unlocked = try fixture.mcpVault(["unlock", "--for", "5m", "--passphrase-file", fixture.passphraseFile])
        #expect(unlocked.status == 0, "\(unlocked)")
        #expect(unlocked.stdout.contains("for 5 min"))
        let cached = try fixture.mcpVault(["status"])
        #expect(cached.status == 0 && cached.stdout.contains("unlocked with the session cache"), "\(cached)")
        let locked = try fixture.mcpVault(["lock"])
        #expect(locked.status == 0 && locked.stdout.contains("Locked"), "\(locked)")
        #expect(try fixture.mcpVault(["status"]).status == 77)
        #expect(try fixture.mcpVault(["lock"]).stdout.contains("was not unlocked"))
    }

    @Test(arguments: ["0", "25h", "5x", "-1", "1h30"])
    func unlockRejectsBadDurations(_ duration: String) throws {
        let fixture = try passphraseVault()
        let result = try fixture.mcpVault(["unlock", "--for", duration, "--passphrase-file", fixture.passphraseFile])
        #expect(result.status == 64, "\(result)")
    }

    @Test func theEnvironmentPassphraseIsOptInAndWorks() throws {
        let fixture = try passphraseVault()
        let result = try fixture.mcpVault(["status"], environment: ["MCP_VAULT_PASSPHRASE": VaultFixture.passphrase])
        #expect(result.status == 0, "\(result)")
        let wrong = try fixture.mcpVault(["status"], environment: ["MCP_VAULT_PASSPHRASE": "nope"])
        #expect(wrong.status == 77 && wrong.stderr.contains("wrong passphrase"), "\(wrong)")
    }

    @Test func thePassphraseCanComeFromADescriptor() throws {
        let fixture = try passphraseVault()
        let result = try run("/bin/sh", ["-c", "exec \"$0\" status --passphrase-fd 3 3<\"$1\"", Binaries.mcpVault, fixture.passphraseFile],
                             environment: fixture.environment)
        #expect(result.status == 0, "\(result)")
    }

    @Test func aWrongPassphraseChangesNothing() throws {
        let fixture = try passphraseVault()
        try storeCredential(fixture, url: "https://one.example.com/mcp")
        let before = try fixture.snapshot()
        try "wrong\n".write(toFile: fixture.home.file("wrong"), atomically: true, encoding: .utf8)
        let result = try fixture.mcpVault(["status", "--passphrase-file", fixture.home.file("wrong")])
        #expect(result.status == 77)
        #expect(result.stderr.contains("wrong passphrase"))
        #expect(try fixture.snapshot() == before)
    }

    @Test func initRefusesToOverwrite() throws {
        let fixture = try passphraseVault()
        let before = try fixture.snapshot()
        let result = try fixture.mcpVault(["init", "--no-keyring", "--passphrase-file", fixture.passphraseFile])
        #expect(result.status == 73, "\(result)")
        #expect(result.stderr.contains("already exists"))
        #expect(try fixture.snapshot() == before)
    }

    @Test func initWithoutAnyWayToGetAPassphraseFailsAtOnce() throws {
        let fixture = try VaultFixture()
        let result = try fixture.mcpVault(["init", "--no-keyring"])
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains("standard input is not a terminal"))
        #expect(!FileManager.default.fileExists(atPath: fixture.vaultPath + "/vault.json"))
    }

    @Test func theLastSlotStays() throws {
        let fixture = try passphraseVault()
        let result = try fixture.mcpVault(["passphrase", "remove", "--passphrase-file", fixture.passphraseFile])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("only key slot"))
        let noKeyring = try fixture.mcpVault(["keyring", "remove", "--passphrase-file", fixture.passphraseFile])
        #expect(noKeyring.status == 1 && noKeyring.stderr.contains("has no keyring slot"), "\(noKeyring)")
        #expect(try fixture.mcpVault(["status", "--passphrase-file", fixture.passphraseFile]).status == 0)
    }

    @Test func changingThePassphrase() throws {
        let fixture = try passphraseVault()
        try storeCredential(fixture, url: "https://one.example.com/mcp")
        let newFile = fixture.home.file("new")
        try "a different passphrase\n".write(toFile: newFile, atomically: true, encoding: .utf8)
        let changed = try fixture.mcpVault(["passphrase", "change", "--passphrase-file", fixture.passphraseFile,
                                            "--new-passphrase-file", newFile, "--cost", "interactive"])
        #expect(changed.status == 0, "\(changed)")
        #expect(try fixture.mcpVault(["status", "--passphrase-file", fixture.passphraseFile]).status == 77)
        let opened = try fixture.mcpVault(["status", "--passphrase-file", newFile])
        #expect(opened.status == 0 && opened.stdout.contains("one.example.com"), "\(opened)")
    }

    @Test func anInsecureVaultDirectoryIsRefusedWithTheFix() throws {
        let fixture = try passphraseVault()
        chmod(fixture.vaultPath, 0o755)
        let result = try fixture.mcpVault(["status", "--passphrase-file", fixture.passphraseFile])
        #expect(result.status == 78, "\(result)")
        #expect(result.stderr.contains("accessible by other users"))
        #expect(result.stderr.contains("hint: chmod 700 '\(fixture.vaultPath)'"))
    }

    @Test func aRecordThatIsASymbolicLinkIsRefusedWithTheFix() throws {
        let fixture = try passphraseVault()
        try storeCredential(fixture, url: "https://one.example.com/mcp")
        let record = fixture.vaultPath + "/records/" + (try fixture.recordFiles()[0])
        try FileManager.default.moveItem(atPath: record, toPath: fixture.home.file("moved"))
        try FileManager.default.createSymbolicLink(atPath: record, withDestinationPath: fixture.home.file("moved"))
        let result = try fixture.mcpVault(["status", "--passphrase-file", fixture.passphraseFile])
        #expect(result.status == 65, "\(result)")
        #expect(result.stderr.contains("is a symbolic link"))
        #expect(result.stderr.contains("replace the link"), "\(result)")
    }

    @Test func doctorExitsZeroOnlyWhenTheVaultCanBeUsed() throws {
        let fixture = try VaultFixture()
        let none = try fixture.mcpVault(["doctor"])
        #expect(none.status == 1, "\(none)")
        #expect(none.stdout.contains("mcp-vault init"))
        try fixture.createPassphraseVault()
        let usable = try fixture.mcpVault(["doctor"])
        #expect(usable.status == 0, "\(usable)")
        #expect(usable.stdout.contains("passphrase slot"))
        #expect(usable.stdout.contains("no D-Bus session bus") || usable.stdout.contains("DBUS_SESSION_BUS_ADDRESS is not set"))
    }

    @Test func doctorAndStatusPointAtLegacyPlaintext() throws {
        let fixture = try passphraseVault()
        let legacy = fixture.home.path + "/.config/opencode/mcp-oauth"
        try FileManager.default.createDirectory(atPath: legacy, withIntermediateDirectories: true)
        try "{}".write(toFile: legacy + "/0123456789abcdef0123456789abcdef.json", atomically: true, encoding: .utf8)
        let doctor = try fixture.mcpVault(["doctor"])
        #expect(doctor.stdout.contains("1 plaintext token file(s)"), "\(doctor)")
        #expect(doctor.stdout.contains("mcp-vault migrate"))
        let status = try fixture.mcpVault(["status", "--passphrase-file", fixture.passphraseFile])
        #expect(status.stderr.contains("plaintext token file"), "\(status)")
    }

    @Test func everyCommandHasHelpWithAnExample() throws {
        let fixture = try VaultFixture()
        for command in [["init"], ["status"], ["unlock"], ["lock"], ["passphrase"], ["passphrase", "add"], ["passphrase", "change"],
                        ["passphrase", "remove"], ["keyring"], ["keyring", "add"], ["keyring", "remove"], ["doctor"]] {
            let result = try fixture.mcpVault(command + ["--help"])
            #expect(result.status == 0, "\(command)")
            #expect(result.stdout.contains("mcp-vault " + command[0]), "\(command) help has an example")
        }
    }
}
