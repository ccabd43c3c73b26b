/// Creating a vault and managing its key slots. Slots wrap the master key; records are never
/// re-encrypted when slots change.
extension Vault {
    /// Creates a new vault in `directory` with a keyring slot (when `keyring` is given) and a
    /// passphrase slot (when `passphrase` is given). Refuses to touch an existing vault.
    public static func create(
        in directory: VaultDirectory, keyring: SecretServiceKeyring?, passphrase: SecureBytes?, cost: PassphraseCost
    ) throws -> Vault {
        precondition(keyring != nil || passphrase != nil, "a vault needs at least one key slot")
        return try directory.withHeaderLock {
            if try directory.hasHeader() { throw VaultError.alreadyExists(path: directory.path) }
            let masterKey = VaultKeys.generateMasterKey()
            let vaultID = Encoding.hex(Sodium.randomBytes(VaultHeader.vaultIDLength))
            var slots: [KeySlot] = []
            // The passphrase slot first: if it fails, nothing has been stored in the keyring yet.
            if let passphrase {
                slots.append(try makePassphraseSlot(masterKey: masterKey, vaultID: vaultID, passphrase: passphrase, cost: cost))
            }
            var storedKeyringSlot: KeySlot?
            if let keyring {
                let slot = try makeKeyringSlot(masterKey: masterKey, vaultID: vaultID, keyring: keyring)
                storedKeyringSlot = slot
                slots.insert(slot, at: 0)
            }
            let header = VaultHeader(vaultID: vaultID, masterKey: masterKey, slots: slots)
            do {
                try directory.writeHeader(header)
            } catch {
                if let keyring, let slot = storedKeyringSlot { try? keyring.remove(vaultID: vaultID, slotID: slot.id) }
                throw error
            }
            let unlockedBy: UnlockMethod = keyring != nil ? .keyring : .passphrase
            return Vault(directory: directory, header: header, keys: VaultKeys(master: masterKey), unlockedBy: unlockedBy)
        }
    }

    private static func makeKeyringSlot(masterKey: SecureBytes, vaultID: String, keyring: SecretServiceKeyring) throws -> KeySlot {
        let kek = SecureBytes.random(count: 32)
        let slot = KeySlot.wrap(masterKey, under: kek, type: .secretService, kdf: nil, vaultID: vaultID)
        do {
            try keyring.store(kek, vaultID: vaultID, slotID: slot.id)
        } catch {
            throw VaultError.keyring(error)
        }
        return slot
    }

    private static func makePassphraseSlot(masterKey: SecureBytes, vaultID: String, passphrase: SecureBytes, cost: PassphraseCost) throws -> KeySlot {
        guard passphrase.count > 0 else { throw VaultError.emptyPassphrase }
        let kdf = KDFParameters(cost: cost)
        let kek = try kdf.deriveKey(from: passphrase)
        return KeySlot.wrap(masterKey, under: kek, type: .passphrase, kdf: kdf, vaultID: vaultID)
    }

    public func addPassphraseSlot(_ passphrase: SecureBytes, cost: PassphraseCost) throws -> Vault {
        try rewriteHeader { header in
            if header.slot(of: .passphrase) != nil { throw VaultError.slotExists(.passphrase) }
            header.slots.append(try Self.makePassphraseSlot(masterKey: keys.master, vaultID: vaultID, passphrase: passphrase, cost: cost))
        }
    }

    /// Replaces the passphrase slot with one for `passphrase` (fresh salt, `cost`).
    public func changePassphrase(_ passphrase: SecureBytes, cost: PassphraseCost) throws -> Vault {
        try rewriteHeader { header in
            guard let index = header.slots.firstIndex(where: { $0.type == .passphrase }) else {
                throw VaultError.noSuchSlot(.passphrase)
            }
            header.slots[index] = try Self.makePassphraseSlot(masterKey: keys.master, vaultID: vaultID, passphrase: passphrase, cost: cost)
        }
    }

    public func addKeyringSlot(_ keyring: SecretServiceKeyring) throws -> Vault {
        var stored: KeySlot?
        do {
            return try rewriteHeader { header in
                if header.slot(of: .secretService) != nil { throw VaultError.slotExists(.secretService) }
                let slot = try Self.makeKeyringSlot(masterKey: keys.master, vaultID: vaultID, keyring: keyring)
                stored = slot
                header.slots.append(slot)
            }
        } catch {
            // The header was not written: the key just stored would open nothing; take it back.
            if let stored { try? keyring.remove(vaultID: vaultID, slotID: stored.id) }
            throw error
        }
    }

    /// Removes a slot; refuses to remove the last one. For the keyring slot, the keyring item is
    /// deleted too when `keyring` is given; `keyringCleanup` reports whether that worked.
    public func removeSlot(_ type: SlotType, keyring: SecretServiceKeyring?) throws -> (vault: Vault, keyringCleanup: KeyringError?) {
        var removed: KeySlot?
        let vault = try rewriteHeader { header in
            guard let index = header.slots.firstIndex(where: { $0.type == type }) else { throw VaultError.noSuchSlot(type) }
            guard header.slots.count > 1 else { throw VaultError.lastSlot(type) }
            removed = header.slots.remove(at: index)
        }
        var cleanup: KeyringError?
        if type == .secretService, let keyring, let removed {
            do { try keyring.remove(vaultID: vaultID, slotID: removed.id) } catch { cleanup = error }
        }
        return (vault, cleanup)
    }

    /// Applies `change` to the header as it is on disk now, under the header lock, and writes it.
    private func rewriteHeader(_ change: (inout VaultHeader) throws -> Void) throws -> Vault {
        try directory.withHeaderLock {
            var header = try directory.readHeader()
            guard header.vaultID == vaultID, header.keyCheck == self.header.keyCheck else {
                throw VaultError.headerAuthenticationFailed(reason: "vault.json was replaced while mcp-vault was running")
            }
            try change(&header)
            try header.validate()
            try directory.writeHeader(header)
            return Vault(directory: directory, header: header, keys: keys, unlockedBy: unlockedBy)
        }
    }
}
