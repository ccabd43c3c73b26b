import AuthorizationServer
import Foundation

/// The bundled authorization server (mcp-vault-demo-server) in a child process on a free port of
/// 127.0.0.1, stopped when released. A child process, not a task in the test process: tests that
/// block a thread while they wait for a command would otherwise starve it.
public final class TestAuthorizationServer: @unchecked Sendable {
    public let port: Int
    private let process: ChildProcess

    public var mcpURL: String { "http://127.0.0.1:\(port)/mcp" }
    public var origin: String { "http://127.0.0.1:\(port)" }

    public init(_ configure: (inout ServerOptions) -> Void = { _ in }) async throws {
        var options = ServerOptions()
        configure(&options)
        let json = String(decoding: try JSONEncoder().encode(options), as: UTF8.self)
        process = try ChildProcess(Binaries.directory + "/mcp-vault-demo-server", ["--options-json", json],
                                   environment: ["PATH": "/usr/bin:/bin"], output: .pipe)
        guard let line = process.readLine(), line.hasPrefix("listening on http://127.0.0.1:"),
              let port = Int(line.dropFirst("listening on http://127.0.0.1:".count).prefix(while: \.isNumber)) else {
            throw TestFailure("the authorization server did not start")
        }
        self.port = port
    }

    /// The server's counters (authorization and refresh requests, reuse detections, revocations, live grants).
    public func stats() async throws -> [String: Int] {
        let result = try await runAsync("/usr/bin/curl", ["-s", origin + "/test/stats"], environment: [:])
        return (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Int]) ?? [:]
    }

    /// POSTs to one of the server's /test/ control routes.
    public func post(_ path: String) async throws {
        _ = try await runAsync("/usr/bin/curl", ["-s", "-X", "POST", origin + path], environment: [:])
    }

    /// Whether the MCP endpoint accepts `token` (an initialize request answered 200).
    public func accepts(_ token: String) async throws -> Bool {
        let result = try await runAsync("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
                                                         "-H", "Authorization: Bearer \(token)", "-H", "Content-Type: application/json",
                                                         "-d", #"{"jsonrpc":"2.0","id":1,"method":"initialize"}"#, mcpURL],
                                        environment: [:])
        return result.stdout == "200"
    }

    /// Stops serving (connections are refused from then on).
    public func stop() async {
        process.signal(SIGTERM)
        _ = await process.waitAsync(timeout: 5)
    }

    deinit {
        process.stop()
    }
}
