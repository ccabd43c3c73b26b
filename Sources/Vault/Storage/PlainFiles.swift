/// Careful access to plaintext files outside the vault (the legacy token files that `migrate`
/// imports): never through a symbolic link, bounded in size, and removed by overwriting first.
public enum PlainFiles {
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case missing
        case symbolicLink
        case notARegularFile
        case tooLarge(limit: Int)
        case system(SystemCallError)

        public var description: String {
            switch self {
            case .missing: "it does not exist"
            case .symbolicLink: "it is a symbolic link, which mcp-vault does not follow"
            case .notARegularFile: "it is not a regular file"
            case .tooLarge(let limit): "it is larger than \(limit) bytes"
            case .system(let error): "it cannot be read: \(error)"
            }
        }
    }

    /// The bytes of a regular file, refusing links, devices, directories and files over `limit`.
    public static func read(_ path: String, limit: Int) throws(Failure) -> [UInt8] {
        do {
            guard let status = try SystemCalls.linkStatus(path) else { throw Failure.missing }
            if status.isSymbolicLink { throw Failure.symbolicLink }
            if !status.isRegularFile { throw Failure.notARegularFile }
            let descriptor = try SystemCalls.openForReading(path: path, nonBlocking: true)
            guard try SystemCalls.status(descriptor, path: path).isRegularFile else { throw Failure.notARegularFile }
            let read = try SystemCalls.readAll(descriptor, path: path, limit: limit)
            if read.exceeded { throw Failure.tooLarge(limit: limit) }
            return read.bytes
        } catch let failure as Failure {
            throw failure
        } catch let error as SystemCallError {
            throw error.isSymbolicLink ? .symbolicLink : .system(error)
        } catch {
            throw .system(SystemCallError(call: "read", path: path, code: 0))
        }
    }

    /// A regular file's permission bits, modification time (seconds) and hard-link count, without
    /// following links.
    public static func attributes(_ path: String) -> (permissions: UInt32, modified: Int64, links: Int)? {
        guard let status = try? SystemCalls.linkStatus(path), status.isRegularFile else { return nil }
        return (status.permissions, status.modified, status.links)
    }

    /// Whether something (a file, a link, anything) is at `path`, without following links.
    public static func exists(_ path: String) -> Bool {
        (try? SystemCalls.linkStatus(path)) != nil
    }

    /// Overwrites the file with zeros, syncs, unlinks and syncs the directory. On SSDs and
    /// copy-on-write file systems the old blocks may survive anyway (see SECURITY.md).
    /// With `synchronizingDirectory` false the caller syncs the directory afterwards, once for
    /// many files.
    public static func shred(_ path: String, synchronizingDirectory: Bool = true) throws(Failure) {
        do {
            try SystemCalls.shred(path)
            if synchronizingDirectory { try SystemCalls.synchronizeDirectory(of: path) }
        } catch let error as SystemCallError {
            throw error.isSymbolicLink ? .symbolicLink : .system(error)
        } catch {
            throw .system(SystemCallError(call: "shred", path: path, code: 0))
        }
    }

    /// Finishes removals that a killed run left behind in `directory`: files being shredded
    /// (`.NAME.mcp-vault-shredding`) and temporary files of an interrupted rewrite
    /// (`.NAME.XXXXXXXXXXXX.mcp-vault-tmp`). Only these names, which only mcp-vault makes, are
    /// touched. Returns their paths.
    @discardableResult
    public static func finishShredding(in directory: String) -> [String] {
        guard let descriptor = try? SystemCalls.openDirectory(directory),
              let names = try? SystemCalls.entries(of: descriptor, path: directory) else { return [] }
        var finished: [String] = []
        for name in names where name.hasPrefix(".") && (name.hasSuffix(SystemCalls.shreddingSuffix) || name.hasSuffix(SystemCalls.replaceSuffix)) {
            let path = directory + "/" + name
            if (try? SystemCalls.shred(path)) != nil { finished.append(path) }
        }
        if !finished.isEmpty { try? SystemCalls.synchronizeDirectory(of: directory + "/.") }
        return finished
    }

    /// What a killed run left in `directory` that `finishShredding` would complete: files being
    /// shredded or half-rewritten, which may still hold tokens.
    public static func leftovers(in directory: String) -> [String] {
        guard let descriptor = try? SystemCalls.openDirectory(directory),
              let names = try? SystemCalls.entries(of: descriptor, path: directory) else { return [] }
        return names.filter { $0.hasPrefix(".") && ($0.hasSuffix(SystemCalls.shreddingSuffix) || $0.hasSuffix(SystemCalls.replaceSuffix)) }
            .sorted().map { directory + "/" + $0 }
    }

    /// Syncs a directory, so that renames and unlinks in it are durable.
    public static func synchronizeDirectory(_ directory: String) throws(Failure) {
        do {
            try SystemCalls.synchronizeDirectory(of: directory + "/.")
        } catch let error as SystemCallError {
            throw .system(error)
        } catch {
            throw .system(SystemCallError(call: "fsync", path: directory, code: 0))
        }
    }

    /// Whether `path` itself is a symbolic link.
    public static func isSymbolicLink(_ path: String) -> Bool {
        (try? SystemCalls.linkStatus(path))??.isSymbolicLink ?? false
    }

    /// SHA-256 of bytes, hex, to notice a file that changed after it was read.
    public static func fingerprint(_ bytes: [UInt8]) -> String {
        Encoding.hex(Sodium.sha256(bytes))
    }

    /// Shreds many files with one sync instead of one per file: each is renamed aside and
    /// overwritten with zeros, then the file systems are synced once, then all are unlinked and
    /// their directories synced. A run killed midway leaves `.NAME.mcp-vault-shredding` files,
    /// which `finishShredding` completes. Returns a failure per path that could not be shredded.
    public static func shredAll(_ paths: [String]) -> [String: Failure] {
        var failures: [String: Failure] = [:]
        var zeroed: [String] = []
        for path in paths {
            do {
                zeroed.append(try SystemCalls.shred(path, unlinkNow: false))
            } catch let error as SystemCallError {
                failures[path] = error.isSymbolicLink ? .symbolicLink : .system(error)
            } catch {
                failures[path] = .system(SystemCallError(call: "shred", path: path, code: 0))
            }
        }
        var synced = Set<String>()
        for path in zeroed {
            let directory = String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
            if synced.insert(directory).inserted { try? SystemCalls.syncFileSystem(of: path) }
        }
        for (original, path) in zip(paths.filter { failures[$0] == nil }, zeroed) {
            do { try SystemCalls.removeFile(path: path) } catch let error as SystemCallError { failures[original] = .system(error) } catch {}
        }
        for directory in synced { try? SystemCalls.synchronizeDirectory(of: directory + "/.") }
        return failures
    }

    /// Replaces a file atomically with `bytes` (mode 0600). With `wipingOld`, the old file's
    /// blocks are overwritten with zeros once the new file is in place (for plaintext that held
    /// tokens).
    public static func replace(_ path: String, with bytes: [UInt8], wipingOld: Bool = false, permissions: UInt32 = 0o600) throws(Failure) {
        do {
            try SystemCalls.replace(path: path, bytes: bytes, wipingOld: wipingOld, permissions: permissions)
        } catch let error as SystemCallError {
            throw .system(error)
        } catch {
            throw .system(SystemCallError(call: "replace", path: path, code: 0))
        }
    }

    /// Lowercase hex SHA-256 of `text`'s UTF-8 bytes.
    public static func sha256Hex(_ text: String) -> String {
        Encoding.hex(Sodium.sha256(Array(text.utf8)))
    }
}
