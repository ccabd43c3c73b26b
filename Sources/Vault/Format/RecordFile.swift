/// The on-disk form of one sealed record, `records/<id>.sealed`:
///
///     offset  size  field
///          0     4  magic "MCPV"
///          4     1  format version (1)
///          5     1  kind 'R'
///          6     2  reserved, zero
///          8    16  vault id
///         24    32  record id
///         56     8  generation, big-endian
///         64    24  XChaCha20 nonce
///         88     …  XChaCha20-Poly1305 ciphertext of the payload, with its 16-byte tag
///
/// The associated data is bytes 0..<64, so the ciphertext is bound to the version, the vault,
/// the record id and the generation: a record moved, copied or edited anywhere fails to open.
/// Vault and record ids sit in the clear only to make those failures name their cause.
enum RecordFile {
    static let version: UInt8 = 1
    static let magic = Array("MCPV".utf8)
    static let kind = UInt8(ascii: "R")
    static let associatedLength = 64
    static let headerLength = associatedLength + 24
    static let recordIDLength = 32
    static let maximumSize = 1 << 20
    static let fileSuffix = ".sealed"

    /// The sealed file; a record that would be larger than every reader accepts is refused here,
    /// before anything is written.
    static func seal(_ payload: [UInt8], recordID: [UInt8], generation: UInt64, vaultID: [UInt8], key: SecureBytes) throws(VaultError) -> [UInt8] {
        let size = headerLength + payload.count + Sodium.tagLength
        guard size <= maximumSize else { throw .recordTooLarge(size: size, limit: maximumSize) }
        var header = magic + [version, kind, 0, 0]
        header += vaultID + recordID + Encoding.bigEndian(generation)
        let sealed = Sodium.seal(payload, key: key, associatedData: header)
        return header + sealed.nonce + sealed.ciphertext
    }

    struct Opened {
        let generation: UInt64
        let payload: SecureBytes
    }

    /// Opens a record file read from `records/<id>.sealed`; every failure names its cause.
    static func open(_ bytes: [UInt8], id: String, vaultID: [UInt8], key: SecureBytes) throws(VaultError) -> Opened {
        try checkStructure(bytes, id: id, vaultID: vaultID)
        let generation = Encoding.uint64(bigEndian: bytes[56..<64])
        let nonce = Array(bytes[associatedLength..<headerLength])
        guard let payload = Sodium.open(Array(bytes[headerLength...]), nonce: nonce, key: key,
                                        associatedData: Array(bytes[0..<associatedLength])) else {
            throw .recordAuthenticationFailed(id: id)
        }
        return Opened(generation: generation, payload: payload)
    }

    /// Every check that needs no key: magic, version, length, vault id, record id.
    static func checkStructure(_ bytes: [UInt8], id: String, vaultID: [UInt8]) throws(VaultError) {
        guard bytes.count >= 6, Array(bytes[0..<4]) == magic, bytes[5] == kind else {
            throw .malformedRecord(id: id, reason: bytes.count < 6 ? "the file is truncated" : "not an mcp-vault record")
        }
        guard bytes[4] == version else { throw .unsupportedRecordVersion(id: id, found: Int(bytes[4])) }
        guard bytes.count >= headerLength + Sodium.tagLength else {
            throw .malformedRecord(id: id, reason: "the file is truncated (\(bytes.count) bytes)")
        }
        let storedVault = Array(bytes[8..<24])
        guard storedVault == vaultID else {
            throw .recordFromAnotherVault(id: id, vaultID: Encoding.hex(storedVault))
        }
        let storedID = Encoding.hex(bytes[24..<56])
        guard storedID == id else { throw .recordRenamed(id: id, holds: storedID) }
    }

    /// Whether a directory entry is named like a record file (`<64 hex>.sealed`).
    static func isRecordFileName(_ name: String) -> Bool {
        name.hasSuffix(fileSuffix) && Encoding.bytes(fromHex: String(name.dropLast(fileSuffix.count)), length: recordIDLength) != nil
    }
}
