import ServerAddress
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What one server entry of a client's configuration is.
public struct ServerEntry: Sendable {
    public enum Kind: Sendable, Equatable {
        /// Reaches a remote server by itself (a URL entry) or through mcp-remote.
        case remote(RemoteServer)
        /// Already gets its token from mcp-vault, by running `command` (a name or a path).
        case vault(url: String, command: String)
        /// A headers helper that hands out the token of `helperURL` for requests to `url`, on
        /// another origin: a project's file can be written so, to take another server's token.
        case foreignHelper(url: String, helperURL: String)
        /// A local server, or anything else that is none of mcp-vault's business.
        case other
    }

    public let location: MCPClient.Location
    public let name: String
    public let member: JSONNode.Member
    public let kind: Kind
}

/// A remote server as an entry describes it.
public struct RemoteServer: Sendable, Equatable {
    public var url: String
    /// The entry names an HTTP+SSE endpoint (the 2024-11-05 transport).
    public var sse = false
    /// The entry forbids the fallback to HTTP+SSE (mcp-remote's `--transport http-only`).
    public var httpOnly = false
    /// Headers other than Authorization, which go on as `proxy --header`.
    public var headers: [Header] = []
    /// The entry holds a static Authorization header (a token in plaintext).
    public var hasAuthorizationHeader = false
    /// An Authorization header to send instead of an OAuth token: `{secret:NAME}` once `setup`
    /// has sealed a static one of a server that does not use OAuth.
    public var staticAuthorization: String?
    /// The server takes no OAuth token: its key is in another header (`proxy --no-token`).
    public var noToken = false
    /// Environment variables the Authorization header takes its value from (`${AUTH_HEADER}`),
    /// which hold the token and so go with it.
    public var authorizationVariables: [String] = []
    public var ignoredTools: [String] = []
    /// Set when the entry runs mcp-remote: what its file names hash (`MCPRemoteStore.hashes`).
    public var mcpRemote: MCPRemoteArguments?

    /// An entry's headers: Authorization marks a static token (which goes), the rest go on as
    /// `proxy --header`.
    mutating func take(_ pairs: [(name: String, value: String)]) {
        for (name, value) in pairs {
            if name.lowercased() == "authorization" { hasAuthorizationHeader = true } else { headers.append(Header(name: name, value: value)) }
        }
    }

    public struct Header: Sendable, Equatable {
        public let name: String
        public let value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public struct MCPRemoteArguments: Sendable, Equatable {
        public var authorizeResource: String?
        public var headers: [Header] = []
    }
}

extension ServerEntry {
    /// Classifies one entry of `location`'s servers object.
    static func classify(_ member: JSONNode.Member, in location: MCPClient.Location) -> Kind {
        let entry = member.value.node
        guard entry.members != nil else { return .other }
        if let commandLine = commandLine(of: entry) {
            if let url = vaultProxyURL(commandLine) { return .vault(url: url, command: commandLine[0]) }
            if let remote = mcpRemote(commandLine) { return .remote(remote) }
            return .other
        }
        if let helper = entry["headersHelper"]?.node.string, let url = vaultTokenURL(helper) {
            if let sent = entry["url"]?.node.string, (try? CanonicalURL(sent).origin) != (try? CanonicalURL(url).origin) {
                return .foreignHelper(url: sent, helperURL: url)
            }
            return .vault(url: url, command: ShellWords.split(helper)[0])
        }
        let type = entry["type"]?.node.string
        if location.client == .opencode && type != "remote" { return .other }
        let http = entry["httpUrl"]?.node.string ?? entry["serverUrl"]?.node.string  // Gemini CLI's, Windsurf's
        guard let url = http ?? entry["url"]?.node.string, url.contains("://") else { return .other }
        var remote = RemoteServer(url: url)
        // Gemini CLI's `url` without a type is tried as Streamable HTTP then SSE, as the proxy's auto does;
        // Cline's without a type is SSE.
        remote.sse = type == "sse" || (location.client == .cline && type == nil)
        for header in entry["headers"]?.node.members ?? [] {
            guard let value = header.value.node.string else { continue }
            if header.key.lowercased() == "authorization" {
                remote.hasAuthorizationHeader = true
            } else {
                remote.headers.append(.init(name: header.key, value: value))
            }
        }
        return .remote(remote)
    }

    /// The command line an entry runs, if it runs one.
    static func commandLine(of entry: JSONNode) -> [String]? {
        // Zed's older form: "command": {"path": …, "args": […], "env": {…}}.
        if let command = entry["command"]?.node, command.members != nil, let path = command["path"]?.node.string {
            return [path] + (command["args"]?.node.strings ?? [])
        }
        if let array = entry["command"]?.node.strings { return array + (entry["args"]?.node.strings ?? []) }
        if let command = entry["command"]?.node.string { return [command] + (entry["args"]?.node.strings ?? []) }
        return nil
    }

    /// Whether a command names mcp-vault (on PATH, or by its path).
    public static func isMCPVault(_ command: String) -> Bool {
        command == "mcp-vault" || command.hasSuffix("/mcp-vault")
    }

