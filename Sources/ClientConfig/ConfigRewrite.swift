#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Vault

/// The change `setup` makes to one file: each chosen entry's value replaced in place, every
/// other byte kept.
public struct ConfigChange: Sendable {
    public let file: ConfigFile
    public let newBytes: [UInt8]
    public var rewritten: [ServerEntry] = []
    /// Entries left alone, with why and the text to paste instead.
    public var refused: [(entry: ServerEntry, reason: String, snippet: String)] = []
    public var diff: String = ""

    public var changesFile: Bool { newBytes != file.document.bytes }
}

public enum ConfigRewrite {
    /// Rewrites `entries` (remote entries of `file`) to get their token from `command`
    /// (mcp-vault): a local entry running `command proxy URL`, or, for Claude Code's HTTP entries,
    /// a headers helper running `command token URL --format json`.
    /// `proxyForClaudeCode`: Claude Code's HTTP entries run the proxy too, where a headers helper
    /// would leave another reader of the file (oh-my-opencode) with an entry it cannot use.
    /// `localMoves`: local entries whose environment's secrets moved into the vault, to run
    /// `command run --env VAR=SECRET … -- their command`.
    public static func change(_ file: ConfigFile, entries: [ServerEntry], command: String, proxyForClaudeCode: Bool = false,
                              localMoves: [LocalSecretMove] = []) -> ConfigChange {
        var edits: [(span: Range<Int>, text: String)] = []
        var rewritten: [ServerEntry] = []
        var refused: [(ServerEntry, String, String)] = []
        var seen = Set<Int>()
        for move in localMoves {
            let entry = move.entry
            guard seen.insert(entry.member.span.lowerBound).inserted, let members = localMembers(move, file: file, command: command) else { continue }
            if file.document.hasComment(in: entry.member.value.span) {
                refused.append((entry, "it has comments inside, which a rewrite would lose", snippet(entry, members: members)))
                continue
            }
            edits.append((entry.member.value.span, render(members, for: entry, in: file.document)))
            rewritten.append(entry)
        }
        for entry in entries {
            guard case .remote(let remote) = entry.kind, seen.insert(entry.member.span.lowerBound).inserted else { continue }
            let members: [(String, String)]
            do {
                members = try replacementMembers(entry, remote, file: file, command: command, proxyForClaudeCode: proxyForClaudeCode)
            } catch {
                refused.append((entry, error.reason, snippet(entry, members: error.members)))
                continue
            }
            if file.document.hasComment(in: entry.member.value.span) {
                refused.append((entry, "it has comments inside, which a rewrite would lose", snippet(entry, members: members)))
                continue
            }
            edits.append((entry.member.value.span, render(members, for: entry, in: file.document)))
            rewritten.append(entry)
        }
        var bytes = file.document.bytes
        for edit in edits.sorted(by: { $0.span.lowerBound > $1.span.lowerBound }) {
            bytes.replaceSubrange(edit.span, with: Array(edit.text.utf8))
        }
        var change = ConfigChange(file: file, newBytes: bytes, rewritten: rewritten)
        change.refused = refused
        change.diff = UnifiedDiff.make(old: file.document.bytes, edits: edits, path: file.path)
        return change
    }

    struct Refusal: Error {
        let reason: String
        let members: [(String, String)]
    }

    /// The arguments after `proxy`.
    public static func proxyArguments(_ remote: RemoteServer) -> [String] {
        var arguments = ["proxy", remote.url]
        if remote.sse { arguments += ["--transport", "sse"] } else if remote.httpOnly { arguments += ["--transport", "streamable-http"] }
        if let authorization = remote.staticAuthorization { arguments += ["--header", "Authorization: \(authorization)"] }
        if remote.noToken { arguments.append("--no-token") }
        for header in remote.headers { arguments += ["--header", "\(header.name): \(header.value)"] }
        for tool in remote.ignoredTools { arguments += ["--ignore-tool", tool] }
        return arguments
    }

