#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Vault

/// A secret that is not an OAuth token (`mcp-vault secret set NAME`): an API key, a static
/// token, a database URL with its password. Sealed as a record of its own, named
/// `secret:NAME` in the vault, so that the name, like a server URL, never shows on disk.
/// Its `description` is redacted.
public struct SecretRecord: Codable, Sendable, Equatable, CustomStringConvertible {
    public static let currentSchema = 1
    public static let kind = "secret"

    public var schema: Int
    /// Always "secret": what tells this record from a server's credentials.
    public var kind: String
    public var name: String
    public var value: String
    /// Unix seconds.
    public var createdAt: Int64
    public var updatedAt: Int64

    enum CodingKeys: String, CodingKey {
        case schema, kind, name, value, createdAt = "created_at", updatedAt = "updated_at"
    }

    public init(name: String, value: String, now: Int64) {
        schema = Self.currentSchema
        kind = Self.kind
        self.name = name
        self.value = value
        createdAt = now
        updatedAt = now
    }

    public var description: String { "SecretRecord(\(name), value redacted)" }

    /// The record name in the vault for the secret `name`.
    public static func recordName(_ name: String) -> String { "secret:" + name }

    /// A secret's name: 1 to 128 letters, digits, '.', '_', '-' or '/', starting with a letter
    /// or digit (`setup` names them ENTRY/VARIABLE).
    public static func isValidName(_ text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        guard (1...128).contains(scalars.count), let first = scalars.first,
              ("a"..."z").contains(first) || ("A"..."Z").contains(first) || ("0"..."9").contains(first) else { return false }
        return scalars.allSatisfy { scalar in
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || ".-_/".unicodeScalars.contains(scalar)
        }
    }

    public static func validate(_ name: String) throws(CredentialsError) {
        guard isValidName(name) else { throw .invalidSecretName(name) }
    }

    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return [UInt8](try! encoder.encode(self))  // strings and integers always encode
    }

    public static func decode(_ payload: [UInt8], id: String) throws(CredentialsError) -> SecretRecord {
        guard let record = try? JSONDecoder().decode(SecretRecord.self, from: Data(payload)), record.kind == kind else {
            throw .malformedCredential(id: id, reason: "its JSON does not match the secret schema")
        }
        guard record.schema == currentSchema else {
            throw .malformedCredential(id: id, reason: "schema \(record.schema) is not \(currentSchema)")
        }
        return record
    }
}

/// What a vault record holds, told apart without decoding it whole.
public enum StoredRecord {
    public enum Kind: Sendable, Equatable {
        case credential
        case secret
    }

    private struct Probe: Decodable { let kind: String? }

    /// A record with `"kind": "secret"` is a secret; anything else is read as a credential
    /// (records written before secrets existed have no kind).
    public static func kind(of payload: [UInt8]) -> Kind {
        (try? JSONDecoder().decode(Probe.self, from: Data(payload)))?.kind == SecretRecord.kind ? .secret : .credential
    }

    /// Every record that is a server's credentials, each opened on its own (a damaged one is a
    /// failure in its place); secrets are left out.
    public static func credentials(in vault: Vault) throws(VaultError) -> [(id: String, record: Result<CredentialRecord, any Error>)] {
        try vault.records().compactMap { id, result in
            switch result {
            case .failure(let error): return (id, .failure(error))
            case .success(let record):
                if kind(of: record.payload) == .secret { return nil }
                return (id, Result { try CredentialRecord.decode(record.payload, id: id) })
            }
        }
    }

    /// Every secret, sorted by name; records that cannot be opened are not secrets one can tell.
    public static func secrets(in vault: Vault) throws(VaultError) -> [SecretRecord] {
        try vault.records().compactMap { id, result in
            guard let record = try? result.get(), kind(of: record.payload) == .secret else { return nil }
            return try? SecretRecord.decode(record.payload, id: id)
        }.sorted { $0.name < $1.name }
    }

    /// Seals `value` as the secret `name` (keeping when it was first set); whether it replaced a
    /// value. The same value again writes nothing.
    @discardableResult
    public static func storeSecret(_ name: String, value: String, in vault: Vault) throws -> Bool {
        var replaced = false
        let now = Int64(Date().timeIntervalSince1970)
        try vault.update(SecretRecord.recordName(name)) { current in
            var record = SecretRecord(name: name, value: value, now: now)
            if let current, let old = try? SecretRecord.decode(current.payload, id: current.id) {
                replaced = true
                if old.value == value { return .keep }
                record.createdAt = old.createdAt
            }
            return .write(record.encoded())
        }
        return replaced
    }

    /// The secret `name`, or a refusal naming the closest stored one.
    public static func secret(_ name: String, in vault: Vault) throws -> SecretRecord {
        try SecretRecord.validate(name)
        guard let record = try vault.read(SecretRecord.recordName(name)) else {
            let names = (try? secrets(in: vault).map(\.name)) ?? []
            throw CredentialsError.noSecret(name, closest: Nearest.match(name, among: names))
        }
        return try SecretRecord.decode(record.payload, id: record.id)
    }
}
