import Foundation
import Testing
import TestSupport

/// Against real private buses: each way the keyring can fail gives its own error within the
/// deadline, and the vault then opens with the passphrase.
@Suite("Keyring failures", .serialized)
struct KeyringFailureTests {
    /// A vault with a keyring slot on `bus` and a passphrase slot.
    private func vaultWithBothSlots(on bus: PrivateSessionBus) throws -> VaultFixture {
        let fixture = try VaultFixture()
        fixture.extraEnvironment = bus.environment
        let created = try fixture.mcpVault(["init", "--keyring", "--passphrase", "--passphrase-file", fixture.passphraseFile,
                                            "--cost", "interactive"])
        try #require(created.status == 0, "\(created)")
        let status = try fixture.mcpVault(["status"])
        try #require(status.status == 0 && status.stdout.contains("unlocked with the keyring"), "\(status)")
        return fixture
    }

    /// Without a passphrase the error names the keyring's failure; with one, the vault opens.
    private func expectFallback(_ fixture: VaultFixture, environment: [String: String], reason: String,
                                sourceLocation: SourceLocation = #_sourceLocation) throws {
        let locked = try fixture.mcpVault(["status"], environment: environment)
        #expect(locked.status == 77, "\(locked)", sourceLocation: sourceLocation)
        #expect(locked.stderr.contains(reason), "\(locked)", sourceLocation: sourceLocation)
        #expect(locked.seconds < 10, "took \(locked.seconds) s", sourceLocation: sourceLocation)

        let opened = try fixture.mcpVault(["status", "--passphrase-file", fixture.passphraseFile, "--verbose"], environment: environment)
        #expect(opened.status == 0, "\(opened)", sourceLocation: sourceLocation)
        #expect(opened.stdout.contains("unlocked with the passphrase"), "\(opened)", sourceLocation: sourceLocation)
        #expect(opened.stderr.contains(reason), "the verbose log names why the keyring was passed over", sourceLocation: sourceLocation)
    }

    @Test func noSessionBus() throws {
        let bus = try PrivateSessionBus(withKeyring: true)
        let fixture = try vaultWithBothSlots(on: bus)
        var environment = fixture.environment
        environment["DBUS_SESSION_BUS_ADDRESS"] = nil
        environment["XDG_RUNTIME_DIR"] = fixture.home.path  // no "bus" socket in it
        fixture.extraEnvironment = [:]
        let noBus = try run(Binaries.mcpVault, ["status"], environment: environment)
        #expect(noBus.status == 77 && noBus.stderr.contains("no D-Bus session bus"), "\(noBus)")
        let opened = try run(Binaries.mcpVault, ["status", "--passphrase-file", fixture.passphraseFile], environment: environment)
        #expect(opened.status == 0 && opened.stdout.contains("unlocked with the passphrase"), "\(opened)")
    }

    @Test func busAddressThatLeadsNowhere() throws {
        let bus = try PrivateSessionBus(withKeyring: true)
        let fixture = try vaultWithBothSlots(on: bus)
        try expectFallback(fixture, environment: ["DBUS_SESSION_BUS_ADDRESS": "unix:path=\(fixture.home.path)/gone"],
                           reason: "no D-Bus session bus")
    }

    @Test func busWithoutSecretService() throws {
        let bus = try PrivateSessionBus(withKeyring: true)
        let fixture = try vaultWithBothSlots(on: bus)
        let bare = try PrivateSessionBus(withKeyring: false)
        try expectFallback(fixture, environment: bare.environment, reason: "no Secret Service on the session bus")
    }

    @Test func lockedDefaultCollection() throws {
        let bus = try PrivateSessionBus(withKeyring: true)
        let fixture = try vaultWithBothSlots(on: bus)
        try bus.lockDefaultCollection()
        try expectFallback(fixture, environment: [:], reason: "the default keyring is locked")
        let doctor = try fixture.mcpVault(["doctor"])
        #expect(doctor.stdout.contains("the default keyring is locked"), "\(doctor)")
        #expect(doctor.status == 0, "a passphrase slot keeps the vault usable: \(doctor)")
    }

