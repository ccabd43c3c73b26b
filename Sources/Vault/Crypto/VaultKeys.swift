/// The master key and the subkeys derived from it with crypto_kdf (context "mcpvault").
final class VaultKeys: Sendable {
    let master: SecureBytes
    /// Keys BLAKE2b of a record's name into its id, so file names do not reveal the servers.
    let recordID: SecureBytes
    /// Seals and opens records.
    let recordSealing: SecureBytes

    init(master: SecureBytes) {
        precondition(master.count == 32)
        self.master = master
        recordID = Sodium.deriveSubkey(from: master, id: 1, context: "mcpvault")
        recordSealing = Sodium.deriveSubkey(from: master, id: 2, context: "mcpvault")
    }

    static func generateMasterKey() -> SecureBytes {
        SecureBytes.random(count: 32)
    }
}
