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