    /// On a desktop (here a display; the private bus has no prompter, so gnome-keyring cannot
    /// show its prompt) a locked keyring is asked to unlock through its own prompt, and a prompt
    /// that fails or is dismissed falls back to the passphrase.
    @Test func aLockedKeyringOnADesktopIsAskedToUnlockThenThePassphraseServes() throws {
        let bus = try PrivateSessionBus(withKeyring: true)
        let fixture = try vaultWithBothSlots(on: bus)
        try bus.lockDefaultCollection()
        let desktop = ["DISPLAY": ":93", "MCP_VAULT_KEYRING_PROMPT_TIMEOUT": "5"]
        let opened = try fixture.mcpVault(["status", "--passphrase-file", fixture.passphraseFile, "--verbose"], environment: desktop)
        #expect(opened.stderr.contains("The desktop keyring is locked; unlock it in the prompt on your screen"), "\(opened)")
        #expect(opened.status == 0 && opened.stdout.contains("unlocked with the passphrase"), "\(opened)")
        #expect(opened.seconds < 15, "the prompt is bounded: took \(opened.seconds) s")
        // No display and no terminal: no prompt at all, as before.
        let headless = try fixture.mcpVault(["status", "--passphrase-file", fixture.passphraseFile])
        #expect(!headless.stderr.contains("unlock it in the prompt"), "\(headless)")
    }

    @Test func defaultAliasOnTheVolatileSessionCollection() throws {
        let bus = try PrivateSessionBus(withKeyring: true)
        let fixture = try vaultWithBothSlots(on: bus)
        try bus.makeDefaultCollectionVolatile()
        try expectFallback(fixture, environment: [:], reason: "in-memory session keyring")
    }

    @Test func hungSecretService() throws {
        let bus = try PrivateSessionBus(withKeyring: true)
        let fixture = try vaultWithBothSlots(on: bus)
        bus.freezeKeyring()
        try expectFallback(fixture, environment: ["MCP_VAULT_KEYRING_TIMEOUT": "1"], reason: "did not answer within 1 s")
    }

    @Test func keyringItemRemovedBehindOurBack() throws {
        let bus = try PrivateSessionBus(withKeyring: true)
        let fixture = try vaultWithBothSlots(on: bus)
        let header = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture.vaultPath + "/vault.json"))) as! [String: Any]
        let vaultID = header["vault_id"] as! String
        let cleared = try run("/usr/bin/secret-tool", ["clear", "vault-id", vaultID], environment: bus.environment)
        try #require(cleared.status == 0, "\(cleared)")
        try expectFallback(fixture, environment: [:], reason: "the keyring holds no key for this vault")
    }

    /// A bus that misbehaves (Tests/Peers/hostile_bus.py) on the read path, which speaks D-Bus
    /// itself: each way gives its own error within the deadline, nothing crashes, the vault's
    /// files are not touched, and the passphrase still opens it.
    @Test(arguments: [
        ("auth-rejected", "did not accept this user"), ("not-dbus", "not a D-Bus message"),
        ("huge", "larger than 1 MiB"), ("truncated", "closed the connection"),
        ("deep-variant", "not a D-Bus message"), ("no-nul", "answered ReadAlias with a reply the API does not define"),
        ("wrong-type", "answered ReadAlias with a reply the API does not define"),
        ("lying-array", "answered SearchItems with a reply the API does not define"),
        ("oversized-secret", "does not hold a 32-byte key"), ("silent", "did not answer within 1 s"),
        ("flood", HostileBus.wrongKeyReason), ("no-alias-path", HostileBus.wrongKeyReason),
        ("reversed", HostileBus.wrongKeyReason),
    ])
    func hostileBus(mode: String, reason: String) throws {
        let bus = try PrivateSessionBus(withKeyring: true)
        let fixture = try vaultWithBothSlots(on: bus)
        let hostile = try HostileBus(mode: mode)
        let before = try fixture.snapshot()
        try expectFallback(fixture, environment: ["DBUS_SESSION_BUS_ADDRESS": hostile.address, "MCP_VAULT_KEYRING_TIMEOUT": "1"],
                           reason: reason)
        #expect(try fixture.snapshot() == before, "the vault's files are as they were")
    }

    @Test func initWithKeyringRequiredFailsClearlyWithoutOne() throws {
        let bare = try PrivateSessionBus(withKeyring: false)
        let fixture = try VaultFixture()
        fixture.extraEnvironment = bare.environment
        let result = try fixture.mcpVault(["init", "--keyring"])
        #expect(result.status == 69, "\(result)")
        #expect(result.stderr.contains("no Secret Service"), "\(result)")
        #expect(!FileManager.default.fileExists(atPath: fixture.vaultPath + "/vault.json"))
    }

    @Test func initWithoutKeyringFallsBackToAPassphraseSlot() throws {
        let bare = try PrivateSessionBus(withKeyring: false)
        let fixture = try VaultFixture()
        fixture.extraEnvironment = bare.environment
        let result = try fixture.mcpVault(["init", "--passphrase-file", fixture.passphraseFile, "--cost", "interactive"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.contains("the keyring is not used"), "\(result)")
        #expect(result.stdout.contains("passphrase slot"), "\(result)")
    }
}

