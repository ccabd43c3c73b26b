#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Vault

/// Where older tools left plaintext OAuth tokens, so that `doctor` and `status` can point at
/// them and `migrate` can import them.
public struct LegacyTokenFiles: Sendable {
    /// `$OPENCODE_CONFIG_DIR`, else `${XDG_CONFIG_HOME:-~/.config}/opencode`.
    public let configDirectory: String
    /// `${XDG_DATA_HOME:-~/.local/share}/opencode`.
    public let dataDirectory: String
    /// mcp-remote's `$MCP_REMOTE_CONFIG_DIR`, else `~/.mcp-auth`: one `mcp-remote-<version>`
    /// folder per version, with `<md5 of the server URL>_tokens.json` files.
    public let mcpRemoteDirectory: String
    let home: String
    /// The token files of MCP clients that `migrate` imports MCP servers' entries from.
    public let clientStores: [(store: ClientTokenStore, path: String)]

    public init(environment: [String: String]) {
        let home = environment["HOME"] ?? ""
        self.home = home
        clientStores = ClientTokenStore.allCases.map { ($0, $0.path(environment: environment)) }
        if let explicit = environment["OPENCODE_CONFIG_DIR"], !explicit.isEmpty {
            configDirectory = explicit
        } else {
            let config = environment["XDG_CONFIG_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? home + "/.config"
            configDirectory = config + "/opencode"
        }
        let data = environment["XDG_DATA_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? home + "/.local/share"
        dataDirectory = data + "/opencode"
        mcpRemoteDirectory = environment["MCP_REMOTE_CONFIG_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.mcp-auth"
    }

    /// Every directory where these files live, whether or not they exist now: where a killed
    /// migrate may have left files half removed.
    public var directories: [String] {
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: mcpRemoteDirectory)) ?? []).filter { $0.hasPrefix("mcp-remote-") }
        return [perServerDirectory, configDirectory, dataDirectory] + versions.sorted().map { mcpRemoteDirectory + "/" + $0 }
    }

    public var perServerDirectory: String { configDirectory + "/mcp-oauth" }
    public var singleFile: String { configDirectory + "/mcp-oauth.json" }
    public var opencodeAuthFile: String { dataDirectory + "/mcp-auth.json" }
}

extension LegacyTokenFiles {
    /// The plaintext token files that exist now (per-server JSON files, the single file, opencode's
    /// own auth file).
    public func present() -> [String] {
        let manager = FileManager.default
        var found: [String] = []
        if let names = try? manager.contentsOfDirectory(atPath: perServerDirectory) {
            found += names.filter { $0.hasSuffix(".json") && $0 != "index.json" && !$0.hasPrefix(".") }.sorted().map { perServerDirectory + "/" + $0 }
        }
        for file in [singleFile, opencodeAuthFile] where manager.fileExists(atPath: file) {
            found.append(file)
        }
        return found
    }

    /// mcp-remote's plaintext token files.
    public func mcpRemoteTokenFiles() -> [String] {
        let manager = FileManager.default
        guard let versions = try? manager.contentsOfDirectory(atPath: mcpRemoteDirectory) else { return [] }
        return versions.filter { $0.hasPrefix("mcp-remote-") }.sorted().flatMap { version in
            let folder = mcpRemoteDirectory + "/" + version
            return ((try? manager.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix("_tokens.json") }.sorted()
                .map { folder + "/" + $0 }
        }
    }

    /// An MCP client's own token file that holds MCP servers' tokens.
    public struct OtherStore: Sendable {
        public let name: String
        public let path: String
        public let why: String
        public let advice: String
    }

    /// MCP clients' token files that hold MCP servers' tokens now (`migrate` imports them and
    /// removes just those entries).
    public func otherClientStores() -> [OtherStore] {
        var stores: [OtherStore] = []
        for (store, path) in clientStores where PlainFiles.exists(path) {
            var scan = LegacyScan()
            store.scan(path: path, assignments: [:], into: &scan)
            let servers = scan.items.filter { $0.origin.assignmentName != "*" }.count
            guard servers > 0 else { continue }
            stores.append(OtherStore(name: "\(store.rawValue) MCP tokens", path: path,
                                     why: "\(servers) MCP server token\(servers == 1 ? "" : "s") in plaintext",
                                     advice: "run `mcp-vault migrate` (it takes only those entries out of the file), then " + store.pointAtTheVault))
        }
        return stores
    }
}
