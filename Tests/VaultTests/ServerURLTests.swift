import Credentials
import Testing

@Suite("Server URLs")
struct ServerURLTests {
    @Test(arguments: [
        ("https://MCP.example.com:443/mcp/", "https://mcp.example.com/mcp"),
        ("https://mcp.example.com/mcp", "https://mcp.example.com/mcp"),
        ("HTTPS://mcp.example.com/", "https://mcp.example.com"),
        ("https://mcp.example.com", "https://mcp.example.com"),
        ("https://mcp.example.com:8443/a/b/", "https://mcp.example.com:8443/a/b"),
        ("https://mcp.example.com/mcp#fragment", "https://mcp.example.com/mcp"),
        ("http://127.0.0.1:8080/mcp", "http://127.0.0.1:8080/mcp"),
        ("http://localhost:80/mcp", "http://localhost/mcp"),
        ("  https://mcp.example.com/mcp  ", "https://mcp.example.com/mcp"),
        ("https://mcp.example.com/mcp?tenant=a", "https://mcp.example.com/mcp?tenant=a"),
    ])
    func urlsAreCanonicalized(input: String, canonical: String) throws {
        #expect(try ServerURL(input).canonical == canonical)
    }

    @Test(arguments: ["mcp.example.com", "ftp://mcp.example.com", "http://mcp.example.com/mcp", "https://user:pw@mcp.example.com/",
                      "", "https://"])
    func unusableURLsAreRefused(_ input: String) {
        #expect(throws: CredentialsError.self) { _ = try ServerURL(input) }
    }
}

@Suite("Server URL refusals say why")
struct ServerURLRefusalTests {
    @Test(arguments: [
        ("http://127.attacker.example/mcp", "plain http is allowed only for localhost, 127.0.0.0/8 and [::1]"),
        ("https://bücher.example/mcp", "write the host in its ASCII (xn--) form"),
        ("https://x.example/m cp", "character 20 is a space, a control character or not allowed in a URL"),
        ("https://x.example:70000/mcp", "the port is not a number from 1 to 65535"),
        ("https://x.example/%zz", "a '%' is not followed by two hex digits"),
        ("ftp://x.example/mcp", "the scheme 'ftp' is not https"),
    ])
    func theReasonIsNamed(input: String, reason: String) {
        do {
            _ = try ServerURL(input)
            Issue.record("\(input) was accepted")
        } catch {
            #expect(error.description.contains(reason), "\(error)")
        }
    }

    @Test func aPasswordInTheURLIsNotRepeated() {
        do {
            _ = try ServerURL("https://alice:hunter2@x.example/mcp")
            Issue.record("accepted")
        } catch {
            #expect(!error.description.contains("hunter2") && !error.description.contains("alice"), "\(error)")
            #expect(error.description.contains("https://x.example/mcp (credentials removed)"), "\(error)")
        }
    }

    @Test func controlCharactersAreShownEscaped() {
        do {
            _ = try ServerURL("https://x.example/\u{1b}[31mred")
            Issue.record("accepted")
        } catch {
            #expect(!error.description.contains("\u{1b}") && error.description.contains("\\u{1b}"), "\(error)")
        }
    }
}
