/// One plaintext secret in a client's configuration: where it is and what it is called. Its
/// value is only for sealing it; never print it.
public struct PlaintextSecret: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// An environment variable of a local server (`env`, opencode's `environment`).
        case environment
        /// A header of a remote server.
        case header
    }

    public let entry: String
    public let variable: String
    public let value: String
    public let kind: Kind

    /// Where it is, for a message: `env GITHUB_TOKEN` or `header X-API-Key`.
    public var place: String { (kind == .environment ? "env " : "header ") + variable }
}

/// A local (stdio) server as an entry describes it: the command line, and its environment.
public struct LocalServer: Sendable, Equatable {
    public var commandLine: [String]
    public var environment: [(name: String, value: String)]

    public static func == (left: LocalServer, right: LocalServer) -> Bool {
        left.commandLine == right.commandLine && left.environment.elementsEqual(right.environment) { $0 == $1 }
    }
}

extension ServerEntry {
    /// The key of the entry's environment object: opencode's `environment`, everyone else's `env`.
    var environmentKey: String { location.client == .opencode || location.client == .ohMyOpencode && member.value.node["environment"] != nil
        ? "environment" : "env" }

    /// The entry as a local server, when it runs a command.
    public var localServer: LocalServer? {
        let node = member.value.node
        guard node.members != nil, let commandLine = Self.commandLine(of: node) else { return nil }
        let zedObject = node["command"]?.node.members != nil
        let environment = (zedObject ? node["command"]?.node["env"]?.node : node[environmentKey]?.node)?.members ?? []
        return LocalServer(commandLine: commandLine,
                           environment: environment.compactMap { member in member.value.node.string.map { (member.key, $0) } })
    }

    /// The plaintext secrets of this entry: its environment's, and its headers' (the static
    /// Authorization included).
    public var plaintextSecrets: [PlaintextSecret] {
        var found: [PlaintextSecret] = []
        if let local = localServer {
            for (name, value) in local.environment where PlaintextSecrets.isSecret(name: name, value: value) {
                found.append(PlaintextSecret(entry: self.name, variable: name, value: value, kind: .environment))
            }
            // mcp-remote's --header arguments.
            for header in Self.mcpRemote(local.commandLine)?.mcpRemote?.headers ?? [] {
                let value = String(header.value.drop { $0 == " " })
                if PlaintextSecrets.isSecret(name: header.name, value: value) {
                    found.append(PlaintextSecret(entry: name, variable: header.name, value: value, kind: .header))
                }
            }
        }
        for header in member.value.node["headers"]?.node.members ?? [] {
            guard let value = header.value.node.string, PlaintextSecrets.isSecret(name: header.key, value: value) else { continue }
            found.append(PlaintextSecret(entry: name, variable: header.key, value: value, kind: .header))
        }
        return found
    }

    /// The same entry, reaching the remote server as `remote` says (headers whose values became
    /// `{secret:NAME}`, say).
    public func with(remote: RemoteServer) -> ServerEntry {
        ServerEntry(location: location, name: name, member: member, kind: .remote(remote))
    }
}

/// What `setup` does to a local entry whose environment holds secrets: the command becomes
/// `mcp-vault run --env VAR=SECRET … -- the old command`, and the variables leave its environment.
public struct LocalSecretMove: Sendable {
    public let entry: ServerEntry
    /// (variable, secret name), in the order of the entry's environment.
    public let moves: [(variable: String, secret: String)]

    public init(entry: ServerEntry, moves: [(variable: String, secret: String)]) {
        self.entry = entry
        self.moves = moves
    }

    /// The new command line: the old one behind `COMMAND run --env … --`; an entry that runs
    /// `mcp-vault run` already gets the new --env options before its `--`.
    func commandLine(_ old: [String], command: String) -> [String] {
        let assignments = moves.flatMap { ["--env", "\($0.variable)=\($0.secret)"] }
        if let first = old.first, ServerEntry.isMCPVault(first), old.count > 1, old[1] == "run", let terminator = old.firstIndex(of: "--") {
            return Array(old[..<terminator]) + assignments + Array(old[terminator...])
        }
        return [command, "run"] + assignments + ["--"] + old
    }
}

extension ConfigRewrite {
    /// The new members of a local entry whose secrets move into the vault: every member in its
    /// place, with the command (and args) changed and the moved variables gone from its
    /// environment (which goes when nothing is left in it).
    static func localMembers(_ move: LocalSecretMove, file: ConfigFile, command: String) -> [(String, String)]? {
        let entry = move.entry
        guard let local = entry.localServer, let old = entry.member.value.node.members else { return nil }
        let moved = Set(move.moves.map(\.variable))
        let newLine = move.commandLine(local.commandLine, command: command)
        func environment(_ node: JSONNode) -> String? {
            let kept = (node.members ?? []).filter { !moved.contains($0.key) }
            return kept.isEmpty ? nil : "{" + kept.map { json($0.key) + ": " + file.document.text($0.value.span) }.joined(separator: ", ") + "}"
        }
        var members: [(String, String)] = []
        if let zed = entry.member.value.node["command"]?.node, zed.members != nil {
            // Zed's older form: "command": {"path", "args", "env"}.
            var inner = [("path", json(newLine[0])), ("args", json(Array(newLine.dropFirst())))]
            if let env = zed["env"].flatMap({ environment($0.node) }) { inner.append(("env", env)) }
            for member in zed.members! where !["path", "args", "env"].contains(member.key) {
                inner.append((member.key, file.document.text(member.value.span)))
            }
            for member in old {
                members.append(member.key == "command" ? ("command", "{" + inner.map { json($0.0) + ": " + $0.1 }.joined(separator: ", ") + "}")
                               : (member.key, file.document.text(member.value.span)))
            }
            return members
        }
        let commandIsArray = entry.member.value.node["command"]?.node.strings != nil
        let hasArgs = old.contains { $0.key == "args" }
        for member in old {
            switch member.key {
            case "command" where commandIsArray:
                members.append(("command", json(newLine)))
            case "command":
                members.append(("command", json(newLine[0])))
                if !hasArgs { members.append(("args", json(Array(newLine.dropFirst())))) }
            case "args" where !commandIsArray:
                members.append(("args", json(Array(newLine.dropFirst()))))
            case entry.environmentKey:
                if let env = environment(member.value.node) { members.append((member.key, env)) }
            default:
                members.append((member.key, file.document.text(member.value.span)))
            }
        }
        return members
    }
}
