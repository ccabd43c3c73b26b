#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `vault.json`: the vault's public header. It holds no secret: the vault id, a key check value
/// and the key slots with their public parameters and wrapped master keys.
public struct VaultHeader: Codable, Sendable, Equatable {
    public static let formatName = "mcp-vault"
    public static let currentVersion = 1
    public static let fileName = "vault.json"
    static let maximumSize = 64 * 1024
    static let vaultIDLength = 16

    public var format: String
    public var version: Int
    public var vaultID: String
    /// Keyed BLAKE2b of a fixed label under the master key: proves a key (from the session cache,
    /// say) is this vault's without decrypting anything.
    public var keyCheck: String
    public var slots: [KeySlot]

    enum CodingKeys: String, CodingKey {
        case format, version
        case vaultID = "vault_id"
        case keyCheck = "key_check"
        case slots
    }

    init(vaultID: String, masterKey: SecureBytes, slots: [KeySlot]) {
        format = Self.formatName
        version = Self.currentVersion
        self.vaultID = vaultID
        keyCheck = Self.keyCheck(for: masterKey, vaultID: vaultID)
        self.slots = slots
    }

    static func keyCheck(for masterKey: SecureBytes, vaultID: String) -> String {
        Encoding.base64(Sodium.keyedHash(Array("mcp-vault/v1/key-check\0\(vaultID)".utf8), key: masterKey))
    }

    public func slot(of type: SlotType) -> KeySlot? {
        slots.first { $0.type == type }
    }

    /// Parses and validates a header. Errors name what is wrong; nothing is trusted before the checks.
    public static func parse(_ bytes: [UInt8]) throws(VaultError) -> VaultHeader {
        let data = Data(bytes)
        // One decode on the usual path (every command reads the header); only when it fails is the
        // preamble read alone, so that a foreign file or another version is named as such.
        let header: VaultHeader
        do {
            header = try JSONDecoder().decode(VaultHeader.self, from: data)
        } catch {
            try checkPreamble(data)
            switch error {
            case let DecodingError.dataCorrupted(context):
                throw .malformedHeader(path: fileName, reason: describe(context))
            case let DecodingError.keyNotFound(key, context):
                throw .malformedHeader(path: fileName, reason: "missing field \"\(key.stringValue)\" at \(path(context))")
            case let DecodingError.typeMismatch(_, context):
                throw .malformedHeader(path: fileName, reason: "wrong type at \(path(context))")
            default:
                throw .malformedHeader(path: fileName, reason: "cannot be decoded")
            }
        }
        try checkVersion(format: header.format, version: header.version)
        try header.validate()
        return header
    }

    /// The "format" and "version" fields alone, for a header that does not decode as this version's.
    private static func checkPreamble(_ data: Data) throws(VaultError) {
        struct Preamble: Decodable { var format: String?; var version: Int? }
        let preamble: Preamble
        do {
            preamble = try JSONDecoder().decode(Preamble.self, from: data)
        } catch {
            throw .malformedHeader(path: fileName, reason: "not a JSON object")
        }
        try checkVersion(format: preamble.format, version: preamble.version)
    }

    private static func checkVersion(format: String?, version: Int?) throws(VaultError) {
        guard format == formatName else {
            throw .malformedHeader(path: fileName, reason: "the \"format\" field is not \"\(formatName)\"")
        }
        guard let version else {
            throw .malformedHeader(path: fileName, reason: "no \"version\" field")
        }
        guard version == currentVersion else {
            throw .unsupportedVersion(found: version, supported: currentVersion)
        }
    }

    private static func path(_ context: DecodingError.Context) -> String {
        let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        return path.isEmpty ? "the top level" : path
    }

    private static func describe(_ context: DecodingError.Context) -> String {
        if context.codingPath.last?.stringValue == "type" {
            return "unknown key slot type at \(path(context)) (this mcp-vault knows \(SlotType.allCases.map(\.rawValue).joined(separator: ", ")))"
        }
        return "invalid value at \(path(context))"
    }

    func validate() throws(VaultError) {
        guard Encoding.bytes(fromHex: vaultID, length: Self.vaultIDLength) != nil else {
            throw .malformedHeader(path: Self.fileName, reason: "vault_id is not \(Self.vaultIDLength * 2) lowercase hex digits")
        }
        guard Encoding.bytes(fromBase64: keyCheck, length: 32) != nil else {
            throw .malformedHeader(path: Self.fileName, reason: "key_check is not 32 bytes of base64")
        }
        guard !slots.isEmpty else {
            throw .malformedHeader(path: Self.fileName, reason: "there are no key slots")
        }
        for slot in slots { try slot.validate() }
        for type in SlotType.allCases where slots.filter({ $0.type == type }).count > 1 {
            throw .malformedHeader(path: Self.fileName, reason: "more than one \(type.displayName) slot")
        }
    }

    /// Canonical bytes: sorted keys, two-space indent, a final newline. parse(serialized()) == self.
    public func serialized() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        // Encoding a value made only of strings and integers cannot fail.
        let data = try! encoder.encode(self)
        return [UInt8](data) + [UInt8(ascii: "\n")]
    }
}
