import Foundation
import Testing
import TestSupport
@testable import Vault

@Suite("Sealed records")
struct SealedRecordTests {
    @Test func recordsRoundTripThroughThePassphraseSlot() throws {
        let test = try TestVault()
        for index in 0..<5 {
            try test.vault.write("https://server\(index).example/mcp", payload: Array("payload \(index)".utf8))
        }
        try test.vault.write("https://server0.example/mcp", payload: Array("second version".utf8))

        let reopened = try test.reopen()
        #expect(reopened.unlockedBy == .passphrase)
        let first = try #require(try reopened.read("https://server0.example/mcp"))
        #expect(first.payload == Array("second version".utf8))
        #expect(first.generation == 2)
        for index in 1..<5 {
            #expect(try reopened.read("https://server\(index).example/mcp")?.payload == Array("payload \(index)".utf8))
        }
        #expect(try reopened.read("https://absent.example/mcp") == nil)
        #expect(try reopened.records().count == 5)
    }

    @Test(.enabled(if: TestBed.hasKeyring, "needs the test bed's keyring (scripts/test)"))
    func recordsRoundTripThroughTheKeyringSlot() throws {
        let keyring = SecretServiceKeyring(timeout: 5)
        let test = try TestVault(keyring: keyring, passphrase: false)
        try test.vault.write("https://a.example/mcp", payload: Array("sealed with the keyring".utf8))
        let reopened = try test.reopen(TestVault.sources(passphrase: nil, keyring: keyring))
        #expect(reopened.unlockedBy == .keyring)
        #expect(try reopened.read("https://a.example/mcp")?.payload == Array("sealed with the keyring".utf8))
    }

    @Test(.enabled(if: TestBed.hasKeyring, "needs the test bed's keyring (scripts/test)"))
    func eachSlotOpensAVaultThatHasBoth() throws {
        let keyring = SecretServiceKeyring(timeout: 5)
        let test = try TestVault(keyring: keyring, passphrase: true)
        try test.vault.write("https://a.example/mcp", payload: [1, 2, 3])
        let byPassphrase = try test.reopen(TestVault.sources(keyring: nil))
        #expect(byPassphrase.unlockedBy == .passphrase)
        #expect(try byPassphrase.read("https://a.example/mcp")?.payload == [1, 2, 3])
        let byKeyring = try test.reopen(TestVault.sources(passphrase: nil, keyring: keyring))
        #expect(byKeyring.unlockedBy == .keyring)
        #expect(try byKeyring.read("https://a.example/mcp")?.payload == [1, 2, 3])
    }

    @Test func fileNamesRevealNothingAndDifferBetweenVaults() throws {
        let first = try TestVault(), second = try TestVault()
        let name = "https://secret-server.example.com/mcp"
        try first.vault.write(name, payload: [0])
        let files = try FileManager.default.contentsOfDirectory(atPath: first.path + "/records")
        #expect(files == [first.vault.recordID(for: name) + ".sealed"])
        #expect(!files[0].contains("secret-server"))
        #expect(first.vault.recordID(for: name) == first.vault.recordID(for: name))
        #expect(first.vault.recordID(for: name) != second.vault.recordID(for: name))
        let onDisk = try first.bytes(name)
        #expect(!String(decoding: onDisk, as: UTF8.self).contains("secret-server"))
    }

    @Test func updateSeesTheCurrentRecordAndCanDelete() throws {
        let test = try TestVault()
        try test.vault.update("n") { current in
            #expect(current == nil)
            return .write([7])
        }
        try test.vault.update("n") { current in
            #expect(current?.payload == [7])
            return .keep
        }
        #expect(try test.vault.read("n")?.generation == 1)
        try test.vault.update("n") { _ in .delete }
        #expect(try test.vault.read("n") == nil)
        #expect(try test.vault.delete("n") == false)
    }

    @Test func anEmptyPayloadRoundTrips() throws {
        let test = try TestVault()
        try test.vault.write("empty", payload: [])
        #expect(try test.reopen().read("empty")?.payload == [])
    }

    @Test func secureBytesNeverPrintTheirContents() {
        let secret = SecureBytes(copying: Array("hunter2".utf8))
        #expect(!secret.description.contains("hunter2"))
        #expect(!String(reflecting: secret).contains("hunter2"))
        #expect(secret.constantTimeEquals(SecureBytes(copying: Array("hunter2".utf8))))
        #expect(!secret.constantTimeEquals(SecureBytes(copying: Array("hunter3".utf8))))
        #expect(!secret.constantTimeEquals(SecureBytes(copying: Array("hunter".utf8))))
    }
}
