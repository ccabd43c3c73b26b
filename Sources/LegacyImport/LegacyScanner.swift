#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Vault

/// What a scan of the legacy locations found.
public struct LegacyScan: Sendable {
    public var items: [LegacyItem] = []
    /// Things worth telling the user that are not about one token (a malformed index, say).
    public var notes: [String] = []
    /// The per-server directories scanned, with their index (hash → key) when it could be read.
    public var indexes: [(directory: String, entries: [String: String], readable: Bool)] = []
    /// Every directory the scan read files from (where an interrupted run may have left work).
    public var directories: [String] = []
}

/// Finds and parses the plaintext token files of older tools. Reads only; changes nothing.
public enum LegacyScanner {
    static let fileLimit = 1 << 20
    static let indexLimit = 16 << 20

    /// The default locations: the per-server directory, the single file, opencode's auth file,
    /// mcp-remote's store. `mcpRemoteURLs` maps the hashes mcp-remote names its files by to the
    /// server URLs they stand for (see `MCPRemoteStore.hashes`).
    public static func scan(_ files: LegacyTokenFiles, assignments: [String: String], mcpRemoteURLs: [String: String] = [:]) -> LegacyScan {
        var scan = LegacyScan()
        if PlainFiles.exists(files.perServerDirectory) { scanPerServerDirectory(files.perServerDirectory, assignments, into: &scan) }
        for file in [files.singleFile, files.opencodeAuthFile] where PlainFiles.exists(file) {
            scanEntriesFile(file, assignments, into: &scan)
        }
        MCPRemoteStore.scan(files.mcpRemoteDirectory, urlsByHash: mcpRemoteURLs, assignments: assignments, into: &scan)
        for (store, path) in files.clientStores { store.scan(path: path, assignments: assignments, into: &scan) }
        // A killed run may have left a file half removed where no file is left to scan (the
        // single file renamed aside for shredding, say): those directories are looked at too.
        scan.directories += files.directories.filter(PlainFiles.exists)
        return scan
    }

    /// `--from PATH`: a per-server directory, mcp-remote's store (a folder holding
    /// `mcp-remote-<version>` folders), or a file of entries.
    public static func scan(from path: String, assignments: [String: String], mcpRemoteURLs: [String: String] = [:]) -> LegacyScan {
        var scan = LegacyScan()
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            scan.items.append(LegacyItem(origin: .entry(path: path, key: "*"), token: .failure(.unreadable("it does not exist"))))
            return scan
        }
        let names = isDirectory ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []) : []
        let folderName = path.split(separator: "/").last.map(String.init) ?? path
        if isDirectory, names.contains(where: { $0.hasPrefix("mcp-remote-") }) {
            MCPRemoteStore.scan(path, urlsByHash: mcpRemoteURLs, assignments: assignments, into: &scan)
        } else if isDirectory, folderName.hasPrefix("mcp-remote-") || names.contains(where: { $0.hasSuffix("_tokens.json") }) {
            // One mcp-remote version folder.
            MCPRemoteStore.scanVersionFolder(path, urlsByHash: mcpRemoteURLs, assignments: assignments, into: &scan)
        } else if isDirectory {
            scanPerServerDirectory(path, assignments, into: &scan)
        } else {
            scanEntriesFile(path, assignments, into: &scan)
        }
        return scan
    }

    /// The file name the per-server format gives a key: the first 32 hex digits of its SHA-256.
    public static func fileHash(forKey key: String) -> String {
        String(PlainFiles.sha256Hex(key).prefix(32))
    }

    /// The server URL inside a key `<host>/<server-url>`, or the key itself when it is a URL.
    static func serverURL(fromKey key: String) -> String? {
        if let slash = key.firstIndex(of: "/") {
            let rest = String(key[key.index(after: slash)...])
            if rest.contains("://") { return rest }
        }
        return key.contains("://") ? key : nil
    }

    private static func scanPerServerDirectory(_ directory: String, _ assignments: [String: String], into scan: inout LegacyScan) {
        if PlainFiles.isSymbolicLink(directory) {
            scan.items.append(LegacyItem(origin: .entry(path: directory, key: "*"), token: .failure(.symbolicLinkDirectory(directory))))
            return
        }
        let indexPath = directory + "/index.json"
        var index: [String: String] = [:]
        var indexReadable = true
        if PlainFiles.exists(indexPath) {
            do {
                let bytes = try PlainFiles.read(indexPath, limit: indexLimit)
                index = try JSONDecoder().decode([String: String].self, from: Data(bytes))
            } catch {
                indexReadable = false
                scan.notes.append("\(indexPath) cannot be used (\(error)); files are matched to servers only by a URL inside them or --assign, and the index is left as it is")
            }
        }
        scan.indexes.append((directory, index, indexReadable))
        scan.directories.append(directory)

        let listing: [String]
        do {
            listing = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            scan.items.append(LegacyItem(origin: .entry(path: directory, key: "*"), token: .failure(.unreadable("the directory cannot be listed"))))
            return
        }
        for name in listing.filter({ $0.hasSuffix(".json") && $0 != "index.json" && !$0.hasPrefix(".") }).sorted() {
            let path = directory + "/" + name
            let hash = String(name.dropLast(".json".count))
            let origin = LegacyOrigin.perServerFile(path: path, hash: hash)
            var fingerprint: String?
            scan.items.append(LegacyItem(origin: origin, token: Result { () throws(LegacyImportError) -> LegacyToken in
                let bytes = try readFile(path)
                fingerprint = PlainFiles.fingerprint(bytes)
                var token = try LegacyTokenParser.token(from: Data(bytes))
                if let key = index[hash] {
                    let expected = fileHash(forKey: key)
                    guard expected == hash.lowercased() else { throw .hashMismatch(expected: expected) }
                    token.serverURL = serverURL(fromKey: key) ?? token.serverURL
                }
                token.serverURL = assignments[hash] ?? token.serverURL
                guard token.serverURL != nil else { throw .noServerURL(name: hash, inIndexedDirectory: true) }
                return token
            }, fingerprint: fingerprint))
        }
    }

    private static func scanEntriesFile(_ path: String, _ assignments: [String: String], into scan: inout LegacyScan) {
        if let slash = path.lastIndex(of: "/") { scan.directories.append(String(path[..<slash])) }
        let entries: [(key: String, token: Result<LegacyToken, LegacyImportError>, raw: Data)]
        do {
            entries = try LegacyTokenParser.entries(from: Data(readFile(path)))
        } catch {
            scan.items.append(LegacyItem(origin: .entry(path: path, key: "*"), token: .failure(error)))
            return
        }
        for (key, parsed, raw) in entries {
            scan.items.append(LegacyItem(origin: .entry(path: path, key: key), token: parsed.flatMap { token in
                var token = token
                token.serverURL = assignments[key] ?? token.serverURL ?? serverURL(fromKey: key)
                return token.serverURL == nil ? .failure(.noServerURL(name: key, inIndexedDirectory: false)) : .success(token)
            }, fingerprint: PlainFiles.fingerprint([UInt8](raw))))
        }
    }

    private static func readFile(_ path: String) throws(LegacyImportError) -> [UInt8] {
        do {
            return try PlainFiles.read(path, limit: fileLimit)
        } catch {
            throw .unreadable(error.description)
        }
    }
}
