#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Vault

/// A skill's `SKILL.md` whose YAML front matter names MCP servers (`mcp:`), as oh-my-opencode
/// loads them. Only the front matter's `mcp` map is read, in the forms skills write it:
///
///     ---
///     name: docs
///     mcp:
///       linear:                                  # a block mapping
///         url: https://mcp.linear.app/mcp
///         oauth: {}
///       peer: {url: "https://…", oauth: {}}      # or a flow mapping on one line
///     ---
///
/// An entry is known by its lines: a rewrite replaces those lines (or, for a flow mapping, the
/// text after the name) and keeps every other byte of the file. YAML beyond what entries of this
/// shape use (anchors, multi-line flow, block scalars) leaves the entry alone, with a reason.
public struct SkillFile: LineEditedConfig {
    /// How one kind of YAML file names its servers and their keys.
    public struct Dialect: Sendable {
        /// The top-level key of the servers map.
        let topKey: String
        /// Only the `---` front matter at the file's start is YAML (a SKILL.md).
        let frontMatter: Bool
        let urlKey: String
        let commandKey: String
        /// A `type` a rewritten entry gets, first (Goose's `stdio`), or none.
        let stdioType: String?
        /// The `type`s of a remote entry (nil: any, when there is a url).
        let remoteTypes: Set<String>?
        /// Keys about the transport: a rewritten entry drops them.
        let transport: Set<String>

