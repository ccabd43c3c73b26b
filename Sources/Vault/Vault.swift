/// How an open vault was unlocked.
public enum UnlockMethod: String, Sendable, Codable, CaseIterable {
    case sessionCache = "session-cache"
    case keyring
    case passphrase

    public var displayName: String {
        switch self {
        case .sessionCache: "session cache"
        case .keyring: "keyring"
        case .passphrase: "passphrase"
        }
    }
}

/// One decrypted record. `payload` is whatever the caller sealed (mcp-vault stores JSON).
public struct Record: Sendable {
    public let id: String
    public let generation: UInt64
    public let payload: [UInt8]
}

/// What `Vault.update` should do with a record after reading it under its lock.
public enum RecordChange: Sendable {
    case keep
    case write([UInt8])
    case delete
}

/// An unlocked vault: reads and writes sealed records. Record names (mcp-vault uses the canonical
/// server URL) are turned into ids with keyed BLAKE2b, so file names reveal nothing.
public final class Vault: Sendable {
    public let directory: VaultDirectory
    public let header: VaultHeader
    public let unlockedBy: UnlockMethod
    let keys: VaultKeys
    private let vaultIDBytes: [UInt8]

    init(directory: VaultDirectory, header: VaultHeader, keys: VaultKeys, unlockedBy: UnlockMethod) {
        self.directory = directory
        self.header = header
        self.keys = keys
        self.unlockedBy = unlockedBy
        vaultIDBytes = Encoding.bytes(fromHex: header.vaultID, length: VaultHeader.vaultIDLength)!
    }

    public var vaultID: String { header.vaultID }

    public func recordID(for name: String) -> String {
        Encoding.hex(Sodium.keyedHash(Array(name.utf8), key: keys.recordID, length: RecordFile.recordIDLength))
    }

    public func read(_ name: String) throws(VaultError) -> Record? {
        try read(id: recordID(for: name))
    }

    public func read(id: String) throws(VaultError) -> Record? {
        guard let bytes = try directory.readRecordFile(id) else { return nil }
        let opened = try RecordFile.open(bytes, id: id, vaultID: vaultIDBytes, key: keys.recordSealing)
        return Record(id: id, generation: opened.generation, payload: opened.payload.withUnsafeBytes { Array($0) })
    }

    /// Seals `payload` as the record `name`, replacing what was there.
    @discardableResult
    public func write(_ name: String, payload: [UInt8]) throws -> Record? {
        try update(name) { _ in .write(payload) }
    }

    /// Read-modify-write under the record's lock: `body` sees the current record (nil when there
    /// is none) and says what to do. Returns the record as it is afterwards.
    ///
    /// A written record is durable when this returns. For many writes in a row, pass
    /// `durable: false` and call `makeDurable()` once after them: each write is still atomic
    /// (the old or the new record, never a torn one), but only `makeDurable()` guarantees that a
    /// power loss keeps the new ones.
    @discardableResult
    public func update(_ name: String, durable: Bool = true, _ body: (Record?) throws -> RecordChange) throws -> Record? {
        let id = recordID(for: name)
        return try directory.withRecordLock(id) {
            let current = try read(id: id)
            switch try body(current) {
            case .keep:
                return current
            case .delete:
                try directory.removeRecordFile(id)
                return nil
            case .write(let payload):
                let generation = (current?.generation ?? 0) + 1
                let bytes = RecordFile.seal(payload, recordID: Encoding.bytes(fromHex: id, length: RecordFile.recordIDLength)!,
                                            generation: generation, vaultID: vaultIDBytes, key: keys.recordSealing)
                try directory.writeRecordFile(id, bytes: bytes, synchronizeDirectory: durable)
                return Record(id: id, generation: generation, payload: payload)
            }
        }
    }

    /// Makes every write made with `durable: false` durable (one fsync of records/).
    public func makeDurable() throws(VaultError) {
        try directory.synchronizeRecords()
    }

    /// Removes the record `name` without reading it (so a damaged record can be removed too).
    @discardableResult
    public func delete(_ name: String) throws -> Bool {
        try delete(id: recordID(for: name))
    }

    @discardableResult
    public func delete(id: String) throws -> Bool {
        try directory.withRecordLock(id) { try directory.removeRecordFile(id) }
    }

    /// Every record by id, each opened on its own: one damaged record does not hide the others.
    public func records() throws(VaultError) -> [(id: String, record: Result<Record, VaultError>)] {
        try directory.recordIDs().compactMap { id in
            do throws(VaultError) {
                // A record removed by another process since the listing is simply gone.
                return try read(id: id).map { (id, .success($0)) }
            } catch {
                return (id, .failure(error))
            }
        }
    }
}