/// Tests/Peers/hostile_bus.py listening on a socket in a temporary directory.
final class HostileBus: @unchecked Sendable {
    /// What a key that is not the slot's (the honest modes send 32 bytes of 0x2a) gives.
    static let wrongKeyReason = "the keyring holds a different key for this vault"
    let address: String
    private let process: ChildProcess
    private let directory: TemporaryDirectory

    init(mode: String) throws {
        directory = try TemporaryDirectory(prefix: "hostile-bus")
        let socket = directory.file("bus")
        process = try ChildProcess("/usr/bin/python3", [Binaries.repositoryRoot + "/Tests/Peers/hostile_bus.py", "--socket", socket, "--mode", mode],
                                   environment: ["PATH": "/usr/bin:/bin"], output: .file(directory.file("ready")),
                                   error: .file(directory.file("stderr")))
        address = "unix:path=" + socket
        for _ in 0..<400 {  // up to 20 s
            if let text = try? String(contentsOfFile: directory.file("ready"), encoding: .utf8), text.contains("ready") { return }
            usleep(50_000)
        }
        process.stop()
        throw TestFailure("hostile_bus.py did not start: \((try? String(contentsOfFile: directory.file("stderr"), encoding: .utf8)) ?? "")")
    }

    deinit {
        process.stop()
    }
}

/// libsecret (with GLib, GIO and nine more libraries) is loaded only to write to the keyring:
/// reading a key speaks D-Bus itself. The dynamic loader's own log (LD_DEBUG=files) names every
/// library a run maps.
@Suite("libsecret is loaded on first use")
struct LazyKeyringLibraryTests {
    private func loadedLibraries(_ result: ProcessResult) -> [String] {
        result.stderr.split(separator: "\n").compactMap { line in
            guard let range = line.range(of: "file=") else { return nil }
            return String(line[range.upperBound...].prefix { $0 != " " && $0 != ";" })
        }
    }

    @Test func passphraseRunsNeverLoadItAndKeyringRunsDo() throws {
        let headless = try VaultFixture()
        try headless.createPassphraseVault()
        for arguments in [["--version"], ["status", "--passphrase-file", headless.passphraseFile]] {
            let result = try headless.mcpVault(arguments, environment: ["LD_DEBUG": "files"])
            #expect(result.status == 0, "\(result)")
            let libraries = loadedLibraries(result)
            #expect(libraries.contains { $0.hasPrefix("libsodium") }, "the loader's log was read: \(libraries)")
            #expect(!libraries.contains { $0.contains("libsecret") || $0.contains("libglib") || $0.contains("libgio") },
                    "mcp-vault \(arguments[0]) loaded \(libraries)")
        }

        let bus = try PrivateSessionBus(withKeyring: true)
        let desktop = try VaultFixture()
        desktop.extraEnvironment = bus.environment
        let created = try desktop.mcpVault(["init", "--keyring"], environment: ["LD_DEBUG": "files"])
        #expect(created.status == 0, "\(created)")
        #expect(loadedLibraries(created).contains("libsecret-1.so.0"), "storing the key loads it: \(loadedLibraries(created))")
        let result = try desktop.mcpVault(["status"], environment: ["LD_DEBUG": "files"])
        #expect(result.status == 0 && result.stdout.contains("unlocked with the keyring"), "\(result)")
        let libraries = loadedLibraries(result)
        #expect(libraries.contains { $0.hasPrefix("libsodium") }, "the loader's log was read: \(libraries)")
        #expect(!libraries.contains { $0.contains("libsecret") || $0.contains("libglib") || $0.contains("libgio") },
                "reading the key loaded \(libraries)")
        // doctor checks that a key could be stored, which needs libsecret.
        let doctor = try desktop.mcpVault(["doctor"], environment: ["LD_DEBUG": "files"])
        #expect(loadedLibraries(doctor).contains("libsecret-1.so.0"), "\(loadedLibraries(doctor))")
    }
}
