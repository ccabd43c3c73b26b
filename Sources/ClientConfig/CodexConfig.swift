#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Vault

/// Codex's `config.toml` (openai/codex, codex-rs/config `mcp_types.rs`): servers as tables
/// `[mcp_servers.NAME]` with `command`/`args`/`env` (stdio) or `url` with `bearer_token_env_var`,
/// `http_headers` and `env_http_headers` (Streamable HTTP), beside settings of their own (`enabled`,
/// `startup_timeout_sec`, `enabled_tools`, …). Only the server tables' lines are read, in the
/// form Codex and its documentation write them; a rewrite replaces a table's transport lines and
/// keeps every other byte. Other forms (an inline table under `[mcp_servers]`, dotted keys, a
/// multi-line value) leave the entry alone, with a reason.
public struct CodexConfig: LineEditedConfig {
    public let path: String
    public let realPath: String
    public let bytes: [UInt8]
    public let permissions: UInt32
    public let entries: [Entry]
    public let problems: [String]
    /// The sub-tables of each server (`[mcp_servers.NAME.env]` → "env").
    let subtables: [String: [String]]

    public struct Entry: ServerLines {
        public let name: String
        /// Each key of the table, its value's text, and the span of its line (with the line end).
        let keys: [(key: String, value: String, line: Range<Int>)]
        /// Where the table's key lines start (after the header line).
        let bodyStart: Int
        public let headers: [(name: String, value: String)]

        public func value(_ key: String) -> String? { keys.last { $0.key == key }?.value }

        public var remote: RemoteServer? {
            guard value("command") == nil, let url = value("url").flatMap(Self.string), url.contains("://") else { return nil }
            var remote = RemoteServer(url: url)
            remote.take(headers)
            return remote
        }

        /// Whether the table runs mcp-vault already.
        public var runsMCPVault: Bool { value("command").flatMap(Self.string).map(ServerEntry.isMCPVault) ?? false }

        /// A TOML string value's text, unquoted (basic strings with the common escapes, literal strings).
        static func string(_ text: String) -> String? {
            guard text.count >= 2, let first = text.first, first == text.last, first == "\"" || first == "'" else { return nil }
            let inner = text.dropFirst().dropLast()
            guard first == "\"" else { return String(inner) }
            var out = ""
            var escaped = false
            for character in inner {
                if escaped {
                    switch character {
                    case "n": out += "\n"
                    case "t": out += "\t"
                    case "\"", "\\": out.append(character)
                    default: return nil
                    }
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else {
                    out.append(character)
                }
            }
            return escaped ? nil : out
        }
    }

    /// `~/.codex/config.toml` (or `$CODEX_HOME/config.toml`), and a trusted project's
    /// `.codex/config.toml`.
    public static func paths(environment: [String: String], projectDirectory: String) -> [String] {
        let home = environment["CODEX_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (environment["HOME"] ?? "") + "/.codex"
        let global = home + "/config.toml", project = projectDirectory + "/.codex/config.toml"
        // A project at the home directory names the global file again: it counts once.
        return ClientLaunch.realPath(global) == ClientLaunch.realPath(project) ? [global] : [global, project]
    }

    public static func read(_ path: String) throws -> CodexConfig? {
        let realPath = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard let attributes = PlainFiles.attributes(realPath) else { return nil }
        let bytes = try PlainFiles.read(realPath, limit: ConfigFile.sizeLimit)
        let (entries, problems) = parse(bytes)
        return CodexConfig(path: path, realPath: realPath, bytes: bytes, permissions: attributes.permissions, entries: entries, problems: problems,
                           subtables: subtables(bytes))
    }

    static func parse(_ bytes: [UInt8]) -> ([Entry], [String]) {
        var lines: [(text: String, range: Range<Int>)] = []
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: 0x0A).map { $0 + 1 } ?? bytes.count
            lines.append((Substring(decoding: bytes[start..<end], as: UTF8.self).trimmingSpaces, start..<end))
            start = end
        }
        var entries: [Entry] = []
        var problems: [String] = []
        var index = 0
        while index < lines.count {
            guard let name = serverName(ofHeader: lines[index].text) else {
                if lines[index].text.hasPrefix("[mcp_servers]") || lines[index].text.hasPrefix("mcp_servers.") {
                    problems.append("line \(index + 1): servers written as \(lines[index].text.hasPrefix("[") ? "inline tables under [mcp_servers]" : "dotted keys") are left alone; write each as a [mcp_servers.NAME] table")
                }
                index += 1
                continue
            }
            let bodyStart = lines[index].range.upperBound
            var keys: [(String, String, Range<Int>)] = []
            var headers: [(String, String)] = []
            var unreadable: String?
            index += 1
            while index < lines.count, !lines[index].text.hasPrefix("[") {
                let text = lines[index].text
                defer { index += 1 }
                if text.isEmpty || text.hasPrefix("#") { continue }
                guard let equals = text.firstIndex(of: "=") else { unreadable = "line \(index + 1) is not `key = value`"; continue }
                let key = String(text[..<equals]).trimmingSpaces
                let value = withoutComment(String(text[text.index(after: equals)...]).trimmingSpaces)
                if (value.hasPrefix("[") && !value.hasSuffix("]")) || (value.hasPrefix("{") && !value.hasSuffix("}")) || value.hasPrefix("\"\"\"") || value.hasPrefix("'''") {
                    unreadable = "the value of \(key) goes on over more lines"
                }
                keys.append((unquoted(key), value, lines[index].range))
                if unquoted(key) == "http_headers" { headers = inlineTable(value) ?? [] }
            }
            if let unreadable {
                problems.append("\(name): \(unreadable); left alone")
            } else {
                entries.append(Entry(name: name, keys: keys, bodyStart: bodyStart, headers: headers))
            }
        }
        return (entries, problems)
    }

