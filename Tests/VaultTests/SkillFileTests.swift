import Foundation
import Testing
import TestSupport
@testable import ClientConfig

/// The part of YAML a skill's front matter writes its `mcp` map in, and the in-place rewrite.
@Suite("SKILL.md front matter")
struct SkillFileTests {
    private func skill(_ text: String) throws -> SkillFile? {
        let directory = try TemporaryDirectory(prefix: "skill")
        defer { withExtendedLifetime(directory) {} }
        let path = directory.file("SKILL.md")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return try SkillFile.read(path)
    }

    private func rewritten(_ file: SkillFile, _ names: [String]) -> String {
        let chosen = file.entries.filter { names.contains($0.name) }.map { entry in
            (entry: entry, arguments: ConfigRewrite.proxyArguments(entry.remote!))
        }
        return String(decoding: file.applying(file.edits(chosen, command: "/opt/mcp-vault")), as: UTF8.self)
    }

    @Test func blockEntriesKeepTheirOtherKeysAndEveryOtherByte() throws {
        let text = "---\r\nname: a # the name\r\nmcp:\r\n  # before\r\n  one:\r\n    url: 'https://one.example/mcp' # quoted\r\n    headers:\r\n      X-A: \"b # c\"\r\n    oauth:\r\n      scopes: [x]\r\n    timeout: 5\r\n\r\n  two:\r\n    command: npx\r\n---\r\nBody: url: https://x\r\n"
        let file = try #require(try skill(text))
        #expect(file.entries.map(\.name) == ["one", "two"])
        let one = try #require(file.entries.first)
        #expect(one.remote?.url == "https://one.example/mcp" && one.remote?.headers.first?.value == "b # c", "\(one.fields)")
        #expect(file.entries[1].remote == nil)
        let after = rewritten(file, ["one"])
        #expect(after == "---\r\nname: a # the name\r\nmcp:\r\n  # before\r\n  one:\r\n    command: \"/opt/mcp-vault\"\r\n    args: [\"proxy\", \"https://one.example/mcp\", \"--header\", \"X-A: b # c\"]\r\n    timeout: 5\r\n\r\n  two:\r\n    command: npx\r\n---\r\nBody: url: https://x\r\n",
                "\(after)")
        #expect(file.verified(Array(after.utf8), rewritten: ["one"]))
    }

    /// A comment after the entry's last key heads what follows: it stays when that key goes.
    @Test func aCommentAfterADroppedKeyStays() throws {
        let file = try #require(try skill("---\nmcp:\n  one:\n    timeout: 5\n    url: https://one.example/mcp\n\n  # the notes server\n  two:\n    command: npx\n# after the map\nname: x\n---\n"))
        #expect(rewritten(file, ["one"]) == "---\nmcp:\n  one:\n    command: \"/opt/mcp-vault\"\n    args: [\"proxy\", \"https://one.example/mcp\"]\n    timeout: 5\n\n  # the notes server\n  two:\n    command: npx\n# after the map\nname: x\n---\n")
    }

    @Test func aOneLineMappingIsReplacedOnItsLine() throws {
        let file = try #require(try skill("---\nmcp:\n  one: {url: \"https://one.example/mcp\", oauth: {}}  # trailing\n  two: {url: https://two.example/mcp, timeout: 5}\n---\n"))
        #expect(file.entries.map(\.name) == ["one", "two"])
        #expect(file.refusal(for: file.entries[0]) == nil)
        #expect(file.refusal(for: file.entries[1]) != nil, "a one-line mapping with more than the address is left alone")
        #expect(rewritten(file, ["one"]) == "---\nmcp:\n  one: {command: \"/opt/mcp-vault\", args: [\"proxy\", \"https://one.example/mcp\"]}  # trailing\n  two: {url: https://two.example/mcp, timeout: 5}\n---\n")
    }

    @Test(arguments: [
        "no front matter\nmcp:\n  a: {url: https://a.example}\n",
        "---\nname: no servers\n---\nmcp: in the body\n",
    ])
    func filesWithoutAnMcpMapAreNotSkillServers(_ text: String) throws {
        #expect(try skill(text).map(\.path) == nil)
    }

    @Test func whatCannotBeReadIsSaidAndLeftAlone() throws {
        let file = try #require(try skill("---\nmcp:\n  one: &anchor {url: https://a.example}\n  two:\n    url: https://b.example\n      odd: indentation\n---\n"))
        #expect(file.entries.isEmpty, "\(file.entries.map(\.name))")
        #expect(file.problems.count == 2, "\(file.problems)")
    }
}
