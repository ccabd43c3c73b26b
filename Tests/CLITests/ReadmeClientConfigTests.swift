import Foundation
import Testing
import TestSupport

/// README's "Using mcp-vault with your MCP client": each client's snippet is JSON of the shape
/// that client documents, and launches `mcp-vault proxy URL`.
@Suite("README client configurations")
struct ReadmeClientConfigTests {
    /// The JSON blocks of the section, each with the paragraph line before it (the client's name).
    static func snippets() throws -> [(client: String, object: [String: Any])] {
        let readme = try String(contentsOfFile: Binaries.repositoryRoot + "/README.md", encoding: .utf8)
        guard let start = readme.range(of: "### Using mcp-vault with your MCP client"),
              let end = readme.range(of: "\n### ", range: start.upperBound..<readme.endIndex) else { return [] }
        let lines = readme[start.upperBound..<end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var result: [(String, [String: Any])] = []
        for (index, line) in lines.enumerated() where line == "```json" {
            let client = lines[..<index].last { !$0.isEmpty } ?? ""
            let body = lines[(index + 1)...].prefix { $0 != "```" }.joined(separator: "\n")
            let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] ?? [:]
            result.append((client, object))
        }
        return result
    }

    private func entry(_ object: [String: Any], _ key: String) -> [String: Any]? {
        (object[key] as? [String: Any])?["linear"] as? [String: Any]
    }

    @Test func everyClientHasASnippetOfItsShape() throws {
        let snippets = try Self.snippets()
        let expected = ["opencode", "Claude Desktop", "Cursor", "Gemini CLI", "Zed", "VS Code"]
        #expect(snippets.map { String($0.client.prefix { $0 != "(" }).trimmingCharacters(in: .whitespaces) } == expected)
        let url = "https://mcp.linear.app/mcp"
        for (client, object) in snippets {
            switch client.prefix(while: { $0 != " " }) {
            case "opencode":
                let server = try #require(entry(object, "mcp"))
                #expect(server["type"] as? String == "local" && server["command"] as? [String] == ["mcp-vault", "proxy", url], "\(client)")
            case "Zed":
                let server = try #require(entry(object, "context_servers"))
                #expect(server["command"] as? String == "mcp-vault" && server["args"] as? [String] == ["proxy", url], "\(client)")
            case "VS":
                let server = try #require(entry(object, "servers"))
                #expect(server["type"] as? String == "stdio" && server["command"] as? String == "mcp-vault"
                        && server["args"] as? [String] == ["proxy", url], "\(client)")
            default:
                let server = try #require(entry(object, "mcpServers"), "\(client)")
                #expect(server["command"] as? String == "mcp-vault" && server["args"] as? [String] == ["proxy", url], "\(client)")
            }
        }
    }
}
