#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Vault

/// One client configuration file, read: its bytes, and the server entries at each of the
/// client's locations in it.
public struct ConfigFile: Sendable {
    public let client: MCPClient
    /// The path the client reads.
    public let path: String
    /// Where the bytes are (the path with symbolic links resolved), which is what gets rewritten.
    public let realPath: String
    public let document: JSONCDocument
    public let permissions: UInt32
    public var entries: [ServerEntry] = []
    /// What could not be understood (a servers key that is not an object, say).
    public var problems: [String] = []

    /// Larger files are not read (Claude Code's ~/.claude.json grows with history; 64 MiB is ample).
    static let sizeLimit = 64 << 20

    public enum ReadError: Error, Sendable, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case syntax(path: String, JSONCDocument.SyntaxError)

        public var description: String {
            switch self {
            case .unreadable(let path, let reason): "\(path) cannot be read: \(reason)"
            case .syntax(let path, let error): "\(path) is not valid JSON (\(error)); it was left alone"
            }
        }
    }

    /// Reads the file of `locations` (all at one path), or nil when there is none.
    static func read(_ locations: [MCPClient.Location]) throws(ReadError) -> ConfigFile? {
        guard let first = locations.first else { return nil }
        let path = first.path
        let realPath = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard let attributes = PlainFiles.attributes(realPath) else {
            if PlainFiles.exists(path) || PlainFiles.exists(realPath) { throw .unreadable(path: path, reason: "it is not a regular file") }
            return nil
        }
        let bytes: [UInt8]
        do {
            bytes = try PlainFiles.read(realPath, limit: sizeLimit)
        } catch {
            throw .unreadable(path: path, reason: error.description)
        }
        let document: JSONCDocument
        do { document = try JSONCDocument(bytes) } catch { throw .syntax(path: path, error) }
        var file = ConfigFile(client: first.client, path: path, realPath: realPath, document: document, permissions: attributes.permissions)
        for location in locations {
            var node = document.root
            var missing = false
            for key in location.keys {
                guard node.node.members != nil else {
                    file.problems.append("\(location.description): \(key) is inside something that is not an object")
                    missing = true
                    break
                }
                guard let next = node.node[key] else { missing = true; break }
                node = next
            }
            if missing { continue }
            guard let members = node.node.members else {
                file.problems.append("\(location.description): \(location.keys.last.map { "\"\($0)\"" } ?? "the file") is not an object; it was left alone")
                continue
            }
            file.entries += members.map { ServerEntry(location: location, name: $0.key, member: $0, kind: ServerEntry.classify($0, in: location)) }
        }
        return file
    }

    /// Every configuration file of `client` that exists.
    public static func files(of client: MCPClient, environment: [String: String], projectDirectory: String) -> [Result<ConfigFile, ReadError>] {
        var byPath: [(String, [MCPClient.Location])] = []
        for location in client.locations(environment: environment, projectDirectory: projectDirectory) {
            // A project at the home directory names the global file again: its servers count once.
            if let index = byPath.firstIndex(where: { $0.0 == location.path }) {
                if !byPath[index].1.contains(where: { $0.keys == location.keys }) { byPath[index].1.append(location) }
            } else {
                byPath.append((location.path, [location]))
            }
        }
        // A project inside the home directory may be the same file as a global one.
        var seen = Set<String>()
        return byPath.compactMap { _, locations -> Result<ConfigFile, ReadError>? in
            let real = URL(fileURLWithPath: locations[0].path).resolvingSymlinksInPath().path
            guard seen.insert(real).inserted else { return nil }
            do throws(ReadError) {
                return try read(locations).map { .success($0) }
            } catch {
                return .failure(error)
            }
        }
    }
}
