import Logging
import Vault

/// Upgrades from earlier versions: a record is named by the canonical form of its server URL,
/// and those rules have changed (percent-encoding, empty queries, trailing slashes), so a record
/// written before may sit under a name that is no longer its URL's canonical one, where `token
/// URL` would not find it. Opening a vault renames such records once (SECURITY.md, "Record ids
/// and canonical server URLs"), then leaves a marker so that later opens cost one stat.
public enum RecordNames {
    /// The marker file in the vault directory: every record has been checked.
    public static let marker = "records-canonical-2"

    public struct Renamed: Sendable, Equatable {
        public let from: String
        public let to: String
        /// The path of the file set aside when two records came to have one name.
        public let setAside: String?
    }

    /// Renames every record whose id is not that of its canonical URL (and account), unless the
    /// marker says it was done. Returns what it renamed.
    @discardableResult
    public static func upgradeIfNeeded(_ vault: Vault, logger: Logger) -> [Renamed] {
        guard !vault.directory.hasMarker(marker) else { return [] }
        do {
            let renamed = try upgrade(vault, logger: logger)
            try? vault.directory.setMarker(marker)
            return renamed
        } catch {
            // A read-only vault, say: looked at again at the next open.
            logger.warning("records named by earlier rules could not be renamed (\(error)); trying again next time")
            return []
        }
    }

    static func upgrade(_ vault: Vault, logger: Logger) throws -> [Renamed] {
        var renamed: [Renamed] = []
        for (id, result) in try StoredRecord.credentials(in: vault) {
            guard let record = try? result.get(), let server = try? record.server() else { continue }
            let name = server.recordName
            guard vault.recordID(for: name) != id else { continue }
            let outcome = try vault.move(id: id, toName: name) { payload in
                guard var moved = try? CredentialRecord.decode(payload, id: id) else { return payload }
                moved.serverURL = server.canonical
                return moved.encoded()
            }
            switch outcome {
            case .moved:
                logger.info("record \(id) (\(record.serverURL)) renamed to the canonical name of \(server)")
                renamed.append(Renamed(from: record.serverURL, to: server.description, setAside: nil))
            case .merged(let path):
                logger.warning("two records came to name \(server); the newer is kept, the other set aside as \(path)")
                renamed.append(Renamed(from: record.serverURL, to: server.description, setAside: path))
            case .gone:
                continue
            }
        }
        return renamed
    }
}
