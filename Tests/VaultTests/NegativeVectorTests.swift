import Foundation
import Testing
import TestSupport
@testable import Vault

/// Damaged records: each gives its own clear error, and the other records stay readable.
@Suite("Negative vectors: records")
struct RecordNegativeVectorTests {
    enum Damage: String, CaseIterable, CustomTestStringConvertible {
        case bitInCiphertext, bitInTag, bitInNonce, bitInGeneration, bitInVaultID, bitInRecordID
        case truncatedHeader, truncatedTag, emptyFile, notARecord, unknownVersion
        case renamedToAnotherID, copiedFromAnotherVault

        var testDescription: String { rawValue }

        var expected: String {
            switch self {
            case .bitInCiphertext, .bitInTag, .bitInNonce, .bitInGeneration, .truncatedTag: "recordAuthenticationFailed"
            case .bitInVaultID, .copiedFromAnotherVault: "recordFromAnotherVault"
            case .bitInRecordID, .renamedToAnotherID: "recordRenamed"
            case .truncatedHeader, .emptyFile, .notARecord: "malformedRecord"
            case .unknownVersion: "unsupportedRecordVersion"
            }
        }
    }

    @Test(arguments: Damage.allCases)
    func damagedRecordIsRefusedWithItsOwnError(_ damage: Damage) throws {
        let test = try TestVault()
        try test.vault.write("victim", payload: Array("the victim's payload".utf8))
        try test.vault.write("bystander", payload: Array("untouched".utf8))
        var bytes = try test.bytes("victim")
        switch damage {
        case .bitInCiphertext: bytes[RecordFile.headerLength + 2] ^= 0x01
        case .bitInTag: bytes[bytes.count - 1] ^= 0x80
        case .bitInNonce: bytes[RecordFile.associatedLength + 5] ^= 0x10
        case .bitInGeneration: bytes[63] ^= 0x01
        case .bitInVaultID: bytes[9] ^= 0x04
        case .bitInRecordID: bytes[30] ^= 0x02
        case .truncatedHeader: bytes = Array(bytes.prefix(40))
        case .truncatedTag: bytes = Array(bytes.dropLast(5))
        case .emptyFile: bytes = []
        case .notARecord: bytes = Array("{\"access_token\": \"x\"}".utf8)
        case .unknownVersion: bytes[4] = 2
        case .renamedToAnotherID: bytes = try test.bytes("bystander")
        case .copiedFromAnotherVault:
            let other = try TestVault()
            try other.vault.write("victim", payload: Array("from elsewhere".utf8))
            bytes = try other.bytes("victim")
        }
        try test.setBytes(bytes, "victim")

        let reopened = try test.reopen()
        let mismatch = expectVaultError(damage.expected) { _ = try reopened.read("victim") }
        #expect(mismatch == nil, "expected \(damage.expected), got \(String(describing: mismatch))")
        #expect(try reopened.read("bystander")?.payload == Array("untouched".utf8))
        let listed = try reopened.records()
        #expect(listed.count == 2)
        #expect(listed.filter { (try? $0.record.get()) != nil }.count == 1)
    }

    @Test func aBitFlippedAnywhereInARecordIsDetected() throws {
        let test = try TestVault()
        try test.vault.write("victim", payload: Array("a payload long enough to span a few blocks".utf8))
        let original = try test.bytes("victim")
        let reopened = try test.reopen()
        for offset in original.indices {
            var damaged = original
            damaged[offset] ^= UInt8(1 << (offset % 8))
            try test.setBytes(damaged, "victim")
            #expect(throws: VaultError.self, "bit flipped at byte \(offset)") { _ = try reopened.read("victim") }
        }
        try test.setBytes(original, "victim")
        #expect(try reopened.read("victim") != nil)
    }
}

/// Damaged headers: unlocking fails with a clear error and nothing on disk changes.
@Suite("Negative vectors: header")
struct HeaderNegativeVectorTests {
    @Test func aFlippedBitInTheWrappedKeyIsNotReportedAsAWrongPassphrase() throws {
        let test = try TestVault()
        try test.editHeader { header in
            var slots = header["slots"] as! [[String: Any]]
            var wrapped = Array(Data(base64Encoded: slots[0]["wrapped_key"] as! String)!)
            wrapped[3] ^= 0x01
            slots[0]["wrapped_key"] = Data(wrapped).base64EncodedString()
            header["slots"] = slots
        }
        #expect(expectVaultError("headerAuthenticationFailed") { _ = try test.reopen() } == nil)
    }

    @Test func anEditedKeyCheckIsRefused() throws {
        let test = try TestVault()
        try test.editHeader { header in
            var check = Array(Data(base64Encoded: header["key_check"] as! String)!)
            check[0] ^= 0x01
            header["key_check"] = Data(check).base64EncodedString()
        }
        #expect(expectVaultError("headerAuthenticationFailed") { _ = try test.reopen() } == nil)
    }

    @Test func anUnknownFormatVersionIsRefused() throws {
        let test = try TestVault()
        try test.editHeader { $0["version"] = 2 }
        let error = try #require(throws: VaultError.self) { _ = try test.reopen() }
        guard case .unsupportedVersion(let found, let supported) = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(found == 2 && supported == 1)
    }

    @Test(arguments: [("mem_limit", UInt64(4) << 30), ("ops_limit", UInt64(1000)), ("mem_limit", UInt64(1024)), ("ops_limit", UInt64(0))])
    func kdfParametersOutsideTheCapsAreRefusedBeforeAnyWork(field: String, value: UInt64) throws {
        let test = try TestVault()
        try test.editHeader { header in
            var slots = header["slots"] as! [[String: Any]]
            var kdf = slots[0]["kdf"] as! [String: Any]
            kdf[field] = value
            slots[0]["kdf"] = kdf
            header["slots"] = slots
        }
        let error = try #require(throws: VaultError.self) { _ = try test.reopen() }
        #expect(error.kind == "kdfParametersOutOfRange")
        #expect(error.description.contains(field))
    }

    @Test(arguments: ["{", "[]", "{\"format\":\"mcp-vault\"}", "{\"format\":\"other\",\"version\":1}",
                      "{\"format\":\"mcp-vault\",\"version\":1,\"vault_id\":\"zz\",\"key_check\":\"\",\"slots\":[]}"])
    func malformedHeadersAreRefused(_ text: String) throws {
        let test = try TestVault()
        try Data(text.utf8).write(to: URL(fileURLWithPath: test.headerPath))
        let error = try #require(throws: VaultError.self) { _ = try test.reopen() }
        #expect(error.kind == "malformedHeader", "\(error)")
    }

    @Test func anUnknownSlotTypeIsNamed() throws {
        let test = try TestVault()
        try test.editHeader { header in
            var slots = header["slots"] as! [[String: Any]]
            slots[0]["type"] = "tpm2"
            header["slots"] = slots
        }
        let error = try #require(throws: VaultError.self) { _ = try test.reopen() }
        #expect(error.description.contains("unknown key slot type"))
    }

    @Test func aWrongPassphraseChangesNothingOnDisk() throws {
        let test = try TestVault()
        try test.vault.write("a", payload: [1])
        let before = try snapshot(test.path)
        let error = try #require(throws: VaultError.self) { _ = try test.reopen(TestVault.sources(passphrase: "not it")) }
        #expect(error.kind == "wrongPassphrase")
        #expect(try snapshot(test.path) == before)
    }

    private func snapshot(_ path: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.subpathsOfDirectory(atPath: path) where !name.hasPrefix("locks") {
            files[name] = FileManager.default.contents(atPath: path + "/" + name)
        }
        return files
    }
}
