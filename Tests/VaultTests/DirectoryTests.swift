import Foundation
import Testing
import TestSupport
@testable import Vault

@Suite("Vault directory")
struct DirectoryTests {
    @Test func aGroupOrWorldReadableDirectoryIsRefusedWithTheFix() throws {
        let test = try TestVault()
        for mode in [0o750, 0o705, 0o777] as [mode_t] {
            chmod(test.path, mode)
            let error = try #require(throws: VaultError.self) { _ = try test.reopen() }
            #expect(error.kind == "insecurePermissions")
            #expect(error.hint == "chmod 700 '\(test.path)'")
        }
        chmod(test.path, 0o700)
        #expect(throws: Never.self) { _ = try test.reopen() }
    }

    @Test func aReadableRecordFileIsRefused() throws {
        let test = try TestVault()
        try test.vault.write("a", payload: [1])
        chmod(test.recordPath("a"), 0o644)
        let error = try #require(throws: VaultError.self) { _ = try test.reopen().read("a") }
        #expect(error.kind == "insecurePermissions")
        #expect(error.hint == "chmod 600 '\(test.recordPath("a"))'")
    }

    @Test func aRecordThatIsASymbolicLinkIsRefused() throws {
        let test = try TestVault()
        try test.vault.write("a", payload: [1])
        try test.vault.write("b", payload: [2])
        try FileManager.default.removeItem(atPath: test.recordPath("a"))
        try FileManager.default.createSymbolicLink(atPath: test.recordPath("a"), withDestinationPath: test.recordPath("b"))
        let error = try #require(throws: VaultError.self) { _ = try test.reopen().read("a") }
        #expect(error.kind == "symbolicLink")
        #expect(error.hint?.contains("replace the link") == true)
        #expect(try test.reopen().read("b")?.payload == [2])
    }

    @Test func aVaultDirectoryThatIsASymbolicLinkIsRefused() throws {
        let test = try TestVault()
        let link = test.home.path + "/link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: test.path)
        let error = try #require(throws: VaultError.self) { _ = try VaultDirectory.open(at: link, create: false) }
        #expect(error.kind == "symbolicLink")
    }

    @Test func aHeaderThatIsASymbolicLinkIsRefused() throws {
        let test = try TestVault()
        let elsewhere = test.home.path + "/vault.json"
        try FileManager.default.moveItem(atPath: test.headerPath, toPath: elsewhere)
        try FileManager.default.createSymbolicLink(atPath: test.headerPath, withDestinationPath: elsewhere)
        let error = try #require(throws: VaultError.self) { _ = try test.reopen() }
        #expect(error.kind == "symbolicLink")
    }

    @Test func aDirectoryOwnedBySomeoneElseIsRefused() throws {
        try #require(geteuid() == 0, "only root can hand a directory to another user")
        let test = try TestVault()
        chown(test.path, 4321, 4321)
        let error = try #require(throws: VaultError.self) { _ = try test.reopen() }
        #expect(error.kind == "wrongOwner")
    }

    @Test func newDirectoriesAndFilesArePrivate() throws {
        let test = try TestVault()
        try test.vault.write("a", payload: [1])
        for path in [test.path, test.path + "/records", test.path + "/locks"] {
            #expect(try permissions(path) == 0o700, "\(path)")
        }
        for path in [test.headerPath, test.recordPath("a")] {
            #expect(try permissions(path) == 0o600, "\(path)")
        }
    }

    @Test func abandonedTemporaryFilesGoUnlessTheirWriterStillHoldsTheLock() throws {
        let test = try TestVault()
        try test.vault.write("a", payload: [1])
        let id = test.vault.recordID(for: "a")
        let abandoned = test.path + "/records/.\(id).sealed.0123456789ab.tmp"
        let headerLeftover = test.path + "/.vault.json.0123456789ab.tmp"
        for file in [abandoned, headerLeftover] {
            #expect(FileManager.default.createFile(atPath: file, contents: Data([0]), attributes: [.posixPermissions: 0o600]))
        }
        // While the record's writer holds its lock, the temporary file is left alone.
        try test.vault.directory.withRecordLock(id) {
            try test.vault.directory.removeAbandonedTemporaryFiles()
            #expect(FileManager.default.fileExists(atPath: abandoned))
        }
        try test.vault.directory.removeAbandonedTemporaryFiles()
        #expect(!FileManager.default.fileExists(atPath: abandoned))
        #expect(!FileManager.default.fileExists(atPath: headerLeftover))
        #expect(try test.reopen().read("a")?.payload == [1])
    }

    @Test func initRefusesAnExistingVault() throws {
        let test = try TestVault()
        let before = try Data(contentsOf: URL(fileURLWithPath: test.headerPath))
        let error = try #require(throws: VaultError.self) {
            _ = try Vault.create(in: test.vault.directory, keyring: nil, passphrase: TestVault.secret("x"), cost: .interactive)
        }
        #expect(error.kind == "alreadyExists")
        #expect(try Data(contentsOf: URL(fileURLWithPath: test.headerPath)) == before)
    }

    private func permissions(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! NSNumber).intValue
    }
}
