import Foundation
import Testing
@testable import Vault

@Suite("Header format")
struct HeaderFormatTests {
    @Test func parseThenSerializeGivesBackTheSameBytes() throws {
        let test = try TestVault()
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: test.headerPath)))
        let parsed = try VaultHeader.parse(bytes)
        #expect(parsed == test.vault.header)
        #expect(parsed.serialized() == bytes)
    }

    /// Fuzz-style: random well-formed headers survive serialize → parse → serialize unchanged.
    @Test func randomHeadersRoundTrip() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let master = SecureBytes.random(count: 32)
            let vaultID = Encoding.hex(Sodium.randomBytes(16))
            var slots: [KeySlot] = []
            if Bool.random(using: &generator) {
                slots.append(KeySlot.wrap(master, under: .random(count: 32), type: .secretService, kdf: nil, vaultID: vaultID))
            }
            if slots.isEmpty || Bool.random(using: &generator) {
                var kdf = KDFParameters(cost: PassphraseCost.allCases.randomElement(using: &generator)!)
                kdf.opsLimit = UInt64.random(in: 1...10, using: &generator)
                slots.append(KeySlot.wrap(master, under: .random(count: 32), type: .passphrase, kdf: kdf, vaultID: vaultID))
            }
            let header = VaultHeader(vaultID: vaultID, masterKey: master, slots: slots.shuffled(using: &generator))
            let bytes = header.serialized()
            let parsed = try VaultHeader.parse(bytes)
            #expect(parsed == header)
            #expect(parsed.serialized() == bytes)
        }
    }

    @Test func theHeaderHoldsNoSecret() throws {
        let test = try TestVault()
        let text = try String(contentsOfFile: test.headerPath, encoding: .utf8)
        let master = test.vault.keys.master.withUnsafeBytes { Data($0).base64EncodedString() }
        #expect(!text.contains(master))
        #expect(!text.contains(TestVault.passphrase))
    }
}
