/// How `mcp-vault proxy` is configured.
public struct ProxyOptions: Sendable {
    public enum Transport: String, Sendable, CaseIterable {
        /// Streamable HTTP, falling back to HTTP+SSE when the server refuses the initialize POST
        /// with 400, 404 or 405 (the specification's backwards-compatibility rule).
        case automatic = "auto"
        case streamableHTTP = "streamable-http"
        /// The 2024-11-05 HTTP+SSE transport: the URL is the SSE endpoint.
        case sse
    }

    public var serverURL: String
    public var transport: Transport = .automatic
    /// The Authorization value to send instead of a token from `TokenSource` (a static key);
    /// empty: none at all (`--no-token`).
    public var authorization: String?
    /// Extra request headers (`--header 'Name: value'`), never Authorization.
    public var headers: [(name: String, value: String)] = []
    /// Tools left out of tools/list (`--ignore-tool`).
    public var ignoredTools: Set<String> = []
    /// The largest message in either direction.
    public var maximumMessageSize = 16 << 20
    /// Seconds to wait for a connection to the server.
    public var connectTimeout: Int64 = 30
    /// A PEM file of certificates to trust besides the system's (a private CA).
    public var caFile: String?
    /// HTTPS_PROXY, HTTP_PROXY and NO_PROXY come from here.
    public var environment: [String: String] = [:]

    public init(serverURL: String) {
        self.serverURL = serverURL
    }
}
