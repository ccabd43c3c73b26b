import AuthorizationServer
import Foundation

/// The bundled authorization server, run inside the test process on a free port of 127.0.0.1,
/// stopped when released.
public final class TestAuthorizationServer: @unchecked Sendable {
    public let port: Int
    private let task: Task<Void, any Error>

    public var mcpURL: String { "http://127.0.0.1:\(port)/mcp" }
    public var origin: String { "http://127.0.0.1:\(port)" }

    public init(_ configure: (inout ServerOptions) -> Void = { _ in }) async throws {
        var options = ServerOptions()
        configure(&options)
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let server = AuthorizationServer(options: options)
        task = Task {
            try await server.run(port: 0) { port in continuation.yield(port) }
        }
        var iterator = stream.makeAsyncIterator()
        guard let port = await iterator.next() else { throw TestFailure("the authorization server did not start") }
        self.port = port
    }

    /// The server's counters (refresh requests, reuse detections, revocations, live grants).
    public func stats() async throws -> [String: Int] {
        let result = try await runAsync("/usr/bin/curl", ["-s", origin + "/test/stats"], environment: [:])
        return (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Int]) ?? [:]
    }

    /// Stops serving (connections are refused from then on).
    public func stop() async {
        task.cancel()
        _ = await task.result
    }

    deinit {
        task.cancel()
    }
}
