#if canImport(Glibc)
import Glibc
#endif
/// The vault's directory on disk: `vault.json`, `records/`, `locks/`. It checks ownership and
/// permissions (0700 directories, 0600 files, owned by the user), never follows a symbolic
/// link, writes atomically, and serializes writers with flock. It knows nothing of keys.
public final class VaultDirectory: Sendable {
    public let path: String
    private let root: FileDescriptor
    private let records: FileDescriptor
    private let locks: FileDescriptor

    static let recordsName = "records"
    static let locksName = "locks"
    static let headerLockName = "vault.lock"
    static let temporarySuffix = ".tmp"

    private init(path: String, root: FileDescriptor, records: FileDescriptor, locks: FileDescriptor) {
        self.path = path
        self.root = root
        self.records = records
        self.locks = locks
    }

    /// `$MCP_VAULT_DIR`, else `${XDG_DATA_HOME:-$HOME/.local/share}/mcp-vault`.
    public static func defaultPath(environment: [String: String]) -> String {
        if let explicit = environment["MCP_VAULT_DIR"], !explicit.isEmpty { return explicit }
        if let data = environment["XDG_DATA_HOME"], data.hasPrefix("/") { return data + "/mcp-vault" }
        return (environment["HOME"] ?? "") + "/.local/share/mcp-vault"
    }

    /// Opens the vault directory, creating it (and missing parents, 0700) when `create` is set.
    public static func open(at path: String, create: Bool) throws(VaultError) -> VaultDirectory {
        let trimmed = normalized(path)
        try mapSystemErrors(path: trimmed) {
            guard let status = try SystemCalls.linkStatus(trimmed) else {
                guard create else { throw VaultError.noVault(path: trimmed) }
                try SystemCalls.makeDirectories(trimmed)
                return
            }
            if status.isSymbolicLink { throw VaultError.symbolicLink(path: trimmed) }
            if !status.isDirectory { throw VaultError.notADirectory(path: trimmed) }
        }
        return try mapSystemErrors(path: trimmed) {
            let root = try SystemCalls.openDirectory(trimmed)
            try checkOwnership(try SystemCalls.status(root, path: trimmed), path: trimmed, directory: true)
            // Only a vault gets records/ and locks/: opening any other private directory
            // (--vault-dir ~/.ssh, say) must not change it.
            if !create, try SystemCalls.linkStatus(VaultHeader.fileName, in: root) == nil {
                throw VaultError.noVault(path: trimmed)
            }
            let records = try openSubdirectory(recordsName, in: root, path: trimmed)
            let locks = try openSubdirectory(locksName, in: root, path: trimmed)
            return VaultDirectory(path: trimmed, root: root, records: records, locks: locks)
        }
    }

    /// `path` without repeated slashes and without trailing `/` and `/.` components, so that the
    /// last component is the directory itself: `lstat("link/")` and `lstat("link/.")` follow a
    /// symbolic link that `lstat("link")` shows.
    static func normalized(_ path: String) -> String {
        var components = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        while components.count > 1, components.last == "." { components.removeLast() }
        if components == ["."] { return "." }
        let joined = components.joined(separator: "/")
        return path.hasPrefix("/") ? "/" + joined : joined
    }

    private static func openSubdirectory(_ name: String, in root: FileDescriptor, path: String) throws -> FileDescriptor {
        let fullPath = path + "/" + name
        if let status = try SystemCalls.linkStatus(name, in: root) {
            if status.isSymbolicLink { throw VaultError.symbolicLink(path: fullPath) }
            if !status.isDirectory { throw VaultError.notADirectory(path: fullPath) }
        }
        let descriptor = try SystemCalls.openDirectory(name, in: root, create: true)
        try checkOwnership(try SystemCalls.status(descriptor, path: fullPath), path: fullPath, directory: true)
        return descriptor
    }

    private static func checkOwnership(_ status: FileStatus, path: String, directory: Bool) throws(VaultError) {
        if directory ? !status.isDirectory : !status.isRegularFile {
            throw directory ? .notADirectory(path: path) : .notARegularFile(path: path)
        }
        let user = SystemCalls.effectiveUserID
        guard status.owner == user else { throw .wrongOwner(path: path, owner: status.owner, expected: user) }
        guard status.permissions & 0o077 == 0 else {
            throw .insecurePermissions(path: path, permissions: status.permissions, isDirectory: directory)
        }
    }

    /// Runs `body`, turning system-call failures into `VaultError`s that name `path`.
    private static func mapSystemErrors<R>(path: String, _ body: () throws -> R) throws(VaultError) -> R {
        do {
            return try body()
        } catch let error as VaultError {
            throw error
        } catch let error as SystemCallError {
            if error.isSymbolicLink { throw .symbolicLink(path: path) }
            throw .system(error)
        } catch {
            throw .system(SystemCallError(call: "unknown", path: path, code: 0))
        }
    }

