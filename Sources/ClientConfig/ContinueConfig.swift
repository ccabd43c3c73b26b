#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Vault

/// Continue's YAML (continuedev/continue packages/config-yaml): `~/.continue/config.yaml` and a
/// project's `.continue/mcpServers/*.yaml` blocks, each with an `mcpServers:` list of entries:
/// `name`, then `command`/`args`/`env` or `type` (`streamable-http`, `sse`) and `url`, with
/// `requestOptions.headers` and `apiKey` (sent as a bearer token). A rewrite replaces the list
/// item's lines and keeps every other byte.
public struct ContinueConfig: LineEditedConfig {
    public let path: String
    public let realPath: String
    public let bytes: [UInt8]
    public let permissions: UInt32
    public let entries: [Entry]
    public let problems: [String]

    public struct Entry: ServerLines {
        public let name: String
        let fields: [(key: String, value: String)]
        public let headers: [(name: String, value: String)]
        /// The item's lines, from its `- `.
        let span: Range<Int>
        let dashIndentation: String
        let keyIndentation: String
        /// The keys after the item's first line, each with its lines.
        let keySpans: [(key: String, span: Range<Int>)]
        /// Why its `requestOptions` are not all carried by the rewrite (other options, headers in a
        /// form not read), or nil.
        let requestOptionsProblem: String?

        func value(_ key: String) -> String? { fields.last { $0.key == key }?.value }

        public var remote: RemoteServer? {
            guard value("command") == nil, let url = value("url"), url.contains("://") else { return nil }
            var remote = RemoteServer(url: url)
            remote.sse = value("type") == "sse"
            remote.hasAuthorizationHeader = value("apiKey") != nil
            remote.take(headers)
            return remote
        }

        public var runsMCPVault: Bool { value("command").map(ServerEntry.isMCPVault) ?? false }
    }

