/// The kinds of key slot a vault header can hold.
public enum SlotType: String, Codable, Sendable, CaseIterable {
    case secretService = "secret-service"
    case passphrase

    public var displayName: String {
        switch self {
        case .secretService: "keyring"
        case .passphrase: "passphrase"
        }
    }
}

/// One key slot: the master key wrapped under a key-encryption key (KEK).
/// For a secret-service slot the KEK is a random key kept in the desktop keyring; for a passphrase
/// slot it is Argon2id of the passphrase with the parameters stored here.
public struct KeySlot: Codable, Sendable, Equatable {
    public var id: String
    public var type: SlotType
    public var kdf: KDFParameters?
    public var nonce: String
    public var wrappedKey: String
    /// Keyed BLAKE2b of a fixed label under the KEK: tells a wrong passphrase (or keyring key)
    /// apart from a wrapped key that was modified. It reveals no more than the wrapped key does:
    /// testing a guess against it costs the same Argon2id run.
    public var kekCheck: String

    enum CodingKeys: String, CodingKey {
        case id, type, kdf, nonce
        case wrappedKey = "wrapped_key"
        case kekCheck = "kek_check"
    }

    static let idLength = 8

    /// Wraps `masterKey` under `kek` into a new slot bound to `vaultID`.
    static func wrap(_ masterKey: SecureBytes, under kek: SecureBytes, type: SlotType, kdf: KDFParameters?, vaultID: String) -> KeySlot {
        var slot = KeySlot(id: Encoding.hex(Sodium.randomBytes(idLength)), type: type, kdf: kdf, nonce: "", wrappedKey: "",
                           kekCheck: checkValue(for: kek))
        let sealed = Sodium.seal(masterKey, key: kek, associatedData: slot.associatedData(vaultID: vaultID))
        slot.nonce = Encoding.base64(sealed.nonce)
        slot.wrappedKey = Encoding.base64(sealed.ciphertext)
        return slot
    }

    static func checkValue(for kek: SecureBytes) -> String {
        Encoding.base64(Sodium.keyedHash(Array("mcp-vault/v1/kek-check".utf8), key: kek))
    }

    /// Whether `kek` is the key this slot was made with.
    func matches(_ kek: SecureBytes) -> Bool {
        Self.checkValue(for: kek) == kekCheck
    }

    /// The master key, or nil when `kek` is not this slot's key (or the slot was edited).
    func unwrap(with kek: SecureBytes, vaultID: String) -> SecureBytes? {
        guard let nonceBytes = Encoding.bytes(fromBase64: nonce, length: Sodium.nonceLength),
              let sealed = Encoding.bytes(fromBase64: wrappedKey, length: 32 + Sodium.tagLength)
        else { return nil }
        return Sodium.open(sealed, nonce: nonceBytes, key: kek, associatedData: associatedData(vaultID: vaultID))
    }

    /// Binds the wrapped key to the format version, the vault, this slot and its KDF parameters.
    func associatedData(vaultID: String) -> [UInt8] {
        var data = Array("mcp-vault/v\(VaultHeader.currentVersion)/slot\0".utf8)
        data += Array(vaultID.utf8) + [0] + Array(type.rawValue.utf8) + [0] + Array(id.utf8) + [0]
        if let kdf {
            data += Array(kdf.algorithm.utf8) + [0] + Encoding.bigEndian(kdf.opsLimit) + Encoding.bigEndian(kdf.memLimit)
            data += Array(kdf.salt.utf8)
        }
        return data
    }

    /// Checks the fields' shapes (not their authenticity, which unwrapping proves).
    func validate() throws(VaultError) -> Void {
        let path = VaultHeader.fileName
        guard Encoding.bytes(fromHex: id, length: Self.idLength) != nil else {
            throw .malformedHeader(path: path, reason: "slot id '\(id)' is not \(Self.idLength * 2) hex digits")
        }
        guard Encoding.bytes(fromBase64: nonce, length: Sodium.nonceLength) != nil else {
            throw .malformedHeader(path: path, reason: "slot \(id) has a nonce that is not \(Sodium.nonceLength) bytes of base64")
        }
        guard Encoding.bytes(fromBase64: wrappedKey, length: 32 + Sodium.tagLength) != nil else {
            throw .malformedHeader(path: path, reason: "slot \(id) has a wrapped key that is not \(32 + Sodium.tagLength) bytes of base64")
        }
        guard Encoding.bytes(fromBase64: kekCheck, length: 32) != nil else {
            throw .malformedHeader(path: path, reason: "slot \(id) has a kek_check that is not 32 bytes of base64")
        }
        switch type {
        case .passphrase:
            guard let kdf else { throw .malformedHeader(path: path, reason: "passphrase slot \(id) has no kdf parameters") }
            _ = try kdf.validatedSalt()
        case .secretService:
            guard kdf == nil else { throw .malformedHeader(path: path, reason: "keyring slot \(id) has kdf parameters") }
        }
    }
}