    // MARK: Reading and writing files

    private func readFile(_ name: String, in directory: FileDescriptor, displayPath: String, limit: Int) throws(VaultError) -> [UInt8]? {
        try Self.mapSystemErrors(path: displayPath) {
            let descriptor: FileDescriptor
            do {
                descriptor = try SystemCalls.openForReading(name, in: directory)
            } catch let error as SystemCallError where error.isNotFound {
                return nil
            }
            try Self.checkOwnership(try SystemCalls.status(descriptor, path: displayPath), path: displayPath, directory: false)
            let read = try SystemCalls.readAll(descriptor, path: displayPath, limit: limit)
            if read.exceeded { throw VaultError.fileTooLarge(path: displayPath, limit: limit) }
            return read.bytes
        }
    }

    private static func temporaryName(for name: String) -> String {
        "." + name + "." + Encoding.hex(Sodium.randomBytes(6)) + temporarySuffix
    }

    private func replaceFile(_ name: String, in directory: FileDescriptor, displayPath: String, bytes: [UInt8],
                             synchronizeDirectory: Bool = true) throws(VaultError) {
        let temporary = Self.temporaryName(for: name)
        try Self.mapSystemErrors(path: displayPath) {
            try SystemCalls.replaceAtomically(name, in: directory, temporaryName: temporary, bytes: bytes,
                                              synchronizeDirectory: synchronizeDirectory)
        }
    }

    /// Syncs `records/`, making every rename before it durable (after writes made with
    /// `synchronizeDirectory: false`).
    func synchronizeRecords() throws(VaultError) {
        try Self.mapSystemErrors(path: path + "/" + Self.recordsName) {
            try SystemCalls.synchronize(records, path: path + "/" + Self.recordsName)
        }
    }

    public var headerPath: String { path + "/" + VaultHeader.fileName }

    /// Whether a header exists (the vault has been initialized).
    public func hasHeader() throws(VaultError) -> Bool {
        try Self.mapSystemErrors(path: headerPath) { try SystemCalls.linkStatus(VaultHeader.fileName, in: root) != nil }
    }

    public func readHeader() throws(VaultError) -> VaultHeader {
        guard let bytes = try readFile(VaultHeader.fileName, in: root, displayPath: headerPath, limit: VaultHeader.maximumSize) else {
            throw .noVault(path: path)
        }
        do {
            return try VaultHeader.parse(bytes)
        } catch .malformedHeader(_, let reason) {
            throw .malformedHeader(path: headerPath, reason: reason)
        }
    }

    func writeHeader(_ header: VaultHeader) throws(VaultError) {
        try replaceFile(VaultHeader.fileName, in: root, displayPath: headerPath, bytes: header.serialized())
    }

    func recordPath(_ id: String) -> String {
        path + "/" + Self.recordsName + "/" + id + RecordFile.fileSuffix
    }

    func readRecordFile(_ id: String) throws(VaultError) -> [UInt8]? {
        try readFile(id + RecordFile.fileSuffix, in: records, displayPath: recordPath(id), limit: RecordFile.maximumSize)
    }

    func writeRecordFile(_ id: String, bytes: [UInt8], synchronizeDirectory: Bool = true) throws(VaultError) {
        try replaceFile(id + RecordFile.fileSuffix, in: records, displayPath: recordPath(id), bytes: bytes,
                        synchronizeDirectory: synchronizeDirectory)
    }

    /// Space set aside for the next version of a record: a temporary file with its blocks
    /// allocated, removed when released unless committed.
    final class ReservedRecordFile: @unchecked Sendable {
        let directory: VaultDirectory
        let id: String
        let capacity: Int
        fileprivate let descriptor: FileDescriptor
        fileprivate let temporaryName: String
        fileprivate var committed = false

        fileprivate init(directory: VaultDirectory, id: String, capacity: Int, descriptor: FileDescriptor, temporaryName: String) {
            self.directory = directory
            self.id = id
            self.capacity = capacity
            self.descriptor = descriptor
            self.temporaryName = temporaryName
        }

        deinit {
            if !committed { SystemCalls.discardTemporary(temporaryName, in: directory.records) }
        }
    }

    /// Allocates `capacity` bytes for the next version of record `id` (call with its lock held).
    /// Whether a record of the largest size can be written now: a read-only or full file system
    /// fails here, before anything is sent anywhere. `recordID` names the temporary file.
    public func checkWritable(recordID id: String = String(repeating: "0", count: 64)) throws {
        let reservation: ReservedRecordFile
        do {
            reservation = try reserveRecordFile(id, capacity: RecordFile.maximumSize)
        } catch {
            guard case .system(let failure) = error else { throw error }
            throw VaultError.notWritable(path: path, reason: String(cString: strerror(failure.code)).lowercased())
        }
        withExtendedLifetime(reservation) {}  // given back at once
    }

