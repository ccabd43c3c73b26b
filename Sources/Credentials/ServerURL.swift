import ServerAddress

/// A server URL in canonical form, the name under which its credentials are stored.
///
/// The algorithm is `CanonicalURL`'s, specified in SECURITY.md: surrounding whitespace trimmed,
/// scheme and host lowercased, the default port dropped, percent-encoding normalized, dot segments
/// and trailing slashes removed, an empty query and the fragment dropped. So
/// `https://MCP.example.com:443/mcp/` and `https://mcp.example.com/mcp` are the same server.
/// Only http and https are accepted, and http only for loopback addresses.
public struct ServerURL: Sendable, Hashable, CustomStringConvertible {
    public let canonical: String
    public let host: String

    public var description: String { canonical }

    /// Scheme, host and port: `https://mcp.example.com`.
    public var origin: String {
        // Canonical URLs are http or https: the authority ends at the first slash after "//".
        let parts = canonical.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
        return parts.prefix(3).joined(separator: "/")
    }

    public init(_ text: String) throws(CredentialsError) {
        do {
            let url = try CanonicalURL(text)
            canonical = url.text
            host = url.host
        } catch {
            throw .invalidServerURL(Self.displayable(text, refusal: error), reason: error.reason)
        }
    }

    /// The text as it may be shown: control characters escaped, and no password when the refusal
    /// is about user information.
    static func displayable(_ text: String, refusal: CanonicalURL.Refusal) -> String {
        var shown = text
        if refusal == .userInfo, let separator = shown.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false).dropFirst(2).first,
           let at = separator.firstIndex(of: "@") {
            shown.replaceSubrange(separator.startIndex...at, with: "")
            shown += " (credentials removed)"
        }
        return String(shown.unicodeScalars.map { scalar in
            scalar.value < 0x20 || scalar.value == 0x7f ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
        }.joined())
    }
}