        /// oh-my-opencode's skills: `mcp:` in SKILL.md's front matter, Claude Code's entry keys.
        public static let skill = Dialect(topKey: "mcp", frontMatter: true, urlKey: "url", commandKey: "command", stdioType: nil,
                                          remoteTypes: nil, transport: ["type", "url", "headers", "oauth", "command", "args"])
        /// Goose's `~/.config/goose/config.yaml`: `extensions:`, each with `type: streamable_http`
        /// (or `sse`) and `uri`, or `type: stdio` and `cmd` (block/goose crates/goose config/extensions.rs).
        /// Where Goose keeps it: `$XDG_CONFIG_HOME/goose/config.yaml` (else ~/.config).
        public static func goosePath(environment: [String: String]) -> String {
            (environment["XDG_CONFIG_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? (environment["HOME"] ?? "") + "/.config") + "/goose/config.yaml"
        }

        public static let goose = Dialect(topKey: "extensions", frontMatter: false, urlKey: "uri", commandKey: "cmd", stdioType: "stdio",
                                          remoteTypes: ["streamable_http", "sse"], transport: ["type", "uri", "headers", "cmd", "args"])
    }

    public let dialect: Dialect
    public let path: String
    public let realPath: String
    public let bytes: [UInt8]
    public let permissions: UInt32
    public let entries: [Entry]
    /// Entries that could not be read, with why.
    public let problems: [String]
    /// "\r\n" when the file has any line so ended, else "\n".
    var lineEnding: String { zip(bytes, bytes.dropFirst()).contains { $0 == 0x0D && $1 == 0x0A } ? "\r\n" : "\n" }

    public struct Entry: ServerLines {
        public let name: String
        /// The entry's keys and their values as text (`oauth` and other nested values as their
        /// source text).
        public let fields: [(key: String, value: String)]
        public let headers: [(name: String, value: String)]
        /// Byte range of what a rewrite replaces: the entry's whole lines (block form) or its
        /// value after `name:` (flow form).
        public let span: Range<Int>
        public let isFlow: Bool
        /// The indentation of the entry's own line, and of its keys (block form).
        public let indentation: String
        public let keyIndentation: String
        /// Spans of the block form's keys, each from its line's start to the next key's.
        let keySpans: [(key: String, span: Range<Int>)]
        let dialect: Dialect

        public func value(_ key: String) -> String? { fields.last { $0.key == key }?.value }

        public var runsMCPVault: Bool { value(dialect.commandKey).map(ServerEntry.isMCPVault) ?? false }

        /// A remote server (a url, not stdio), as `setup` sees it.
        public var remote: RemoteServer? {
            guard value(dialect.commandKey) == nil, let url = value(dialect.urlKey), url.contains("://"),
                  dialect.remoteTypes.map({ value("type").map($0.contains) ?? false }) ?? true else { return nil }
            var remote = RemoteServer(url: url)
            remote.sse = value("type") == "sse"
            remote.take(headers)
            return remote
        }
    }

    /// Reads `path` (nil when it has no servers map: no front matter with `mcp`, say).
    public static func read(_ path: String, dialect: Dialect = .skill) throws -> SkillFile? {
        let realPath = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard let attributes = PlainFiles.attributes(realPath) else { return nil }
        let bytes = try PlainFiles.read(realPath, limit: ConfigFile.sizeLimit)
        var reader = FrontMatter(bytes: bytes)
        guard let (entries, problems) = reader.entries(dialect) else { return nil }
        return SkillFile(dialect: dialect, path: path, realPath: realPath, bytes: bytes, permissions: attributes.permissions, entries: entries,
                         problems: problems)
    }

    /// The file with `entries` rewritten to run `command proxy …` (the plugin starts stdio
    /// servers itself), each keeping its keys other than the transport's.
    public func edits(_ chosen: [(entry: Entry, arguments: [String])], command: String) -> [(span: Range<Int>, text: String)] {
        var edits: [(Range<Int>, String)] = []
        for (entry, arguments) in chosen {
            let members = (dialect.stdioType.map { [("type", $0)] } ?? []) + [(dialect.commandKey, JSONText.quoted(command)),
                                                                              ("args", "[" + arguments.map(JSONText.quoted).joined(separator: ", ") + "]")]
            if entry.isFlow {
                edits.append((entry.span, "{" + members.map { $0.0 + ": " + $0.1 }.joined(separator: ", ") + "}"))
                continue
            }
            var text = entry.indentation + entry.name.yamlKey + ":" + lineEnding
            for (key, value) in members { text += entry.keyIndentation + key + ": " + value + lineEnding }
            for key in entry.keySpans {
                text += dialect.transport.contains(key.key) ? trailingCommentLines(bytes[key.span]) : String(decoding: bytes[key.span], as: UTF8.self)
            }
            edits.append((entry.span, text))
        }
        return edits
    }


    /// Re-reads rewritten bytes: the same entries by name, the chosen ones now running a command.
    public func verified(_ newBytes: [UInt8], rewritten names: Set<String>) -> Bool {
        var reader = FrontMatter(bytes: newBytes)
        guard let (after, problems) = reader.entries(dialect), problems.count == self.problems.count else { return false }
        guard after.map(\.name) == entries.map(\.name) else { return false }
        return zip(entries, after).allSatisfy { old, new in
            names.contains(new.name) ? new.runsMCPVault && new.value(dialect.urlKey) == nil && new.value("oauth") == nil
                : old.fields.map(\.key) == new.fields.map(\.key) && old.fields.map(\.value) == new.fields.map(\.value)
        }
    }

    /// Whether an entry can be rewritten in place: a flow mapping only when nothing but the
    /// transport is in it (its other keys would have to be rewritten too).
    public func refusal(for entry: Entry) -> String? {
        if entry.isFlow, entry.fields.contains(where: { !dialect.transport.contains($0.key) }) {
            return "its one-line mapping holds more than the server's address; write it as a block"
        }
        return nil
    }
}

private extension String {
    /// A mapping key as YAML: plain when it is a simple word, else double-quoted.
    var yamlKey: String {
        allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." } && !isEmpty ? self : JSONText.quoted(self)
    }
}

/// The lines of a front matter, and the small part of YAML its `mcp` map is written in.
struct FrontMatter {
    struct Line {
        let range: Range<Int>  // without the line ending
        let next: Int  // where the next line starts
        let indentation: Int
        let text: Substring  // without indentation and ending
    }

    let bytes: [UInt8]
    var lines: [Line] = []
    var dialect = SkillFile.Dialect.skill

