#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A server URL in canonical form, the name under which its credentials are stored.
///
/// The rule (RFC 3986 normalization as RFC 8707 and the MCP specification use it): the scheme and
/// host are lowercased, a default port (443 for https, 80 for http) is dropped, the fragment is
/// dropped, an empty path stays empty and a trailing slash is removed from a non-empty path, so
/// `https://MCP.example.com:443/mcp/` and `https://mcp.example.com/mcp` are the same server.
/// Only http and https are accepted, and http only for loopback hosts.
public struct ServerURL: Sendable, Hashable, CustomStringConvertible {
    public let canonical: String
    public let host: String

    public var description: String { canonical }

    public init(_ text: String) throws(CredentialsError) {
        let trimmed = String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
        guard let components = URLComponents(string: trimmed), let rawScheme = components.scheme,
              let rawHost = components.host, !rawHost.isEmpty
        else {
            throw .invalidServerURL(text, reason: "it is not an absolute URL with a host (for example https://mcp.example.com/mcp)")
        }
        let scheme = rawScheme.lowercased()
        let host = rawHost.lowercased()
        guard scheme == "https" || scheme == "http" else {
            throw .invalidServerURL(text, reason: "the scheme must be https (or http for a loopback host)")
        }
        if scheme == "http" && !Self.isLoopback(host) {
            throw .invalidServerURL(text, reason: "plain http is allowed only for loopback hosts; use https")
        }
        if components.user != nil || components.password != nil {
            var redacted = components
            redacted.user = nil
            redacted.password = nil
            throw .invalidServerURL((redacted.string ?? "the URL") + " (credentials removed)",
                                    reason: "it must not contain a user name or password")
        }
        var canonical = scheme + "://" + (host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host)
        if let port = components.port, !(scheme == "https" && port == 443), !(scheme == "http" && port == 80) {
            canonical += ":\(port)"
        }
        var path = components.percentEncodedPath
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        if path == "/" { path = "" }
        canonical += path
        if let query = components.percentEncodedQuery { canonical += "?" + query }
        self.canonical = canonical
        self.host = host
    }

    public static func isLoopback(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.")
    }
}
