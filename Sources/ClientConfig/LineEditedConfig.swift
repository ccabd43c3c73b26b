/// A configuration that is not JSON (a skill's YAML front matter, Codex's TOML), read only as far
/// as its server entries go and rewritten by replacing those entries' lines: every other byte
/// stays, and the result is read back before it is written.
public protocol LineEditedConfig: Sendable {
    associatedtype Entry: ServerLines
    var path: String { get }
    /// Where the bytes are (symbolic links resolved): what gets rewritten.
    var realPath: String { get }
    var bytes: [UInt8] { get }
    var permissions: UInt32 { get }
    var entries: [Entry] { get }
    /// What could not be read, with why (those entries are left alone).
    var problems: [String] { get }
    /// Why an entry cannot be rewritten in place, or nil.
    func refusal(for entry: Entry) -> String?
    /// The edits that make each chosen entry run `command` with `arguments` (`proxy URL …`).
    func edits(_ chosen: [(entry: Entry, arguments: [String])], command: String) -> [(span: Range<Int>, text: String)]
    func applying(_ edits: [(span: Range<Int>, text: String)]) -> [UInt8]
    /// Whether `newBytes` read back as the same entries, the `rewritten` ones running mcp-vault.
    func verified(_ newBytes: [UInt8], rewritten names: Set<String>) -> Bool
}

extension LineEditedConfig {
    /// The file's bytes with `edits` made (from the last, so that earlier spans stay valid).
    public func applying(_ edits: [(span: Range<Int>, text: String)]) -> [UInt8] {
        var result = bytes
        for edit in edits.sorted(by: { ($0.span.lowerBound, $0.span.upperBound) > ($1.span.lowerBound, $1.span.upperBound) }) {
            result.replaceSubrange(edit.span, with: Array(edit.text.utf8))
        }
        return result
    }
}

/// The blank and comment lines at the end of `lines` (a key's lines, which run on to the next
/// key): a rewrite that drops the key keeps them, since they may head what follows.
func trailingCommentLines(_ lines: ArraySlice<UInt8>) -> String {
    let text = String(decoding: lines, as: UTF8.self)
    var kept: [Substring] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().reversed() {
        let content = line.drop { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard content.isEmpty || content.first == "#" else { break }
        kept.insert(line, at: 0)
    }
    return kept.map { $0 + "\n" }.joined()
}

/// One server entry of such a configuration.
public protocol ServerLines: Sendable {
    var name: String { get }
    /// The remote server it reaches by itself, or nil.
    var remote: RemoteServer? { get }
    var runsMCPVault: Bool { get }
}
