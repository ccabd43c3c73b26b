/// The public parameters of a passphrase slot's Argon2id13 derivation, as stored in the header.
public struct KDFParameters: Codable, Sendable, Equatable {
    public static let algorithmName = "argon2id13"
    /// Caps applied on read, so that a crafted header cannot make mcp-vault burn minutes or gigabytes.
    public static let maximumOpsLimit: UInt64 = 10
    public static let maximumMemLimit: UInt64 = 1 << 30

    public var algorithm: String
    public var opsLimit: UInt64
    public var memLimit: UInt64
    public var salt: String

    enum CodingKeys: String, CodingKey {
        case algorithm
        case opsLimit = "ops_limit"
        case memLimit = "mem_limit"
        case salt
    }

    /// Fresh parameters with a random salt at the given cost.
    public init(cost: PassphraseCost) {
        algorithm = Self.algorithmName
        opsLimit = cost.opsLimit
        memLimit = cost.memLimit
        salt = Encoding.base64(Sodium.randomBytes(Sodium.saltLength))
    }

    /// The salt, after checking every parameter against the algorithm's limits and the caps.
    func validatedSalt() throws(VaultError) -> [UInt8] {
        guard algorithm == Self.algorithmName else {
            throw .kdfParametersOutOfRange(reason: "unknown algorithm '\(algorithm)' (expected \(Self.algorithmName))")
        }
        guard opsLimit >= Sodium.argon2idMinimumOpsLimit, opsLimit <= Self.maximumOpsLimit else {
            throw .kdfParametersOutOfRange(reason: "ops_limit \(opsLimit) is outside \(Sodium.argon2idMinimumOpsLimit)...\(Self.maximumOpsLimit)")
        }
        guard memLimit >= Sodium.argon2idMinimumMemLimit, memLimit <= Self.maximumMemLimit else {
            throw .kdfParametersOutOfRange(reason: "mem_limit \(memLimit) bytes is outside \(Sodium.argon2idMinimumMemLimit)...\(Self.maximumMemLimit)")
        }
        guard let bytes = Encoding.bytes(fromBase64: salt, length: Sodium.saltLength) else {
            throw .kdfParametersOutOfRange(reason: "the salt is not \(Sodium.saltLength) bytes of base64")
        }
        return bytes
    }

    /// The key-encryption key for this slot: Argon2id13 of the passphrase.
    func deriveKey(from passphrase: SecureBytes) throws(VaultError) -> SecureBytes {
        let saltBytes = try validatedSalt()
        guard let key = Sodium.argon2id(passphrase: passphrase, salt: saltBytes, opsLimit: opsLimit, memLimit: memLimit) else {
            throw .kdfOutOfMemory(bytes: memLimit)
        }
        return key
    }
}

/// Argon2id cost presets (libsodium's): what one guess costs an attacker, and what unlocking costs you.
public enum PassphraseCost: String, CaseIterable, Sendable {
    case interactive, moderate, sensitive

    public static let `default` = PassphraseCost.moderate

    var opsLimit: UInt64 {
        switch self {
        case .interactive: Sodium.interactiveCost.ops
        case .moderate: Sodium.moderateCost.ops
        case .sensitive: Sodium.sensitiveCost.ops
        }
    }

    var memLimit: UInt64 {
        switch self {
        case .interactive: Sodium.interactiveCost.mem
        case .moderate: Sodium.moderateCost.mem
        case .sensitive: Sodium.sensitiveCost.mem
        }
    }
}
