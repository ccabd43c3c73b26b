import Logging
import Vault

/// How a command reaches the vault: where it is and how it may be unlocked.
public struct VaultAccess: Sendable {
    public let path: String
    public let sources: UnlockSources
    public let logger: Logger

    public init(path: String, sources: UnlockSources, logger: Logger) {
        self.path = path
        self.sources = sources
        self.logger = logger
    }

    /// Opens the directory after its checks and (unless `cleanUp` is false, as for a dry run)
    /// removes temporary files abandoned by killed writers.
    public func openDirectory(create: Bool = false, cleanUp: Bool = true) throws -> VaultDirectory {
        let directory = try VaultDirectory.open(at: path, create: create)
        if cleanUp { try directory.removeAbandonedTemporaryFiles() }
        return directory
    }

    /// Unlocks the vault; the first time a version that names records by today's canonical URLs
    /// opens it, renames the records an earlier version named otherwise (`RecordNames`).
    /// (`upgrade: false`: as the test tool opens it, to write records as an earlier version did.)
    public func unlock(cleanUp: Bool = true, upgrade: Bool = true) throws -> Vault {
        let vault = try VaultUnlocker.unlock(try openDirectory(cleanUp: cleanUp), sources: sources, logger: logger)
        if cleanUp && upgrade { RecordNames.upgradeIfNeeded(vault, logger: logger) }
        return vault
    }

    /// Stores a credential under its server URL (and account).
    public static func store(_ record: CredentialRecord, in vault: Vault) throws {
        try vault.write(try record.server().recordName, payload: record.encoded())
    }

    /// The credential stored for `server`, if any.
    public static func credential(for server: ServerURL, in vault: Vault) throws -> CredentialRecord? {
        guard let record = try vault.read(server.recordName) else { return nil }
        return try CredentialRecord.decode(record.payload, id: record.id)
    }
}
