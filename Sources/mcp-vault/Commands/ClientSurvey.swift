import ClientConfig
import Credentials
import LegacyImport
import Vault

/// What the MCP clients on this machine are configured to reach: for `setup` without a client,
/// for `migrate` (server names, the URLs behind mcp-remote's file names, and which clients
/// still reach servers directly).
struct ClientSurvey {
    let files: [(client: MCPClient, files: [ConfigFile])]
    /// Configuration files that exist but could not be read (not JSON, say), by client.
    let unreadableByClient: [MCPClient: [String]]
    var unreadable: [String] { MCPClient.allCases.flatMap { unreadableByClient[$0] ?? [] } }

    init(environment: [String: String], projectDirectory: String) {
        var unreadable: [MCPClient: [String]] = [:]
        files = MCPClient.allCases.map { client in
            (client, ConfigFile.files(of: client, environment: environment, projectDirectory: projectDirectory).compactMap { result in
                switch result {
                case .success(let file): return file
                case .failure(let error):
                    unreadable[client, default: []].append(error.description)
                    return nil
                }
            })
        }
        unreadableByClient = unreadable
    }

    private var entries: [ServerEntry] { files.flatMap { $0.files.flatMap(\.entries) } }

    /// mcp-remote file-name hashes → the server URLs they stand for, from every remote entry.
    var mcpRemoteURLs: [String: String] {
        var byHash: [String: String] = [:]
        for entry in entries {
            guard case .remote(let remote) = entry.kind else { continue }
            var hashes = MCPRemoteStore.hashes(serverURL: remote.url)
            if let arguments = remote.mcpRemote {
                hashes.formUnion(MCPRemoteStore.hashes(serverURL: remote.url, authorizeResource: arguments.authorizeResource,
                                                       headers: arguments.headers.map { ($0.name, $0.value) }))
            }
            for hash in hashes { byHash[hash] = remote.url }
        }
        return byHash
    }

    /// The one name the configurations give a server, when they agree on one.
    func name(of server: ServerURL) -> String? {
        var names = Set<String>()
        for entry in entries {
            let url: String
            switch entry.kind {
            case .remote(let remote): url = remote.url
            case .vault(let target): url = target
            case .other: continue
            }
            if (try? ServerURL(url)) == server { names.insert(entry.name) }
        }
        return names.count == 1 ? names.first : nil
    }

    /// Clients with entries that still reach a remote server by themselves, and those entries' names.
    var clientsReachingServersDirectly: [(client: MCPClient, names: [String])] {
        files.compactMap { client, files in
            let names = files.flatMap(\.entries).filter { if case .remote = $0.kind { true } else { false } }.map(\.name)
            return names.isEmpty ? nil : (client, names)
        }
    }

    /// `setup` without a client: each client found, and what its entries reach.
    func describe(vault: Vault?) -> [String] {
        var lines: [String] = []
        let pending = Set(clientsReachingServersDirectly.map(\.client))
        for (client, files) in files {
            let problems = unreadableByClient[client] ?? []
            guard !files.isEmpty || !problems.isEmpty else {
                lines.append("\(client.rawValue): no configuration found")
                continue
            }
            lines.append("\(client.rawValue) (\(client.displayName)):")
            lines += problems.map { "  " + $0 }
            for file in files {
                let servers = file.entries.filter { $0.kind != .other }
                lines.append("  \(file.path)" + (servers.isEmpty ? ": no remote servers" : ""))
                for entry in servers {
                    switch entry.kind {
                    case .vault(let url):
                        lines.append("    \(entry.name)  \(url)  gets its token from mcp-vault")
                    case .remote(let remote):
                        let held = vault.flatMap { vault in (try? ServerURL(remote.url)).map { (try? vault.read($0.canonical)) != nil } } ?? false
                        lines.append("    \(entry.name)  \(remote.url)  reaches the server \(remote.mcpRemote != nil ? "through mcp-remote" : "directly")"
                                     + (held ? " (the vault holds it)" : " (not in the vault)"))
                    case .other:
                        break
                    }
                }
            }
            if pending.contains(client) {
                lines.append("  run `mcp-vault setup \(client.rawValue)` to point these at mcp-vault")
            }
        }
        return lines
    }
}
