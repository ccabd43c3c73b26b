import Foundation
import Hummingbird
import Logging
import NIOCore

/// A real OAuth 2.1 authorization server and MCP protected resource on 127.0.0.1, written for
/// mcp-vault's tests and demo. It approves every authorization request at once (by redirecting),
/// so a `$BROWSER` that follows redirects completes a login with nobody at the keyboard.
///
/// Endpoints (issuer = origin + `options.issuerPath`):
/// - `POST /mcp`: the MCP endpoint; 401 with `WWW-Authenticate` without a valid bearer token.
/// - protected-resource metadata (RFC 9728) at the header URL, path-suffixed and root well-known URLs.
/// - authorization-server metadata (RFC 8414) and OpenID Connect discovery.
/// - `register` (RFC 7591), `authorize`, `token` (PKCE; refresh with rotation and reuse
///   detection), `revoke` (RFC 7009), all under the issuer path.
/// - `GET /test/stats`: counters for the tests (refresh requests, reuse detections, revocations).
public struct AuthorizationServer: Sendable {
    public let options: ServerOptions

    public init(options: ServerOptions = ServerOptions()) {
        self.options = options
    }

    /// Serves until the task is cancelled. `onListening` gets the bound port.
    public func run(port: Int = 0, onListening: @escaping @Sendable (Int) async -> Void) async throws {
        let base = BaseURL()
        let state = ServerState(clients: options.preregisteredClients)
        let routes = Routes(options: options, state: state, base: base, machine: MachineState())
        let router = Router()
        routes.install(on: router)
        var logger = Logger(label: "mcp-vault-demo-server")
        logger.logLevel = .error
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "mcp-vault-demo-server"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                await base.set("http://127.0.0.1:\(port)")
                await onListening(port)
            },
            logger: logger)
        try await app.run()
    }
}

/// The origin, known once the server has bound its port.
actor BaseURL {
    private(set) var value = ""
    func set(_ value: String) { self.value = value }
}
