#if canImport(Glibc)
import Glibc
#endif
/// How an open vault was unlocked.
public enum UnlockMethod: String, Sendable, Codable, CaseIterable {
    case sessionCache = "session-cache"
    case keyring
    case passphrase
    /// Handed over by the mcp-vault that started this program.
    case handover

    public var displayName: String {
        switch self {
        case .handover: "key handed over by mcp-vault"
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
    /// The generation a rewrite of a record gets. The largest one (a crafted record's, never
    /// reached by counting) cannot be followed: the record can only be removed.
    static func nextGeneration(after current: UInt64?, id: String) throws(VaultError) -> UInt64 {
        guard let current else { return 1 }
        guard current < UInt64.max else {
            throw .malformedRecord(id: id, reason: "its generation is the largest there is, so it cannot be rewritten; remove it with `mcp-vault logout` and sign in again")
        }
        return current + 1
    }

    public let directory: VaultDirectory
    public let header: VaultHeader
    public let unlockedBy: UnlockMethod
    let keys: VaultKeys
    fileprivate let vaultIDBytes: [UInt8]

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
    ///
    /// With `replacingDamaged`, a record that cannot be opened (damaged, oversized, of an unknown
    /// version, not a regular file) reaches `body` as nil, so that it can be replaced or removed;
    /// otherwise its error is thrown.
    @discardableResult
    public func update(_ name: String, durable: Bool = true, replacingDamaged: Bool = false,
                       _ body: (Record?) throws -> RecordChange) throws -> Record? {
        let id = recordID(for: name)
        return try directory.withRecordLock(id) {
            let current = try readForUpdate(id: id, tolerateDamage: replacingDamaged).record
            switch try body(current) {
            case .keep:
                return current
            case .delete:
                try directory.removeRecordFile(id)
                return nil
            case .write(let payload):
                let generation = try Self.nextGeneration(after: current?.generation, id: id)
                let bytes = try RecordFile.seal(payload, recordID: Encoding.bytes(fromHex: id, length: RecordFile.recordIDLength)!,
                                                generation: generation, vaultID: vaultIDBytes, key: keys.recordSealing)
                try directory.writeRecordFile(id, bytes: bytes, synchronizeDirectory: durable)
                return Record(id: id, generation: generation, payload: payload)
            }
        }
    }

    /// Throws unless a new version of record `name` could be written now: the file system is
    /// writable and has room for the largest record (checked by reserving that much, then giving
    /// it back). For work that must not start when its result cannot be kept (a login).
    public func checkWritable(_ name: String) throws {
        try directory.checkWritable(recordID: recordID(for: name))
    }

    /// Puts the master key in a pipe for the program this process is about to exec (which reads it
    /// with `UnlockSources.handedOverKey`), so that it need not unlock again. Returns the
    /// descriptor to pass on.
    public func handOverKey() throws -> Int32 {
        do {
            return try SystemCalls.pipeHolding(keys.master)
        } catch let error as SystemCallError {
            throw VaultError.system(error)
        }
    }

    /// Overwrites the keys in memory with zeros: this vault cannot be used afterwards. For a
    /// process about to exec another program (`mcp-vault run`), which must not carry them.
    public func wipeKeys() {
        keys.master.wipe()
        keys.recordID.wipe()
        keys.recordSealing.wipe()
    }

    /// Makes every write made with `durable: false` durable (one fsync of records/).
    public func makeDurable() throws(VaultError) {
        try directory.synchronizeRecords()
    }

    /// Holds the record's lock while `body` runs, which may await (a refresh over the network):
    /// no other process reads-modifies-writes the record meanwhile. `body` gets the record as it
    /// is once the lock is held, and a handle to replace or remove it.
    ///
    /// With `tolerateDamage`, a record that cannot be opened comes as `current == nil` with the
    /// reason in `damage` (so that it can be removed); otherwise its error is thrown.
    public func withLockedRecord<R>(_ name: String, tolerateDamage: Bool = false, _ body: (LockedRecord) async throws -> R) async throws -> R {
        let id = recordID(for: name)
        return try await directory.withRecordLock(id) {
            let (current, damage) = try readForUpdate(id: id, tolerateDamage: tolerateDamage)
            return try await body(LockedRecord(vault: self, id: id, current: current, damage: damage))
        }
    }

    /// The record, or (with `tolerateDamage`) nil and why it cannot be opened.
    private func readForUpdate(id: String, tolerateDamage: Bool) throws(VaultError) -> (record: Record?, damage: VaultError?) {
        do {
            return (try read(id: id), nil)
        } catch let error where tolerateDamage && error.isDamagedRecord {
            return (nil, error)
        }
    }

    /// A record whose lock is held (see `withLockedRecord`).
    public struct LockedRecord: Sendable {
        let vault: Vault
        let id: String
        public let current: Record?
        /// Why the record there cannot be opened (only with `tolerateDamage`).
        public let damage: VaultError?

        /// Seals `payload` in place of the current record; durable when this returns.
        public func write(_ payload: [UInt8]) throws {
            try vault.directory.writeRecordFile(id, bytes: try sealed(payload))
        }

        /// `payload` sealed as the next generation of this record.
        func sealed(_ payload: [UInt8]) throws(VaultError) -> [UInt8] {
            try RecordFile.seal(payload, recordID: Encoding.bytes(fromHex: id, length: RecordFile.recordIDLength)!,
                            generation: try Vault.nextGeneration(after: current?.generation, id: id), vaultID: vault.vaultIDBytes,
                            key: vault.keys.recordSealing)
        }

        public func delete() throws {
            try vault.directory.removeRecordFile(id)
        }

        /// Sets aside the disk space for the next version of this record, before the work that
        /// produces it (a refresh, whose answer must be written once the server has sent it).
        /// Room for at least four times the current record, 64 KiB at least, at most the 1 MiB cap.
        public func reserve() throws -> Reservation {
            let current = self.current.map { RecordFile.headerLength + $0.payload.count + Sodium.tagLength } ?? 0
            let capacity = min(RecordFile.maximumSize, max(64 * 1024, current * 4))
            return Reservation(record: self, file: try vault.directory.reserveRecordFile(id, capacity: capacity))
        }
    }

    /// Disk space set aside for one record's next version (see `LockedRecord.reserve`); given
    /// back when released unwritten.
    public struct Reservation: Sendable {
        let record: LockedRecord
        let file: VaultDirectory.ReservedRecordFile

        /// Seals `payload` into the reserved space and puts it in place of the record; durable
        /// when this returns. Larger than the reservation, it is written as any other record.
        public func write(_ payload: [UInt8]) throws {
            let bytes = try record.sealed(payload)
            guard bytes.count <= file.capacity else {
                try record.vault.directory.writeRecordFile(record.id, bytes: bytes)
                return
            }
            try record.vault.directory.commit(file, bytes: bytes)
        }
    }

    /// What `move` did.
    public enum Move: Sendable, Equatable {
        /// The record is now under its new name.
        case moved
        /// Both names held a record: the one of the higher generation is under the new name, the
        /// other file was set aside at `setAside`.
        case merged(setAside: String)
        /// The record was gone (another process moved it).
        case gone
    }

    /// Moves record `id` to the name `name` (its payload as `rewrite` makes it), under both
    /// records' locks, so that it is never under two names and never lost: the new record is
    /// durable before the old file goes. When `name` already holds a record, the one of the higher
    /// generation (the one written more recently) is kept under it and the other file is set aside.
    public func move(id: String, toName name: String, rewrite: ([UInt8]) -> [UInt8]) throws -> Move {
        let target = recordID(for: name)
        guard target != id else { return .moved }
        return try directory.withRecordLocks(id, target) {
            guard let source = try read(id: id) else { return .gone }
            let existing: Record?
            var unreadable = false
            do {
                existing = try read(id: target)
            } catch {
                existing = nil
                unreadable = true  // a damaged record there is set aside too, never overwritten
            }
            if let existing, existing.generation >= source.generation {
                return .merged(setAside: try directory.setAside(id))
            }
            let setAside = existing != nil || unreadable ? try directory.setAside(target) : nil
            let generation = try Self.nextGeneration(after: max(source.generation, existing?.generation ?? 0), id: target)
            let bytes = try RecordFile.seal(rewrite(source.payload), recordID: Encoding.bytes(fromHex: target, length: RecordFile.recordIDLength)!,
                                            generation: generation, vaultID: vaultIDBytes, key: keys.recordSealing)
            try directory.writeRecordFile(target, bytes: bytes)
            try directory.removeRecordFile(id)
            return setAside.map { .merged(setAside: $0) } ?? .moved
        }
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
