import ClientConfig
import CommandSupport
import Credentials
import LegacyImport
import Processes
import Vault

/// What the MCP clients on this machine are configured to reach: for `setup` without a client,
/// for `migrate` (server names, the URLs behind mcp-remote's file names, and which clients
/// still reach servers directly).
struct ClientSurvey {
    let files: [(client: MCPClient, files: [ConfigFile])]
    /// Configuration files that exist but could not be read (not JSON, say), by client.
    let unreadableByClient: [MCPClient: [String]]
    var unreadable: [String] { MCPClient.allCases.flatMap { unreadableByClient[$0] ?? [] } }
    /// oh-my-opencode's skills that name MCP servers in their front matter (when it is installed).
    let skills: [SkillFile]

    init(environment: [String: String], projectDirectory: String) {
        var unreadable: [MCPClient: [String]] = [:]
        // oh-my-opencode's files are mostly Claude Code's: they count only when it is installed.
        let installed = OhMyOpencode.isInstalled(environment: environment, projectDirectory: projectDirectory)
        skills = installed ? OhMyOpencode.skillFiles(environment: environment, projectDirectory: projectDirectory).compactMap { try? $0.get() } : []
        files = MCPClient.allCases.filter { $0 != .ohMyOpencode || installed }.map { client in
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

    /// Every plaintext secret left in a client's configuration (never a value in what is shown of it):
    /// by client, each with its file and entry. A static Authorization of an entry that already
    /// gets its token from mcp-vault does not count (there is none after `setup`).
    var plaintextSecrets: [(client: MCPClient, file: String, secret: PlaintextSecret)] {
        files.flatMap { client, files in
            files.flatMap { file in
                file.entries.flatMap { entry in entry.plaintextSecrets.map { (client, entry.location.description, $0) } }
            }
        }
    }

    /// doctor's lines for the plaintext secrets: one per client that has any, naming each place.
    func plaintextSecretChecks() -> [DiagnosticCheck] {
        let found = plaintextSecrets
        guard !found.isEmpty else {
            return [DiagnosticCheck(subject: "client secrets", outcome: .ok, detail: "no client configuration keeps an API key or a token", remedy: nil)]
        }
        return MCPClient.allCases.compactMap { client in
            let mine = found.filter { $0.client == client }
            guard !mine.isEmpty else { return nil }
            var files: [String] = []
            for item in mine where !files.contains(item.file) { files.append(item.file) }
            let places = files.map { file in
                file + ": " + mine.filter { $0.file == file }.map { "\($0.secret.entry) \($0.secret.place)" }.joined(separator: ", ")
            }
            return DiagnosticCheck(subject: "client secrets", outcome: .warning,
                                   detail: "\(client.rawValue): \(mine.count) in plaintext: " + places.joined(separator: "; "),
                                   remedy: "`mcp-vault setup \(client.rawValue)` seals them in the vault and points the entries at them")
        }
    }

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
            case .vault(let target, _): url = target
            case .other, .foreignHelper: continue
            }
            if (try? ServerURL(url)) == server { names.insert(entry.name) }
        }
        return names.count == 1 ? names.first : nil
    }

    /// Clients with entries that still reach a remote server by themselves, and those entries' names.
    var clientsReachingServersDirectly: [(client: MCPClient, names: [String])] {
        files.compactMap { client, files in
            var names = files.flatMap(\.entries).filter { if case .remote = $0.kind { true } else { false } }.map(\.name)
            if client == .ohMyOpencode { names += skills.flatMap(\.entries).filter { $0.remote != nil }.map(\.name) }
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
                    case .vault(let url, _):
                        lines.append("    \(entry.name)  \(url)  gets its token from mcp-vault")
                    case .remote(let remote):
                        let held = vault.flatMap { vault in (try? ServerURL(remote.url)).map { (try? vault.read($0.canonical)) != nil } } ?? false
                        lines.append("    \(entry.name)  \(remote.url)  reaches the server \(remote.mcpRemote != nil ? "through mcp-remote" : "directly")"
                                     + (held ? " (the vault holds it)" : " (not in the vault)"))
                    case .foreignHelper(let url, let helperURL):
                        lines.append("    \(entry.name)  \(url)  NOT SAFE: " + MCPVault.Setup.foreignHelperWarning(url: url, helperURL: helperURL))
                    case .other:
                        break
                    }
                }
            }
            if client == .ohMyOpencode {
                for skill in skills {
                    lines.append("  \(skill.path) (front matter)")
                    for entry in skill.entries {
                        if let remote = entry.remote {
                            lines.append("    \(entry.name)  \(remote.url)  reaches the server directly"
                                         + (entry.value("oauth") != nil ? " and signs in by itself (plaintext tokens under mcp-oauth/)" : ""))
                        } else if let command = entry.value("command"), ServerEntry.isMCPVault(command) {
                            lines.append("    \(entry.name)  gets its token from mcp-vault")
                        }
                    }
                }
            }
            if pending.contains(client) {
                lines.append("  run `mcp-vault setup \(client.rawValue)` to point these at mcp-vault")
            }
        }
        return lines
    }

    /// For `doctor`: each entry that runs mcp-vault, started as its client starts it (the default
    /// PATH, the SDKs' default environment): found, and this version, or what to do.
    func launchChecks(environment: [String: String]) -> [DiagnosticCheck] {
        let launched = ClientLaunch.environment(from: environment)
        let own = ClientLaunch.realPath(OAuthProgram.ownPath)
        var versions: [String: String?] = [:]  // resolved path → its --version, nil when it does not run
        var checks: [DiagnosticCheck] = []
        for (client, files) in files {
            for file in files {
                for entry in file.entries {
                    let subject = "\(client.rawValue) \(entry.name)"
                    if client == .ohMyOpencode, case .remote(let remote) = entry.kind {
                        checks.append(Self.pluginReachesDirectly(subject: subject, path: file.path, url: remote.url,
                                                                 signsIn: entry.member.value.node["oauth"] != nil))
                        continue
                    }
                    if case .foreignHelper(let url, let helperURL) = entry.kind {
                        checks.append(DiagnosticCheck(subject: subject, outcome: .problem,
                                                      detail: "\(file.path): " + MCPVault.Setup.foreignHelperWarning(url: url, helperURL: helperURL),
                                                      remedy: "remove the entry, or set its headersHelper to `mcp-vault token \(url) --format json`"))
                        continue
                    }
                    guard case .vault(_, let command) = entry.kind else { continue }
                    let fix = "set its command to \(own) (this program's full path), or install mcp-vault in /usr/local/bin"
                    guard let path = ClientLaunch.resolve(command) else {
                        checks.append(DiagnosticCheck(subject: subject, outcome: .warning,
                                                      detail: "\(file.path): `\(command)` is not found when \(client.displayName) starts it (PATH \(launched["PATH"] ?? ""))",
                                                      remedy: fix))
                        continue
                    }
                    if versions[path] == nil {
                        let child = try? Subprocess.Detached([path, "--version"], passing: -1, environment: launched)
                        versions[path] = child?.finish(within: 10).flatMap { output, status in
                            status == 0 ? String(decoding: output, as: UTF8.self).split(whereSeparator: \.isWhitespace).first.map(String.init) : nil
                        }
                    }
                    switch versions[path] ?? nil {
                    case nil:
                        checks.append(DiagnosticCheck(subject: subject, outcome: .warning, detail: "\(file.path): \(path) does not run", remedy: fix))
                    case let version? where version != ProgramVersion.current:
                        checks.append(DiagnosticCheck(subject: subject, outcome: .warning,
                                                      detail: "\(file.path): \(path) is version \(version), this is \(ProgramVersion.current)", remedy: fix))
                    default:
                        checks.append(DiagnosticCheck(subject: subject, outcome: .ok, detail: "runs \(path), version \(ProgramVersion.current)", remedy: nil))
                    }
                }
            }
        }
        for skill in skills {
            for entry in skill.entries {
                guard let remote = entry.remote else { continue }
                checks.append(Self.pluginReachesDirectly(subject: "oh-my-opencode \(entry.name)", path: skill.path + " (front matter)",
                                                         url: remote.url, signsIn: entry.value("oauth") != nil))
            }
        }
        return checks
    }

    /// An entry oh-my-opencode loads that reaches its server by itself.
    static func pluginReachesDirectly(subject: String, path: String, url: String, signsIn: Bool) -> DiagnosticCheck {
        DiagnosticCheck(subject: subject, outcome: .warning,
                        detail: "\(path): oh-my-opencode reaches \(url) by itself" + (signsIn
                            ? " and signs in with its own OAuth engine, which writes a plaintext token under ~/.config/opencode/mcp-oauth/"
                            : ""),
                        remedy: "run `mcp-vault setup oh-my-opencode` (then `mcp-vault migrate` for the tokens it wrote)")
    }
}