    /// The server URL of `mcp-vault proxy URL …`.
    static func vaultProxyURL(_ commandLine: [String]) -> String? {
        guard let first = commandLine.first, isMCPVault(first), commandLine.count >= 3, commandLine[1] == "proxy" else { return nil }
        return firstOperand(commandLine.dropFirst(2))
    }

    /// The server of a headers helper `mcp-vault token URL --format json`.
    static func vaultTokenURL(_ helper: String) -> String? {
        let words = ShellWords.split(helper)
        guard let first = words.first, isMCPVault(first), words.count >= 3, words[1] == "token" else { return nil }
        return firstOperand(words.dropFirst(2))
    }

    /// mcp-vault's options (of proxy and token) that take a value as the next word.
    static let vaultOptionsWithValues: Set<String> = [
        "--account", "--transport", "--header", "--ignore-tool", "--min-ttl", "--max-message-size", "--timeout", "--ca-file",
        "--vault-dir", "--passphrase-file", "--passphrase-fd", "--format", "--with-header", "--challenge",
    ]

    /// The first word that is neither an option nor an option's value (`proxy --account work URL`).
    static func firstOperand(_ words: ArraySlice<String>) -> String? {
        var skipNext = false
        for word in words {
            if skipNext { skipNext = false; continue }
            if word.hasPrefix("-") {
                skipNext = vaultOptionsWithValues.contains(word)
                continue
            }
            return word
        }
        return nil
    }

    /// The names of `${NAME}` references in `text`.
    static func variables(in text: String) -> [String] {
        text.split(separator: "${", omittingEmptySubsequences: false).dropFirst().compactMap { piece in
            piece.firstIndex(of: "}").map { String(piece[..<$0]) }
        }
    }

    /// mcp-remote's options that take a value (so that the value is not taken for the URL).
    static let mcpRemoteOptionsWithValues: Set<String> = [
        "--header", "--resource", "--authorize-resource", "--transport", "--host", "--auth-timeout", "--ignore-tool",
        "--static-oauth-client-metadata", "--static-oauth-client-info", "--callback-port",
    ]

    /// `npx -y mcp-remote URL [port] [--header 'Name: value'] [--resource R] [--transport sse-only] …`:
    /// the URL is the first argument after mcp-remote that is not an option or an option's value.
    static func mcpRemote(_ commandLine: [String]) -> RemoteServer? {
        guard let start = commandLine.firstIndex(where: { word in
            let base = word.split(separator: "/").last.map(String.init) ?? word
            return base == "mcp-remote" || base.hasPrefix("mcp-remote@")
        }) else { return nil }
        let arguments = Array(commandLine[(start + 1)...])
        var url: String?
        var remote = RemoteServer(url: "")
        var hashing = RemoteServer.MCPRemoteArguments()
        var index = 0
        while index < arguments.count {
            var argument = arguments[index]
            var value: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                value = String(argument[argument.index(after: equals)...])
                argument = String(argument[..<equals])
            } else if mcpRemoteOptionsWithValues.contains(argument) {
                value = index + 1 < arguments.count ? arguments[index + 1] : nil
                index += 1
            }
            index += 1
            switch argument {
            case "--header":
                if let value, let colon = value.firstIndex(of: ":") {
                    let header = RemoteServer.Header(name: String(value[..<colon]), value: String(value[value.index(after: colon)...]))
                    hashing.headers.append(header)
                    if header.name.lowercased() == "authorization" {
                        remote.hasAuthorizationHeader = true
                        remote.authorizationVariables += variables(in: header.value)
                    } else {
                        remote.headers.append(.init(name: header.name, value: String(header.value.drop { $0 == " " })))
                    }
                }
            case "--resource", "--authorize-resource":
                hashing.authorizeResource = value
            case "--transport":
                remote.sse = value == "sse-only"  // sse-first and http-first: the proxy's own detection
                remote.httpOnly = value == "http-only"
            case "--ignore-tool":
                if let value { remote.ignoredTools.append(value) }
            default:
                if url == nil, !argument.hasPrefix("-"), argument.contains("://") { url = argument }
            }
        }
        guard let url else { return nil }
        remote.url = url
        remote.mcpRemote = hashing
        return remote
    }
}

/// Splits a shell command line into words (single and double quotes, backslashes), enough to
/// read back the headers helper `setup` writes.
enum ShellWords {
    static func split(_ line: String) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for character in line {
            if escaped { current.append(character); escaped = false; continue }
            if let open = quote {
                if character == open { quote = nil } else if character == "\\" && open == "\"" { escaped = true } else { current.append(character) }
                continue
            }
            switch character {
            case "'", "\"": quote = character; inWord = true
            case "\\": escaped = true; inWord = true
            case " ", "\t", "\n":
                if inWord { words.append(current); current = ""; inWord = false }
            default: current.append(character); inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }

    /// `word` quoted for a POSIX shell when it needs it.
    static func quote(_ word: String) -> String {
        let safe = word.unicodeScalars.allSatisfy { scalar in
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || "-_./:=@%+,".unicodeScalars.contains(scalar)
        }
        return safe && !word.isEmpty ? word : "'" + word.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }
}
