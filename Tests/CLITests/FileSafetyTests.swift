import AuthorizationServer
import Credentials
import Foundation
import Testing
import TestSupport

/// A small tmpfs of our own, to fill up or make read-only (root can mount; CI runs as root).
private final class SmallFileSystem: @unchecked Sendable {
    let path: String

    static let available: Bool = {
        guard let probe = try? SmallFileSystem(at: NSTemporaryDirectory() + "mcp-vault-mount-probe-\(getpid())", size: "64k") else { return false }
        probe.unmount()
        return true
    }()

    init(at path: String, size: String) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let result = try run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size),mode=0700", "tmpfs", path], environment: ["PATH": "/usr/bin:/bin"])
        guard result.status == 0 else { throw TestFailure("mount: \(result)") }
    }

    func fill() throws {
        _ = try run("/bin/dd", ["if=/dev/zero", "of=\(path)/filler", "bs=4k"], environment: [:])
    }

    func makeReadOnly() throws {
        let result = try run("/bin/mount", ["-o", "remount,ro", path], environment: ["PATH": "/usr/bin:/bin"])
        guard result.status == 0 else { throw TestFailure("remount: \(result)") }
    }

    func unmount() {
        _ = try? run("/bin/umount", ["-l", path], environment: ["PATH": "/usr/bin:/bin"])
        try? FileManager.default.removeItem(atPath: path)
    }

    deinit { unmount() }
}

@Suite("Files that are not what they should be")
struct FileSafetyTests {
    /// A signed-out session whose vault lives on a 4 MiB tmpfs of its own.
    private func sessionOnSmallDisk() async throws -> (ServerSession, SmallFileSystem) {
        let fixture = try VaultFixture()
        let disk = try SmallFileSystem(at: fixture.home.file("small"), size: "4m")
        fixture.extraEnvironment["MCP_VAULT_DIR"] = disk.path + "/vault"
        let session = ServerSession(try await TestAuthorizationServer(), fixture: fixture)
        try fixture.createPassphraseVault()
        return (session, disk)
    }

    private func recordPath(_ session: ServerSession) throws -> String {
        let files = try session.fixture.recordFiles()
        try #require(files.count == 1, "\(files)")
        return session.fixture.vaultPath + "/records/" + files[0]
    }

    @Test func aFIFOInPlaceOfARecordOrTheHeaderDoesNotHang() async throws {
        let session = try ServerSession(try await TestAuthorizationServer())
        #expect(try await session.login().status == 0)
        let record = try recordPath(session)
        try FileManager.default.removeItem(atPath: record)
        #expect(mkfifo(record, 0o600) == 0)
        let started = Date()
        let token = try await session.token()
        #expect(Date().timeIntervalSince(started) < 60, "a blocked open would never return")
        #expect(token.status != 0 && token.stderr.contains("is not a regular file"), "\(token)")
        let header = session.fixture.vaultPath + "/vault.json"
        try FileManager.default.moveItem(atPath: header, toPath: header + ".saved")
        #expect(mkfifo(header, 0o600) == 0)
        let status = try session.fixture.mcpVault(["status", "--passphrase-file", session.fixture.passphraseFile])
        #expect(status.status != 0 && status.stderr.contains("is not a regular file"), "\(status)")
    }

    @Test(arguments: ["link", "link/", "link//", "link/.", "link/./", "link/./."])
    func aVaultDirectoryReachedThroughALinkIsRefused(_ spelling: String) throws {
        let fixture = try VaultFixture()
        try fixture.createPassphraseVault()
        #expect(symlink(fixture.vaultPath, fixture.home.file("link")) == 0 || errno == EEXIST)
        let result = try run(Binaries.mcpVault, ["status", "--vault-dir", fixture.home.file(spelling), "--passphrase-file", fixture.passphraseFile],
                             environment: fixture.environment)
        #expect(result.status == 78 && result.stderr.contains("symbolic link"), "\(spelling): \(result)")
    }