    /// The entry's new members, as (key, JSON text): the ones that reach mcp-vault first, then
    /// every member of the old entry that is not about the transport, as it was written.
    static func replacementMembers(_ entry: ServerEntry, _ remote: RemoteServer, file: ConfigFile, command: String,
                                   proxyForClaudeCode: Bool = false) throws(Refusal) -> [(String, String)] {
        let old = entry.member.value.node.members ?? []
        let client = entry.location.client
        func kept(dropping keys: Set<String>) -> [(String, String)] {
            old.filter { !keys.contains($0.key) }.map { member in
                // The variables a static Authorization header came from hold the token: they go too.
                if member.key == "env" || member.key == "environment", !remote.authorizationVariables.isEmpty, let variables = member.value.node.members {
                    let others = variables.filter { !remote.authorizationVariables.contains($0.key) }
                    return (member.key, "{" + others.map { json($0.key) + ": " + file.document.text($0.value.span) }.joined(separator: ", ") + "}")
                }
                return (member.key, file.document.text(member.value.span))
            }
        }
        let arguments = proxyArguments(remote)
        let hadType = old.contains { $0.key == "type" }
        switch client {
        case .opencode:
            return [("type", json("local")), ("command", json([command] + arguments))] + kept(dropping: client.transportKeys)
        case .vscode, .cline:
            return [("type", json("stdio")), ("command", json(command)), ("args", json(arguments))] + kept(dropping: client.transportKeys)
        case .claudeCode where remote.mcpRemote == nil && !proxyForClaudeCode && remote.staticAuthorization == nil && !remote.noToken:
            // Claude Code asks a headers helper for the headers of each connection: the URL stays.
            // Headers whose secrets moved into the vault come from the helper too.
            var members: [(String, String)] = []
            let sealed = remote.headers.filter { $0.value.contains("{secret:") }
            let helper = ([command, "token", remote.url, "--format", "json"] + sealed.flatMap { ["--with-header", "\($0.name): \($0.value)"] })
                .map(ShellWords.quote).joined(separator: " ")
            if let existing = entry.member.value.node["headersHelper"]?.node.string, ServerEntry.vaultTokenURL(existing) == nil {
                throw Refusal(reason: "it has a headers helper of its own (\(existing)); mcp-vault does not replace it", members: [])
            }
            let sealedNames = Set(sealed.map { $0.name.lowercased() })
            for member in old where member.key != "headersHelper" {
                if member.key == "headers" {
                    let others = (member.value.node.members ?? []).filter { $0.key.lowercased() != "authorization" && !sealedNames.contains($0.key.lowercased()) }
                    if !others.isEmpty { members.append(("headers", "{" + others.map { json($0.key) + ": " + file.document.text($0.value.span) }.joined(separator: ", ") + "}")) }
                } else {
                    members.append((member.key, file.document.text(member.value.span)))
                }
            }
            return members + [("headersHelper", json(helper))]
        case .claudeCode, .ohMyOpencode:
            return (hadType ? [("type", json("stdio"))] : []) + [("command", json(command)), ("args", json(arguments))]
                + kept(dropping: client.transportKeys)
        case .zed where entry.member.value.node["command"]?.node.members != nil:
            // The older form keeps its shape: the command object gets the new path and args, and
            // keeps its env.
            let previous = entry.member.value.node["command"]!.node
            let env = (previous["env"]).map { [("env", file.document.text($0.span))] } ?? []
            let object = "{" + ([("path", json(command)), ("args", json(arguments))] + env)
                .map { json($0.0) + ": " + $0.1 }.joined(separator: ", ") + "}"
            return [("command", object)] + kept(dropping: ["command", "url", "headers"])
        case .zed:
            // Zed's custom servers carry "source": "custom" (kept when there, added when not).
            let source: [(String, String)] = old.contains { $0.key == "source" } ? [] : [("source", json("custom"))]
            return source + [("command", json(command)), ("args", json(arguments))] + kept(dropping: client.transportKeys)
        case .claudeDesktop, .cursor, .gemini, .windsurf, .codex, .goose, .continueDev:
            return [("command", json(command)), ("args", json(arguments))] + kept(dropping: client.transportKeys)
        }
    }

    static func json(_ text: String) -> String { JSONText.quoted(text) }
    static func json(_ items: [String]) -> String { "[" + items.map(json).joined(separator: ", ") + "]" }

    /// The value text for `members`, laid out as the entry was: on one line if it was, else one
    /// member per line at the indentation its members had.
    static func render(_ members: [(String, String)], for entry: ServerEntry, in document: JSONCDocument) -> String {
        let span = entry.member.value.span
        let oneLine = !document.bytes[span].contains(0x0A)
        if oneLine {
            return "{ " + members.map { json($0.0) + ": " + $0.1 }.joined(separator: ", ") + " }"
        }
        let newline = document.lineEnding
        let outer = document.indentation(ofLineAt: entry.member.span.lowerBound)
        let inner = (entry.member.value.node.members?.first).map { document.indentation(ofLineAt: $0.span.lowerBound) }
            .flatMap { $0.count > outer.count ? $0 : nil } ?? outer + (outer.hasPrefix("\t") ? "\t" : "  ")
        return "{" + newline + members.map { inner + json($0.0) + ": " + $0.1 }.joined(separator: "," + newline) + newline + outer + "}"
    }

    /// `"name": {…}`, to paste by hand.
    static func snippet(_ entry: ServerEntry, members: [(String, String)]) -> String {
        guard !members.isEmpty else { return "" }
        return json(entry.name) + ": {\n" + members.map { "  " + json($0.0) + ": " + $0.1 }.joined(separator: ",\n") + "\n}"
    }

    /// Writes the change: a backup of the old file beside it (mode 0600: it may hold a token in a
    /// header), then the new bytes atomically with the old file's permissions. Refuses when the
    /// file changed since it was read, and when its owner may not write it: a file made read-only
    /// (by hand, or by a tool that manages it) is not replaced behind that choice.
    public static func write(_ change: ConfigChange) throws -> String {
        try write(path: change.file.path, realPath: change.file.realPath, permissions: change.file.permissions,
                  old: change.file.document.bytes, new: change.newBytes)
    }

    /// `write(_:)` for any file read as `old` from `realPath` (a skill's SKILL.md, say).
    public static func write(path: String, realPath: String, permissions: UInt32, old: [UInt8], new: [UInt8]) throws -> String {
        guard permissions & 0o200 != 0 else {
            throw WriteError(description: "it is read-only (mode \(String(permissions, radix: 8))); "
                + "make it writable (chmod u+w) or change it yourself as `setup --dry-run` shows")
        }
        let current = try PlainFiles.read(realPath, limit: ConfigFile.sizeLimit)
        guard current == old else {
            throw WriteError(description: "\(path) changed while setup ran (the client may have written it); nothing was written, run setup again")
        }
        // Every change gets its own backup: the first is FILE.before-mcp-vault, later ones .2, .3…
        // (what a later run removes, a static token say, must not be lost with an older backup).
        let base = realPath + ".before-mcp-vault"
        var backup = base
        var number = 2
        while PlainFiles.exists(backup) {
            backup = base + ".\(number)"
            number += 1
        }
        try PlainFiles.replace(backup, with: current)
        try PlainFiles.replace(realPath, with: new, permissions: permissions)
        return backup
    }

    public struct WriteError: Error, CustomStringConvertible {
        public let description: String
    }
}
