/// The session cache: a vault's master key held in the user's kernel keyring for a limited
/// time after `mcp-vault unlock`, so that commands in that window need neither the desktop
/// keyring nor the passphrase.
public enum SessionKeyCache {
    static func keyDescription(vaultID: String) -> String { "mcp-vault:master-key:\(vaultID)" }

    /// Caches the vault's master key for `seconds`.
    public static func store(_ vault: Vault, seconds: UInt32) throws(VaultError) {
        do {
            try KernelKeyring.store(vault.keys.master, description: keyDescription(vaultID: vault.vaultID), timeout: seconds)
        } catch {
            throw .sessionCache(error)
        }
    }

    /// The cached master key, when there is one.
    static func load(vaultID: String) throws(KernelKeyringError) -> SecureBytes? {
        try KernelKeyring.load(description: keyDescription(vaultID: vaultID), length: 32)
    }

    /// Drops the cached key at once. Returns whether there was one.
    @discardableResult
    public static func remove(vaultID: String) throws(VaultError) -> Bool {
        do {
            return try KernelKeyring.remove(description: keyDescription(vaultID: vaultID))
        } catch {
            throw .sessionCache(error)
        }
    }

    public static func isCached(vaultID: String) -> Bool {
        (try? KernelKeyring.contains(description: keyDescription(vaultID: vaultID))) ?? false
    }

    /// Whether the cache holds this vault's master key (checked against the header's key check).
    public static func holdsKey(for header: VaultHeader) -> Bool {
        guard let key = try? load(vaultID: header.vaultID) else { return false }
        return VaultHeader.keyCheck(for: key, vaultID: header.vaultID) == header.keyCheck
    }

    /// Checks that the kernel keyring can hold, return and drop a key here.
    public static func selfTest() throws(VaultError) {
        do {
            try KernelKeyring.selfTest()
        } catch {
            throw .sessionCache(error)
        }
    }
}