    init(bytes: [UInt8]) {
        self.bytes = bytes
        var start = 0
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { start = 3 }
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
            var content = end
            if content > start && bytes[content - 1] == 0x0D { content -= 1 }
            let indentation = bytes[start..<content].prefix { $0 == 0x20 }.count
            let text = Substring(decoding: bytes[(start + indentation)..<content], as: UTF8.self)
            lines.append(Line(range: start..<content, next: min(end + 1, bytes.count), indentation: indentation, text: text))
            start = end + 1
        }
    }

    /// The entries of the servers map (`mcp` of a front matter, Goose's `extensions`); nil when
    /// there is none.
    mutating func entries(_ dialect: SkillFile.Dialect) -> ([SkillFile.Entry], [String])? {
        let start: Int, close: Int
        if dialect.frontMatter {
            guard let first = lines.first, first.text == "---", first.indentation == 0,
                  let end = lines.indices.dropFirst().first(where: { lines[$0].indentation == 0 && (lines[$0].text == "---" || lines[$0].text == "...") })
            else { return nil }
            (start, close) = (1, end)
        } else {
            (start, close) = (0, lines.count)
        }
        guard let mcp = (start..<close).first(where: { lines[$0].indentation == 0 && Self.key(of: lines[$0].text)?.key == dialect.topKey }) else { return nil }
        self.dialect = dialect
        var entries: [SkillFile.Entry] = []
        var problems: [String] = []
        guard Self.key(of: lines[mcp].text)?.rest.isEmpty == true else {
            problems.append("\(dialect.topKey): is not written as a block mapping; left alone")
            return ([], problems)
        }
        let body = (mcp + 1)..<((mcp + 1..<close).first { lines[$0].indentation == 0 && !Self.blank(lines[$0].text) } ?? close)
        let entryIndentation = body.first { !Self.blank(lines[$0].text) }.map { lines[$0].indentation } ?? 0
        var index = body.lowerBound
        while index < body.upperBound {
            let line = lines[index]
            guard !Self.blank(line.text), line.indentation == entryIndentation, let (name, rest) = Self.key(of: line.text) else {
                index += 1
                continue
            }
            let end = ((index + 1)..<body.upperBound).first { !Self.blank(lines[$0].text) && lines[$0].indentation <= entryIndentation } ?? body.upperBound
            do {
                entries.append(try entry(name: name, rest: rest, lines: index..<end))
            } catch {
                problems.append("\(name): \(error.reason); left alone")
            }
            index = end
        }
        return (entries, problems)
    }

    struct Unreadable: Error { let reason: String }