    func reserveRecordFile(_ id: String, capacity: Int) throws(VaultError) -> ReservedRecordFile {
        let name = id + RecordFile.fileSuffix
        let temporary = Self.temporaryName(for: name)
        return try Self.mapSystemErrors(path: recordPath(id)) {
            let descriptor = try SystemCalls.createTemporary(temporary, in: records, reserving: capacity)
            return ReservedRecordFile(directory: self, id: id, capacity: capacity, descriptor: descriptor, temporaryName: temporary)
        }
    }

    /// Replaces record `id` with `bytes` through its reservation (durable when this returns).
    func commit(_ reserved: ReservedRecordFile, bytes: [UInt8]) throws(VaultError) {
        precondition(!reserved.committed, "a reservation is committed once")
        reserved.committed = true
        try Self.mapSystemErrors(path: recordPath(reserved.id)) {
            try SystemCalls.commitTemporary(reserved.descriptor, reserved.temporaryName, as: reserved.id + RecordFile.fileSuffix,
                                            in: records, bytes: bytes)
        }
    }

    @discardableResult
    func removeRecordFile(_ id: String) throws(VaultError) -> Bool {
        let path = recordPath(id)
        return try Self.mapSystemErrors(path: path) {
            let removed = try SystemCalls.remove(id + RecordFile.fileSuffix, in: records)
            if removed { try SystemCalls.synchronize(records, path: path) }
            return removed
        }
    }

    /// The ids of all record files, sorted. Other entries are ignored.
    public func recordIDs() throws(VaultError) -> [String] {
        let path = self.path + "/" + Self.recordsName
        return try Self.mapSystemErrors(path: path) {
            try SystemCalls.entries(of: records, path: path)
                .filter(RecordFile.isRecordFileName)
                .map { String($0.dropLast(RecordFile.fileSuffix.count)) }
                .sorted()
        }
    }

    /// The record files that cannot be opened whatever the key (truncated, oversized, renamed,
    /// from another vault, of an unknown version, not regular files), each with why.
    public func unopenableRecords() throws(VaultError) -> [(id: String, reason: VaultError)] {
        let vaultID = Encoding.bytes(fromHex: try readHeader().vaultID, length: VaultHeader.vaultIDLength) ?? []
        var found: [(String, VaultError)] = []
        for id in try recordIDs() {
            do {
                guard let bytes = try readRecordFile(id) else { continue }
                try RecordFile.checkStructure(bytes, id: id, vaultID: vaultID)
            } catch where error.isDamagedRecord {
                found.append((id, error))
            }
        }
        return found
    }

    /// The suffix of a record file set aside by an upgrade (the older of two records that came to
    /// have one name); `recordIDs` ignores it, `doctor` names it.
    public static let supersededSuffix = ".superseded"

    /// Sets record `id`'s file aside as `<id>.sealed.superseded` (numbered when that exists).
    func setAside(_ id: String) throws(VaultError) -> String {
        var name = id + RecordFile.fileSuffix + Self.supersededSuffix
        var number = 2
        while (try? readFile(name, in: records, displayPath: name, limit: RecordFile.maximumSize)) != nil {
            name = id + RecordFile.fileSuffix + Self.supersededSuffix + "-\(number)"
            number += 1
        }
        let target = name
        try Self.mapSystemErrors(path: recordPath(id)) { try SystemCalls.renameWithin(id + RecordFile.fileSuffix, to: target, in: records) }
        return path + "/" + Self.recordsName + "/" + target
    }

    /// Record files set aside by an upgrade, by path.
    public func supersededRecords() throws(VaultError) -> [String] {
        let path = self.path + "/" + Self.recordsName
        return try Self.mapSystemErrors(path: path) {
            try SystemCalls.entries(of: records, path: path).filter { $0.contains(RecordFile.fileSuffix + Self.supersededSuffix) }
                .sorted().map { path + "/" + $0 }
        }
    }

    /// Whether the marker file `name` is in the vault directory.
    public func hasMarker(_ name: String) -> Bool {
        (try? SystemCalls.linkStatus(name, in: root)) != nil
    }

    /// Writes the (empty) marker file `name` in the vault directory.
    public func setMarker(_ name: String) throws(VaultError) {
        try replaceFile(name, in: root, displayPath: path + "/" + name, bytes: [])
    }

    /// Runs `body` holding the locks of two records (one lock when they share it), always taken
    /// in the same order.
    func withRecordLocks<R>(_ first: String, _ second: String, _ body: () throws -> R) throws -> R {
        let names = [Self.lockName(forRecord: first), Self.lockName(forRecord: second)].sorted()
        if names[0] == names[1] { return try withLock(names[0], body) }
        return try withLock(names[0]) { try withLock(names[1], body) }
    }

