import Testing
import TestSupport
@testable import Vault

@Suite("Key slots")
struct SlotTests {
    @Test func changingThePassphraseKeepsRecordsAndRetiresTheOldOne() throws {
        let test = try TestVault()
        try test.vault.write("a", payload: [42])
        let recordBefore = try test.bytes("a")
        _ = try test.vault.changePassphrase(TestVault.secret("a new passphrase"), cost: .interactive)
        #expect(try test.reopen(TestVault.sources(passphrase: "a new passphrase")).read("a")?.payload == [42])
        let error = try #require(throws: VaultError.self) { _ = try test.reopen() }
        #expect(error.kind == "wrongPassphrase")
        #expect(try test.bytes("a") == recordBefore, "records are not re-encrypted when a slot changes")
    }

    @Test func theLastSlotCannotBeRemoved() throws {
        let test = try TestVault()
        let error = try #require(throws: VaultError.self) { _ = try test.vault.removeSlot(.passphrase, keyring: nil) }
        #expect(error.kind == "lastSlot")
        #expect(try test.reopen().header.slots.count == 1)
    }

    @Test func aSecondPassphraseSlotIsRefused() throws {
        let test = try TestVault()
        let error = try #require(throws: VaultError.self) { _ = try test.vault.addPassphraseSlot(TestVault.secret("x"), cost: .interactive) }
        #expect(error.kind == "slotExists")
    }

    @Test(.enabled(if: TestBed.hasKeyring, "needs the test bed's keyring (scripts/test)"))
    func keyringSlotsComeAndGoWithoutTouchingRecords() throws {
        let keyring = SecretServiceKeyring(timeout: 5)
        let test = try TestVault()
        try test.vault.write("a", payload: [9])
        let withKeyring = try test.vault.addKeyringSlot(keyring)
        #expect(try test.reopen(TestVault.sources(passphrase: nil, keyring: keyring)).read("a")?.payload == [9])
        let (withoutKeyring, cleanup) = try withKeyring.removeSlot(.secretService, keyring: keyring)
        #expect(cleanup == nil)
        #expect(withoutKeyring.header.slot(of: .secretService) == nil)
        let slot = try #require(withKeyring.header.slot(of: .secretService))
        #expect(throws: KeyringError.itemMissing) { _ = try keyring.lookup(vaultID: test.vault.vaultID, slotID: slot.id) }
        #expect(try test.reopen().read("a")?.payload == [9])
    }

    @Test func theSessionCacheUnlocksUntilItIsDropped() throws {
        let test = try TestVault()
        try SessionKeyCache.store(test.vault, seconds: 60)
        defer { _ = try? SessionKeyCache.remove(vaultID: test.vault.vaultID) }
        let cached = try test.reopen(TestVault.sources(passphrase: nil).withSessionCache())
        #expect(cached.unlockedBy == .sessionCache)
        #expect(try SessionKeyCache.remove(vaultID: test.vault.vaultID))
        let error = try #require(throws: VaultError.self) { _ = try test.reopen(TestVault.sources(passphrase: nil).withSessionCache()) }
        #expect(error.kind == "locked")
    }
}

extension UnlockSources {
    func withSessionCache() -> UnlockSources {
        var copy = self
        copy.sessionCache = true
        return copy
    }
}