    /// A damaged record can always be replaced (login) or removed (logout), and doctor says how.
    @Test func aDamagedRecordCanBeReplacedAndRemoved() async throws {
        let session = try ServerSession(try await TestAuthorizationServer())
        #expect(try await session.login().status == 0)
        let record = try recordPath(session)
        func damage() throws {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: record))
            try bytes.prefix(40).write(to: URL(fileURLWithPath: record))  // truncated
        }
        try damage()
        let token = try await session.token()
        #expect(token.status == 65 && token.stderr.contains("mcp-vault logout --damaged"), "\(token)")
        let doctor = try session.fixture.mcpVault(["doctor"])
        #expect(doctor.stdout.contains("cannot be read") && doctor.stdout.contains("mcp-vault logout --damaged"), "\(doctor)")

        let login = try await session.login()
        #expect(login.status == 0, "login replaces it: \(login)")
        #expect(try await session.token().status == 0)

        try damage()
        let logout = try await runAsync(Binaries.mcpVault, ["logout", session.url, "--passphrase-file", session.fixture.passphraseFile],
                                        environment: session.environment)
        #expect(logout.status == 5 && logout.stdout.contains("the record could not be read"), "\(logout)")
        #expect(try session.fixture.recordFiles().isEmpty)

        #expect(try await session.login().status == 0)
        try damage()
        let all = try await runAsync(Binaries.mcpVault, ["logout", "--all", "--local-only", "--yes", "--passphrase-file", session.fixture.passphraseFile],
                                     environment: session.environment)
        #expect(all.status == 0 && all.stdout.contains("which could not be read"), "\(all)")
        #expect(try session.fixture.recordFiles().isEmpty)

        #expect(try await session.login().status == 0)
        try damage()
        let damaged = try await runAsync(Binaries.mcpVault, ["logout", "--damaged", "--passphrase-file", session.fixture.passphraseFile],
                                         environment: session.environment)
        #expect(damaged.status == 0 && damaged.stdout.contains("Removed record"), "\(damaged)")
        #expect(try session.fixture.recordFiles().isEmpty)
    }

    /// A full or read-only vault is found out before any server is asked for anything.
    @Test(.enabled(if: SmallFileSystem.available, "needs to mount a tmpfs (root)"))
    func aVaultThatCannotBeWrittenStopsLoginBeforeAnyRequest() async throws {
        let (session, disk) = try await sessionOnSmallDisk()
        let server = session.server
        try disk.fill()
        let full = try await session.login()
        #expect(full.status == 74 && full.stderr.contains("cannot take a new record now (no space left on device); nothing was sent to any server"), "\(full)")
        try disk.makeReadOnly()
        let readOnly = try await session.login()
        #expect(readOnly.status == 74 && readOnly.stderr.contains("(read-only file system)"), "\(readOnly)")
        let stats = try await server.stats()
        #expect(stats["authorization_requests"] == 0 && stats["registrations"] == 0, "\(stats)")
    }

    /// doctor on a full or read-only file system does not call the vault usable.
    @Test(.enabled(if: SmallFileSystem.available, "needs to mount a tmpfs (root)"))
    func doctorSaysWhenNothingNewCanBeStored() async throws {
        let (session, disk) = try await sessionOnSmallDisk()
        #expect(try session.fixture.mcpVault(["doctor"]).stdout.contains("The vault can be used."))
        try disk.fill()
        let full = try session.fixture.mcpVault(["doctor"])
        #expect(full.status == 1 && full.stdout.contains("The vault can be read, but nothing new can be stored in it"), "\(full)")
        #expect(full.stdout.contains("no space left on device") && !full.stdout.contains("The vault can be used."), "\(full)")
        try disk.makeReadOnly()
        let readOnly = try session.fixture.mcpVault(["doctor"])
        #expect(readOnly.status == 1 && readOnly.stdout.contains("read-only file system"), "\(readOnly)")
    }

    /// On a full disk a refresh is not attempted: the server has rotated nothing that could be lost.
    @Test(.enabled(if: SmallFileSystem.available, "needs to mount a tmpfs (root)"))
    func aFullDiskStopsARefreshBeforeTheRequest() async throws {
        let (session, disk) = try await sessionOnSmallDisk()
        let server = session.server
        #expect(try await session.login().status == 0)
        try session.expireAccessToken()
        try disk.fill()
        let refresh = try await session.token()
        #expect(refresh.status == 3 && refresh.stderr.contains("there is no room to store a refreshed token, so none was asked for"), "\(refresh)")
        #expect(try await server.stats()["refresh_requests"] == 0)
        _ = try run("/bin/rm", ["-f", disk.path + "/filler"], environment: [:])
        let later = try await session.token()
        #expect(later.status == 0, "with room again, the grant still works: \(later)")
    }
}
