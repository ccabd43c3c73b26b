#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import ServerAddress

/// What discovery found for one MCP server.
public struct DiscoveryResult: Sendable {
    /// The RFC 8707 resource indicator: the server URL, or the origin when the root metadata names it.
    public var resource: String
    public var resourceMetadata: ProtectedResourceMetadata?
    public var server: AuthorizationServerMetadata
    /// The scope the server's 401 challenge asked for, if any.
    public var challengedScope: String?
    /// True when the 2025-03-26 fallback (origin as issuer, default endpoints) was used.
    public var usedLegacyFallback: Bool
    /// True when no metadata was found at all and the endpoints are the 2025-03-26 defaults
    /// (/authorize, /token, /register at the origin), for a server that answered 401.
    public var usedDefaultEndpoints = false
    /// The metadata URLs that were tried, for messages.
    public var lookedAt: [String] = []
}

/// RFC 9728 and RFC 8414 / OpenID Connect discovery in the order the MCP specification gives.
public struct Discovery: Sendable {
    let http: HTTPTransport
    let logger: Logger

    public init(http: HTTPTransport, logger: Logger) {
        self.http = http
        self.logger = logger
    }

    /// An MCP initialize request: the unauthenticated probe here, and the check of a new token.
    static let initializeRequest = Data(#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"mcp-vault","version":"0.1"}}}"#.utf8)

    /// `serverURL` is the canonical MCP server URL (also the RFC 8707 resource).
    public func discover(_ serverURL: String) async throws(OAuthError) -> DiscoveryResult {
        let server = try HTTPTransport.checkSecure(serverURL)
        // 1. Ask the MCP endpoint; a 401 names the metadata and the scope it wants.
        let probe = try await http.postJSON(serverURL, body: Self.initializeRequest)
        let challenge = probe.header("WWW-Authenticate").flatMap(BearerChallenge.init)
        logger.debug("MCP endpoint answered \(probe.status); challenge: \(challenge?.parameters.keys.sorted().joined(separator: ",") ?? "none")")

        // 2. Protected-resource metadata: the header's URL, the path-suffixed well-known URL, the root.
        var candidates: [String] = []
        if let url = challenge?.resourceMetadata { candidates.append(url) }
        let origin = Self.origin(of: server)
        let path = server.path == "/" ? "" : server.path
        if !path.isEmpty { candidates.append(origin + "/.well-known/oauth-protected-resource" + path) }
        let rootCandidate = origin + "/.well-known/oauth-protected-resource"
        candidates.append(rootCandidate)
        var found: (document: ProtectedResourceMetadata, url: String)?
        for candidate in candidates {
            if let document = try await fetchOptional(candidate, ProtectedResourceMetadata.self) {
                found = (document, candidate)
                break
            }
        }

        if let (resourceMetadata, metadataURL) = found {
            // The metadata must be for this server; RFC 9728 section 3.3 also lets the metadata at
            // the origin's root name the origin itself as the resource, whose tokens then serve
            // every path there. That resource is what the authorization server knows, so it is the
            // RFC 8707 resource sent from then on.
            let resource: String
            if Self.sameResource(resourceMetadata.resource, serverURL) {
                resource = serverURL
            } else if metadataURL == rootCandidate && Self.sameResource(resourceMetadata.resource, origin) {
                logger.debug("the protected-resource metadata at the root names the origin \(origin) as the resource")
                resource = resourceMetadata.resource
            } else {
                throw .resourceMismatch(expected: serverURL, found: resourceMetadata.resource)
            }
            guard let issuer = resourceMetadata.authorizationServers?.first else {
                throw .noAuthorizationServer(serverURL)
            }
            try Self.checkReachable(issuer, from: server)
            let metadata = try await authorizationServerMetadata(issuer: issuer, remoteServer: !LoopbackHost.isLoopback(server.host ?? ""))
            return DiscoveryResult(resource: resource, resourceMetadata: resourceMetadata, server: metadata,
                                   challengedScope: challenge?.scope, usedLegacyFallback: false)
        }

        // 3. Last resort (the 2025-03-26 specification): the server's origin as issuer.
        logger.debug("no protected-resource metadata; falling back to the origin as issuer")
        if let metadata = try? await authorizationServerMetadata(issuer: origin, remoteServer: !LoopbackHost.isLoopback(server.host ?? "")) {
            return DiscoveryResult(resource: serverURL, resourceMetadata: nil, server: metadata, challengedScope: challenge?.scope,
                                   usedLegacyFallback: true)
        }
        let lookedAt = candidates + [origin + "/.well-known/oauth-authorization-server", origin + "/.well-known/openid-configuration"]
        // No metadata anywhere: say what the URL is rather than guess at endpoints.
        if (200...299).contains(probe.status) && Self.isJSONRPCAnswer(probe) { throw .noLoginNeeded(serverURL) }
        guard probe.status == 401 else { throw .noOAuthMetadata(serverURL, status: probe.status, lookedAt: lookedAt) }
        let defaults = AuthorizationServerMetadata(
            issuer: origin, authorizationEndpoint: origin + "/authorize", tokenEndpoint: origin + "/token",
            registrationEndpoint: origin + "/register")
        return DiscoveryResult(resource: serverURL, resourceMetadata: nil, server: defaults, challengedScope: challenge?.scope,
                               usedLegacyFallback: true, usedDefaultEndpoints: true, lookedAt: lookedAt)
    }

    /// Whether an answer to the initialize probe is MCP: a JSON-RPC message, as JSON or in an SSE stream.
    static func isJSONRPCAnswer(_ response: HTTPTransport.Response) -> Bool {
        let type = (response.header("Content-Type") ?? "").lowercased()
        let text = String(decoding: response.body.prefix(4096), as: UTF8.self)
        if type.hasPrefix("text/event-stream") { return text.contains("\"jsonrpc\"") }
        /// A JSON-RPC response: "jsonrpc": "2.0" and a result or an error member (of any value, null too).
        struct Answer: Decodable {
            enum Key: String, CodingKey { case jsonrpc, result, error }
            let isResponse: Bool
            init(from decoder: any Decoder) throws {
                let members = try decoder.container(keyedBy: Key.self)
                isResponse = (try? members.decode(String.self, forKey: .jsonrpc)) == "2.0"
                    && (members.contains(.result) || members.contains(.error))
            }
        }
        guard type.hasPrefix("application/json") else { return false }
        return (try? JSONDecoder().decode(Answer.self, from: response.body))?.isResponse ?? false
    }

    /// RFC 8414 and OpenID Connect discovery, with path insertion for issuers that have a path.
    /// With `remoteServer`, no endpoint may point at this machine or its link (a remote server's
    /// metadata must not turn mcp-vault against local services).
    public func authorizationServerMetadata(issuer: String, remoteServer: Bool) async throws(OAuthError) -> AuthorizationServerMetadata {
        let issuerURL = try HTTPTransport.checkSecure(issuer)
        let origin = Self.origin(of: issuerURL)
        var path = issuerURL.path
        while path.hasSuffix("/") { path.removeLast() }
        let candidates = path.isEmpty
            ? [origin + "/.well-known/oauth-authorization-server", origin + "/.well-known/openid-configuration"]
            : [origin + "/.well-known/oauth-authorization-server" + path, origin + "/.well-known/openid-configuration" + path,
               origin + path + "/.well-known/openid-configuration"]
        for candidate in candidates {
            guard let metadata = try await fetchOptional(candidate, AuthorizationServerMetadata.self) else { continue }
            guard Self.sameIssuer(metadata.issuer, issuer) else {
                throw .issuerMismatch(expected: issuer, found: metadata.issuer)
            }
            for endpoint in [metadata.authorizationEndpoint, metadata.tokenEndpoint, metadata.registrationEndpoint,
                             metadata.revocationEndpoint, metadata.deviceAuthorizationEndpoint].compactMap({ $0 }) {
                let url = try HTTPTransport.checkSecure(endpoint)
                if remoteServer, LoopbackHost.isLocal(url.host ?? "") { throw .localEndpoint(endpoint) }
            }
            return metadata
        }
        throw .noAuthorizationServer(issuer)
    }

    /// The authorization server a remote MCP server names may not be on this machine or its link.
    static func checkReachable(_ issuer: String, from server: URL) throws(OAuthError) {
        let url = try HTTPTransport.checkSecure(issuer)
        if !LoopbackHost.isLoopback(server.host ?? ""), LoopbackHost.isLocal(url.host ?? "") { throw .localEndpoint(issuer) }
    }

    /// A metadata document, or nil when there is none at that URL (404 and the like).
    private func fetchOptional<T: Decodable>(_ url: String, _ type: T.Type) async throws(OAuthError) -> T? {
        let response = try await http.get(url)
        logger.debug("GET \(url): \(response.status)")
        guard response.status == 200 else {
            if (400...499).contains(response.status) { return nil }
            throw .unexpectedStatus(url: url, status: response.status)
        }
        return try response.decode(type, from: url)
    }

    static func origin(of url: URL) -> String {
        var origin = (url.scheme ?? "https").lowercased() + "://" + (url.host ?? "")
        if let port = url.port { origin += ":\(port)" }
        return origin
    }

    static func sameResource(_ a: String, _ b: String) -> Bool {
        trimmed(a) == trimmed(b)
    }

    static func sameIssuer(_ a: String, _ b: String) -> Bool {
        trimmed(a) == trimmed(b)
    }

    private static func trimmed(_ text: String) -> String {
        var text = text
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }
}
