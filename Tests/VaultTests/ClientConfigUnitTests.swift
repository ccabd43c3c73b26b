import Foundation
import Testing
@testable import ClientConfig
@testable import LegacyImport

@Suite("MD5 for mcp-remote's file names")
struct MD5Tests {
    /// RFC 1321's test suite (appendix A.5).
    @Test(arguments: [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("a", "0cc175b9c0f1b6a831c399e269772661"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
        ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
        (String(repeating: "1234567890", count: 8), "57edf4a22be3c955ac49da2e2107b67a"),
    ])
    func theRFCTestSuite(input: String, digest: String) {
        #expect(MD5.hex(input) == digest)
    }

    /// mcp-remote hashes `URL|resource|{"Name":"value"}` when it ran with those (values from its
    /// getServerUrlHash, computed with Node's crypto by hand).
    @Test func headersAndResourceAreHashedAsMcpRemoteDoes() {
        let plain = MCPRemoteStore.hashes(serverURL: "https://mcp.example.com/mcp")
        #expect(plain == [MD5.hex("https://mcp.example.com/mcp")])
        let withHeaders = MCPRemoteStore.hashes(serverURL: "https://h.example/mcp", authorizeResource: "https://r.example",
                                                headers: [("X-B", " two"), ("X-A", "one\"")])
        #expect(withHeaders.contains(MD5.hex(#"https://h.example/mcp|https://r.example|{"X-A":"one\"","X-B":" two"}"#)))
        #expect(withHeaders.contains(MD5.hex(#"https://h.example/mcp|https://r.example|{"X-A":"one\"","X-B":"two"}"#)))
    }
}

@Suite("JSONC reading and in-place rewriting")
struct JSONCTests {
    private func document(_ text: String) throws -> JSONCDocument { try JSONCDocument(Array(text.utf8)) }

    @Test func commentsAndTrailingCommasAreRead() throws {
        let text = """
            // top
            { "a": [1, 2,], /* inline */ "b": {"c": "d\\u00e9\\ud83d\\ude00",}, }
            """
        let parsed = try document(text)
        #expect(parsed.root.node["b"]?.node["c"]?.node.string == "dé😀")
        #expect(parsed.comments.count == 2)
        let b = try #require(parsed.root.node.members?.first { $0.key == "b" })
        #expect(parsed.text(b.value.span) == #"{"c": "d\u00e9\ud83d\ude00",}"#)
        #expect(!parsed.hasComment(in: b.value.span) && parsed.hasComment(in: 0..<3))
    }

    @Test(arguments: ["{", "{\"a\" 1}", "[1 2]", "\"open", "{\"a\": tru}", "/* never closed", "{} x", String(repeating: "[", count: 300)])
    func malformedDocumentsAreRefusedWithAPlace(_ text: String) {
        #expect(throws: JSONCDocument.SyntaxError.self) { try document(text) }
    }

    @Test func theErrorSaysWhere() throws {
        let error = try #require(throws: JSONCDocument.SyntaxError.self) { try document("{\n  \"a\": 1,\n  \"b\" 2\n}") }
        #expect(error.line == 3 && error.column == 7, "\(error)")
    }

    @Test func aDiffShowsOnlyTheChangedLinesWithContext() {
        let old = Array((1...20).map { "line \($0)" }.joined(separator: "\n").appending("\n").utf8)
        let text = String(decoding: old, as: UTF8.self)
        let start = text.utf8.count - text.drop { $0 != "7" }.utf8.count - "line ".utf8.count
        let diff = UnifiedDiff.make(old: old, edits: [(start..<(start + 6), "line seven\nline 7b")], path: "f")
        #expect(diff == """
            --- f
            +++ f
            @@ -4,7 +4,8 @@
             line 4
             line 5
             line 6
            -line 7
            +line seven
            +line 7b
             line 8
             line 9
             line 10

            """)
    }
}