    /// `NAME` of a `[mcp_servers.NAME]` header (NAME bare or quoted); nil for any other line.
    static func serverName(ofHeader line: String) -> String? {
        let line = withoutComment(line)
        guard line.hasPrefix("[mcp_servers."), !line.hasPrefix("[["), let close = line.lastIndex(of: "]") else { return nil }
        let rest = line[line.index(after: close)...].trimmingSpaces
        guard rest.isEmpty || rest.hasPrefix("#") else { return nil }
        let name = String(line[line.index(line.startIndex, offsetBy: "[mcp_servers.".count)..<close]).trimmingSpaces
        if name.hasPrefix("\"") || name.hasPrefix("'") { return Entry.string(name) }
        return name.contains(".") || name.isEmpty ? nil : name  // a sub-table such as [mcp_servers.NAME.tools.x]
    }

    static func unquoted(_ key: String) -> String { Entry.string(key) ?? key }

    /// A value without a `# comment` after it: outside strings (basic ones with their escapes,
    /// literal ones), a `#` starts a comment.
    static func withoutComment(_ value: String) -> String {
        var quote: Character?
        var escaped = false
        for index in value.indices {
            let character = value[index]
            if let open = quote {
                if escaped { escaped = false } else if character == "\\" && open == "\"" { escaped = true } else if character == open { quote = nil }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if character == "#" {
                return String(value[..<index]).trimmingSpaces
            }
        }
        return value
    }

    /// `{ "Name" = "value", Other = 'v' }` as pairs; nil when it is not such a table of strings.
    static func inlineTable(_ text: String) -> [(String, String)]? {
        guard text.hasPrefix("{"), text.hasSuffix("}") else { return nil }
        let inner = text.dropFirst().dropLast().trimmingSpaces
        guard !inner.isEmpty else { return [] }
        var pairs: [(String, String)] = []
        for part in inner.split(separator: ",") {  // header values with commas inside quotes are not expected here
            guard let equals = part.firstIndex(of: "="), let value = Entry.string(String(part[part.index(after: equals)...]).trimmingSpaces) else { return nil }
            pairs.append((unquoted(String(part[..<equals]).trimmingSpaces), value))
        }
        return pairs
    }

    /// Edits that make each chosen table run `command proxy …`: its transport lines removed,
    /// `command` and `args` first, every other line kept.
    public func edits(_ chosen: [(entry: Entry, arguments: [String])], command: String) -> [(span: Range<Int>, text: String)] {
        let transport: Set<String> = ["url", "bearer_token_env_var", "http_headers", "env_http_headers", "command", "args"]
        var edits: [(span: Range<Int>, text: String)] = []
        let newline = bytes.contains(0x0D) ? "\r\n" : "\n"
        for (entry, arguments) in chosen {
            let text = "command = " + JSONText.quoted(command) + newline
                + "args = [" + arguments.map(JSONText.quoted).joined(separator: ", ") + "]" + newline
            edits.append((entry.bodyStart..<entry.bodyStart, text))
            for key in entry.keys where transport.contains(key.key) { edits.append((key.line, "")) }
        }
        return edits
    }


    /// What the rewrite would not carry into the proxy's arguments: then the table is left alone.
    public func refusal(for entry: Entry) -> String? {
        if let other = subtables[entry.name]?.first(where: { $0 != "tools" && !$0.hasPrefix("tools.") && $0 != "env" }) {
            return "it has a [mcp_servers.\(entry.name).\(other)] table, which the proxy's arguments would not carry"
        }
        if entry.keys.contains(where: { $0.key.contains(".") }) { return "it has dotted keys, which the proxy's arguments would not carry" }
        if entry.value("env_http_headers") != nil {
            return "its env_http_headers take values from Codex's environment, which `proxy --header` does not read; move them to http_headers with ${VAR}"
        }
        if let headers = entry.value("http_headers"), Self.inlineTable(headers) == nil { return "its http_headers are not a table mcp-vault reads" }
        return nil
    }

    /// Each server's sub-tables, by the server's name.
    static func subtables(_ bytes: [UInt8]) -> [String: [String]] {
        var found: [String: [String]] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let text = withoutComment(String(line).trimmingSpaces)
            guard text.hasPrefix("[mcp_servers."), text.hasSuffix("]"), !text.hasPrefix("[[") else { continue }
            let path = text.dropFirst("[mcp_servers.".count).dropLast()
            guard let dot = path.firstIndex(of: "."), !path.hasPrefix("\"") && !path.hasPrefix("'") else { continue }
            found[String(path[..<dot]), default: []].append(String(path[path.index(after: dot)...]))
        }
        return found
    }

    /// Re-reads rewritten bytes: the same tables, the chosen ones running a command and no url.
    public func verified(_ newBytes: [UInt8], rewritten names: Set<String>) -> Bool {
        let (after, problems) = Self.parse(newBytes)  // sub-tables are untouched by a rewrite
        guard problems.count == self.problems.count, after.map(\.name) == entries.map(\.name) else { return false }
        return zip(entries, after).allSatisfy { old, new in
            names.contains(new.name) ? new.runsMCPVault && new.value("url") == nil
                : old.keys.map(\.key) == new.keys.map(\.key) && old.keys.map(\.value) == new.keys.map(\.value)
        }
    }
}

private extension StringProtocol {
    var trimmingSpaces: String {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" || first == "\r" || first == "\n" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" || last == "\r" || last == "\n" { text = text.dropLast() }
        return String(text)
    }
}