    // MARK: Locks

    /// Runs `body` holding the exclusive lock of one record.
    func withRecordLock<R>(_ id: String, _ body: () throws -> R) throws -> R {
        try withLock(Self.lockName(forRecord: id), body)
    }

    /// `withRecordLock` for async work (a refresh over the network): the lock is held until `body`
    /// returns. Waiting for the lock blocks the calling thread.
    func withRecordLock<R>(_ id: String, _ body: () async throws -> R) async throws -> R {
        try await withLock(Self.lockName(forRecord: id), body)
    }

    /// Records share 256 lock files by the first byte of their id: a lock file per record would
    /// mean one more inode per record, and creating inodes is what makes bulk imports slow.
    static func lockName(forRecord id: String) -> String {
        "record-" + id.prefix(2) + ".lock"
    }

    /// Runs `body` holding an exclusive lock that serializes one kind of whole-vault work
    /// (`name` is a plain word, such as "migrate").
    public func withExclusiveLock<R>(named name: String, _ body: () throws -> R) throws -> R {
        precondition(name.allSatisfy { $0.isLetter || $0 == "-" }, "lock names are plain words")
        return try withLock(name + ".lock", body)
    }

    /// `withExclusiveLock` that tells `body` whether another process held the lock when this one
    /// asked for it (and so has just had its turn): one keyring prompt serves many processes.
    public func withExclusiveLock<R>(named name: String, _ body: (_ waited: Bool) throws -> R) throws -> R {
        precondition(name.allSatisfy { $0.isLetter || $0 == "-" }, "lock names are plain words")
        let file = name + ".lock"
        let path = path + "/" + Self.locksName + "/" + file
        if let lock = try Self.mapSystemErrors(path: path, { try SystemCalls.lock(file, in: locks, exclusive: true, wait: false) }) {
            return try withExtendedLifetime(lock) { try body(false) }
        }
        let lock = try Self.mapSystemErrors(path: path) { try SystemCalls.lock(file, in: locks, exclusive: true, wait: true) }
        return try withExtendedLifetime(lock) { try body(true) }
    }

    /// `withExclusiveLock` for async work (a step-up that waits for the user): held until `body`
    /// returns. Waiting for the lock blocks the calling thread.
    public func withExclusiveLock<R>(named name: String, _ body: () async throws -> R) async throws -> R {
        precondition(name.allSatisfy { $0.isLetter || $0 == "-" }, "lock names are plain words")
        return try await withLock(name + ".lock", body)
    }

    /// Runs `body` holding the exclusive lock of the header (slot changes, creation).
    func withHeaderLock<R>(_ body: () throws -> R) throws -> R {
        try withLock(Self.headerLockName, body)
    }

    private func withLock<R>(_ name: String, _ body: () throws -> R) throws -> R {
        let lock = try Self.mapSystemErrors(path: path + "/" + Self.locksName + "/" + name) {
            try SystemCalls.lock(name, in: locks, exclusive: true, wait: true)
        }
        return try withExtendedLifetime(lock) { try body() }
    }

    /// `withLock` for async work: the lock is held until `body` returns. Waiting for the lock
    /// blocks the calling thread.
    private func withLock<R>(_ name: String, _ body: () async throws -> R) async throws -> R {
        let lock = try Self.mapSystemErrors(path: path + "/" + Self.locksName + "/" + name) {
            try SystemCalls.lock(name, in: locks, exclusive: true, wait: true)
        }
        defer { withExtendedLifetime(lock) {} }
        return try await body()
    }

    /// Removes temporary files that a killed writer left behind. A temporary file is removed only
    /// when the lock its writer would hold is free, so a write in progress is never disturbed.
    public func removeAbandonedTemporaryFiles() throws(VaultError) {
        try Self.mapSystemErrors(path: path) {
            let places: [(directory: FileDescriptor, lockFor: (String) -> String)] = [
                (root, { _ in Self.headerLockName }),
                (records, { target in Self.lockName(forRecord: String(target.dropLast(RecordFile.fileSuffix.count))) }),
            ]
            for (directory, lockFor) in places {
                for name in try SystemCalls.entries(of: directory, path: path) where name.hasPrefix(".") && name.hasSuffix(Self.temporarySuffix) {
                    // ".<target>.<12 hex>.tmp"
                    let stem = name.dropFirst().dropLast(Self.temporarySuffix.count)
                    guard let dot = stem.lastIndex(of: ".") else { continue }
                    let target = String(stem[stem.startIndex..<dot])
                    guard let held = try SystemCalls.lock(lockFor(target), in: locks, exclusive: true, wait: false) else { continue }
                    try withExtendedLifetime(held) { _ = try SystemCalls.remove(name, in: directory) }
                }
            }
        }
    }
}