    private func entry(name: String, rest: Substring, lines range: Range<Int>) throws(Unreadable) -> SkillFile.Entry {
        let head = lines[range.lowerBound]
        let indentation = String(repeating: " ", count: head.indentation)
        if !rest.isEmpty {
            // `name: {url: …, oauth: {}}` on one line.
            var parser = FlowParser(text: rest)
            guard let fields = parser.mapping(), parser.atEnd, range.count == 1 || (range.dropFirst()).allSatisfy({ Self.blank(lines[$0].text) }) else {
                throw Unreadable(reason: "its value is not a one-line mapping mcp-vault reads")
            }
            let headers = FlowParser.pairs(fields.first { $0.key == "headers" }?.value ?? "")
            // The mapping's own text: not a comment after it.
            let contentStart = head.range.lowerBound + head.indentation
            let start = contentStart + head.text.utf8.distance(from: head.text.startIndex, to: rest.startIndex)
            let end = contentStart + head.text.utf8.distance(from: head.text.startIndex, to: parser.index)
            return SkillFile.Entry(name: name, fields: fields, headers: headers, span: start..<end, isFlow: true,
                                   indentation: indentation, keyIndentation: indentation, keySpans: [], dialect: dialect)
        }
        let children = (range.lowerBound + 1)..<range.upperBound
        guard let keyIndentation = children.first(where: { !Self.blank(lines[$0].text) }).map({ lines[$0].indentation }) else {
            throw Unreadable(reason: "it is empty")
        }
        var fields: [(String, String)] = []
        var headers: [(String, String)] = []
        var keySpans: [(String, Range<Int>)] = []
        var index = children.lowerBound
        while index < children.upperBound {
            let line = lines[index]
            guard !Self.blank(line.text) else { index += 1; continue }
            guard line.indentation == keyIndentation, let (key, value) = Self.key(of: line.text) else {
                throw Unreadable(reason: "line \(index + 1) is not a key of the entry")
            }
            // A sequence may sit at its key's own indentation (`args:` then `- x` lines).
            let end = ((index + 1)..<children.upperBound).first {
                !Self.blank(lines[$0].text) && lines[$0].indentation <= keyIndentation
                    && !(lines[$0].indentation == keyIndentation && lines[$0].text.hasPrefix("- ") && value.isEmpty)
            } ?? children.upperBound
            let next = end < lines.count ? lines[end].range.lowerBound : bytes.count
            keySpans.append((key, line.range.lowerBound..<(end == children.upperBound ? lines[end - 1].next : next)))
            if !value.isEmpty {
                guard ((index + 1)..<end).allSatisfy({ Self.blank(lines[$0].text) }) else {
                    throw Unreadable(reason: "the value of \(key) goes on over more lines")
                }
                var parser = FlowParser(text: value)
                guard let scalar = parser.value(), parser.atEnd else { throw Unreadable(reason: "the value of \(key) is not one mcp-vault reads") }
                fields.append((key, scalar))
                if key == "headers" { headers = FlowParser.pairs(scalar) }
            } else {
                // A nested block: kept as its text; for headers, its `Name: value` lines.
                let nested = ((index + 1)..<end).filter { !Self.blank(lines[$0].text) }
                fields.append((key, nested.map { String(lines[$0].text) }.joined(separator: "\n")))
                if key == "headers" {
                    for nestedIndex in nested {
                        guard let (name, raw) = Self.key(of: lines[nestedIndex].text) else { throw Unreadable(reason: "a header is not `Name: value`") }
                        var parser = FlowParser(text: raw)
                        guard let value = parser.value(), parser.atEnd else { throw Unreadable(reason: "the header \(name) is not one value") }
                        headers.append((name, value))
                    }
                }
            }
            index = end
        }
        let span = head.range.lowerBound..<(range.upperBound < lines.count ? lines[range.upperBound].range.lowerBound : lines[range.upperBound - 1].next)
        return SkillFile.Entry(name: name, fields: fields, headers: headers, span: span, isFlow: false, indentation: indentation,
                               keyIndentation: String(repeating: " ", count: keyIndentation), keySpans: keySpans, dialect: dialect)
    }

    static func blank(_ text: Substring) -> Bool { text.isEmpty || text.first == "#" }

    /// `key: rest` (rest without a trailing comment); the key plain or quoted.
    static func key(of text: Substring) -> (key: String, rest: Substring)? {
        var parser = FlowParser(text: text)
        guard let key = parser.scalar(stoppingAt: ":", inFlow: false), parser.take(":"), parser.atEnd || parser.take(" ") else { return nil }
        return (key, parser.remainder)
    }
}

/// Flow YAML on one line: scalars (plain, 'single' and "double" quoted), `{…}` and `[…]`.
struct FlowParser {
    let text: Substring
    var index: Substring.Index

    init(text: Substring) {
        self.text = text
        index = text.startIndex
    }

    /// What is left (a slice of the text), without surrounding spaces and a trailing comment.
    var remainder: Substring {
        var rest = text[index...].drop { $0 == " " }
        if rest.first == "#" { return rest[rest.startIndex..<rest.startIndex] }
        if !rest.contains("\""), !rest.contains("'"), let comment = rest.firstRange(of: " #") { rest = rest[..<comment.lowerBound] }
        while rest.last == " " { rest = rest.dropLast() }
        return rest
    }

    var atEnd: Bool {
        let rest = text[index...].drop { $0 == " " }
        return rest.isEmpty || rest.first == "#"
    }

    mutating func skipSpaces() { while index < text.endIndex && text[index] == " " { index = text.index(after: index) } }