    /// `$CONTINUE_GLOBAL_DIR/config.yaml` (else ~/.continue), and the project's block files.
    public static func paths(environment: [String: String], projectDirectory: String) -> [String] {
        let global = environment["CONTINUE_GLOBAL_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? (environment["HOME"] ?? "") + "/.continue"
        let blocks = projectDirectory + "/.continue/mcpServers"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: blocks)) ?? []).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
        return [global + "/config.yaml"] + names.sorted().map { blocks + "/" + $0 }
    }

    public static func read(_ path: String) throws -> ContinueConfig? {
        let realPath = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard let attributes = PlainFiles.attributes(realPath) else { return nil }
        let bytes = try PlainFiles.read(realPath, limit: ConfigFile.sizeLimit)
        guard let (entries, problems) = parse(bytes) else { return nil }
        return ContinueConfig(path: path, realPath: realPath, bytes: bytes, permissions: attributes.permissions, entries: entries, problems: problems)
    }

    static func parse(_ bytes: [UInt8]) -> ([Entry], [String])? {
        let lines = FrontMatter(bytes: bytes).lines
        func blank(_ index: Int) -> Bool { FrontMatter.blank(lines[index].text) }
        guard let top = lines.indices.first(where: { lines[$0].indentation == 0 && FrontMatter.key(of: lines[$0].text)?.key == "mcpServers" }) else {
            return nil
        }
        guard FrontMatter.key(of: lines[top].text)?.rest.isEmpty == true else { return ([], ["mcpServers: is not written as a block list; left alone"]) }
        let body = (top + 1)..<(((top + 1)..<lines.count).first { !blank($0) && lines[$0].indentation == 0 && !lines[$0].text.hasPrefix("- ") } ?? lines.count)
        guard let first = body.first(where: { !blank($0) }), lines[first].text.hasPrefix("- ") else { return ([], []) }
        let dash = lines[first].indentation
        let items = body.filter { lines[$0].indentation == dash && lines[$0].text.hasPrefix("- ") }
        var entries: [Entry] = []
        var problems: [String] = []
        for (position, start) in items.enumerated() {
            let end = position + 1 < items.count ? items[position + 1] : body.upperBound
            let keyIndentation = dash + 2
            var fields: [(String, String)] = []
            var keySpans: [(String, Range<Int>)] = []
            var headers: [(String, String)] = []
            var unreadable: String?
            var requestOptionsProblem: String?
            var index = start
            while index < end {
                let text = index == start ? lines[index].text.dropFirst(2) : lines[index].text
                let indentation = index == start ? keyIndentation : lines[index].indentation
                guard !(index != start && blank(index)) else { index += 1; continue }
                guard indentation == keyIndentation, let (key, rest) = FrontMatter.key(of: text) else {
                    unreadable = "line \(index + 1) is not a key of the entry"
                    break
                }
                let next = ((index + 1)..<end).first { !blank($0) && lines[$0].indentation <= keyIndentation
                    && !(lines[$0].indentation == keyIndentation && lines[$0].text.hasPrefix("- ") && rest.isEmpty) } ?? end
                let spanEnd = next < lines.count ? lines[next].range.lowerBound : lines[next - 1].next
                if index != start { keySpans.append((key, lines[index].range.lowerBound..<spanEnd)) }
                if !rest.isEmpty {
                    var parser = FlowParser(text: rest)
                    guard let value = parser.value(), parser.atEnd, ((index + 1)..<next).allSatisfy(blank) else {
                        unreadable = "the value of \(key) is not one mcp-vault reads"
                        break
                    }
                    fields.append((key, value))
                    if key == "requestOptions" { requestOptionsProblem = "its requestOptions are written on one line; write them as a block" }
                } else {
                    fields.append((key, ""))
                    if key == "requestOptions" {
                        // requestOptions: / headers: / Name: value
                        let nested = ((index + 1)..<next).filter { !blank($0) }
                        let depth = nested.first.map { lines[$0].indentation } ?? 0
                        for line in nested where lines[line].indentation == depth {
                            guard let (option, raw) = FrontMatter.key(of: lines[line].text), option == "headers" else {
                                requestOptionsProblem = "its requestOptions hold more than headers, which the proxy would not carry"
                                continue
                            }
                            if !raw.isEmpty {
                                headers += FlowParser.pairs(String(raw))  // headers: {Name: value}
                                continue
                            }
                            for header in nested where header > line {
                                guard lines[header].indentation > depth else { break }
                                var parser = FlowParser(text: FrontMatter.key(of: lines[header].text)?.rest ?? "")
                                guard let (name, _) = FrontMatter.key(of: lines[header].text), let value = parser.value(), parser.atEnd else {
                                    requestOptionsProblem = "a header of its requestOptions is not `Name: value`"
                                    continue
                                }
                                headers.append((name, value))
                            }
                        }
                    }
                }
                index = next
            }
            let name = fields.first { $0.0 == "name" }?.1 ?? "#\(position + 1)"
            if let unreadable {
                problems.append("\(name): \(unreadable); left alone")
                continue
            }
            let spanEnd = end < lines.count ? lines[end].range.lowerBound : lines[end - 1].next
            entries.append(Entry(name: name, fields: fields, headers: headers, span: lines[start].range.lowerBound..<spanEnd,
                                 dashIndentation: String(repeating: " ", count: dash), keyIndentation: String(repeating: " ", count: keyIndentation),
                                 keySpans: keySpans, requestOptionsProblem: requestOptionsProblem))
        }
        return (entries, problems)
    }

    static let transport: Set<String> = ["name", "type", "url", "requestOptions", "apiKey", "command", "args"]

    public func refusal(for entry: Entry) -> String? {
        if let problem = entry.requestOptionsProblem { return problem }
        // The item's first line holds one key; anything but name or the transport would need rewriting.
        guard let first = entry.fields.first, Self.transport.contains(first.key) else {
            return "its first line holds \(entry.fields.first?.key ?? "nothing") rather than its name"
        }
        return nil
    }

    public func edits(_ chosen: [(entry: Entry, arguments: [String])], command: String) -> [(span: Range<Int>, text: String)] {
        let newline = bytes.contains(0x0D) ? "\r\n" : "\n"
        return chosen.map { entry, arguments in
            var text = entry.dashIndentation + "- name: " + JSONText.quoted(entry.name) + newline
            text += entry.keyIndentation + "command: " + JSONText.quoted(command) + newline
            text += entry.keyIndentation + "args: [" + arguments.map(JSONText.quoted).joined(separator: ", ") + "]" + newline
            for key in entry.keySpans {
                text += Self.transport.contains(key.key) ? trailingCommentLines(bytes[key.span]) : String(decoding: bytes[key.span], as: UTF8.self)
            }
            return (entry.span, text)
        }
    }


    public func verified(_ newBytes: [UInt8], rewritten names: Set<String>) -> Bool {
        guard let (after, problems) = Self.parse(newBytes), problems.count == self.problems.count,
              after.map(\.name) == entries.map(\.name) else { return false }
        return zip(entries, after).allSatisfy { old, new in
            names.contains(new.name) ? new.runsMCPVault && new.value("url") == nil
                : old.fields.map(\.key) == new.fields.map(\.key) && old.fields.map(\.value) == new.fields.map(\.value)
        }
    }
}