    mutating func take(_ character: Character) -> Bool {
        guard index < text.endIndex, text[index] == character else { return false }
        index = text.index(after: index)
        return true
    }

    /// A value as text: a scalar's value, or a collection's source text.
    mutating func value() -> String? {
        skipSpaces()
        let start = index
        if index < text.endIndex && (text[index] == "{" || text[index] == "[") {
            guard skipCollection() else { return nil }
            return String(text[start..<index])
        }
        return scalar(stoppingAt: nil, inFlow: false)
    }

    /// The key-value pairs of a flow mapping.
    mutating func mapping() -> [(key: String, value: String)]? {
        skipSpaces()
        guard take("{") else { return nil }
        var pairs: [(String, String)] = []
        while true {
            skipSpaces()
            if take("}") { return pairs }
            skipSpaces()
            guard let key = scalar(stoppingAt: ":", inFlow: true), take(":") else { return nil }
            skipSpaces()
            let value: String
            if index < text.endIndex && (text[index] == "{" || text[index] == "[") {
                let start = index
                guard skipCollection() else { return nil }
                value = String(text[start..<index])
            } else {
                guard let scalar = scalar(stoppingAt: nil, inFlow: true) else { return nil }
                value = scalar
            }
            pairs.append((key, value))
            skipSpaces()
            if take(",") { continue }
            guard take("}") else { return nil }
            return pairs
        }
    }

    static func pairs(_ text: String) -> [(String, String)] {
        var parser = FlowParser(text: Substring(text))
        return parser.mapping() ?? []
    }

    private mutating func skipCollection() -> Bool {
        var depth = 0
        while index < text.endIndex {
            let character = text[index]
            if character == "\"" || character == "'" {
                guard scalar(stoppingAt: nil, inFlow: true) != nil else { return false }
                continue
            }
            if character == "{" || character == "[" { depth += 1 }
            if character == "}" || character == "]" {
                depth -= 1
                if depth == 0 {
                    index = text.index(after: index)
                    return true
                }
            }
            index = text.index(after: index)
        }
        return false
    }

    /// A plain or quoted scalar; a plain one ends at `stop` followed by a space (or the end),
    /// at `,` `}` `]` inside a flow collection, or at ` #`.
    mutating func scalar(stoppingAt stop: Character?, inFlow: Bool) -> String? {
        skipSpaces()
        guard index < text.endIndex else { return nil }
        switch text[index] {
        case "\"":
            index = text.index(after: index)
            var out = ""
            while index < text.endIndex {
                let character = text[index]
                index = text.index(after: index)
                if character == "\"" { return out }
                if character == "\\", index < text.endIndex {
                    let escaped = text[index]
                    index = text.index(after: index)
                    switch escaped {
                    case "n": out += "\n"
                    case "t": out += "\t"
                    case "\"", "\\", "/": out.append(escaped)
                    default: return nil  // others are not used by the entries read here
                    }
                } else {
                    out.append(character)
                }
            }
            return nil
        case "'":
            index = text.index(after: index)
            var out = ""
            while index < text.endIndex {
                let character = text[index]
                index = text.index(after: index)
                if character == "'" {
                    if index < text.endIndex && text[index] == "'" {
                        out.append("'")
                        index = text.index(after: index)
                        continue
                    }
                    return out
                }
                out.append(character)
            }
            return nil
        default:
            let start = index
            while index < text.endIndex {
                let character = text[index]
                let next = text.index(after: index)
                let followedBySpace = next == text.endIndex || text[next] == " "
                if let stop, character == stop, followedBySpace { break }
                if stop == nil, character == ":", followedBySpace { break }
                if inFlow && (character == "," || character == "}" || character == "]") { break }
                if character == "#", index > start, text[text.index(before: index)] == " " { break }
                index = next
            }
            let value = String(text[start..<index]).trimmingTrailingSpaces
            return value.isEmpty ? nil : value
        }
    }
}

private extension String {
    var trimmingTrailingSpaces: String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
