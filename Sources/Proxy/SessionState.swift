#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What the proxy remembers of its session with the server.
actor SessionState {
    private(set) var id: String?
    private(set) var protocolVersion: String?
    /// The client's initialize, replayed when the server drops the session.
    private(set) var initializeMessage: Data?
    private(set) var lastEventID: String?
    private var renewal: Task<Void, any Error>?
    private var serverStream: Task<Void, Never>?

    // The HTTP+SSE transport (2024-11-05).
    private(set) var isLegacy = false
    private(set) var legacyEndpoint: String?
    private(set) var legacyStream: Task<Void, Never>?
    private var endpointWaiters: [CheckedContinuation<String, any Error>] = []

    func started(id: String?, initialize: Data) {
        self.id = id
        initializeMessage = initialize
        lastEventID = nil
    }

    func negotiated(_ version: String) { protocolVersion = version }
    func sawEvent(_ id: String) { lastEventID = id }

    /// Runs `body` to start a new session unless the session is no longer `old` (another
    /// request renewed it already) or a renewal is under way (then waits for that one).
    func renew(replacing old: String?, _ body: @escaping @Sendable () async throws -> Void) async throws {
        if let renewal { return try await renewal.value }
        guard id == old else { return }
        let task = Task { try await body() }
        renewal = task
        defer { renewal = nil }
        try await task.value
    }

    /// Starts the GET stream, once per session.
    func startServerStream(_ body: @escaping @Sendable () async -> Void) {
        serverStream?.cancel()
        serverStream = Task { await body() }
    }

    func stopServerStream() {
        serverStream?.cancel()
        serverStream = nil
    }

    /// Whether the HTTP+SSE stream is open (false once the server closed it).
    private(set) var legacyAlive = false
    /// The id of a replayed initialize whose answer the client must not see.
    private var droppedResponseID: String?

    /// Which HTTP+SSE stream is the current one: a stream that ends after a newer one began
    /// must not end the newer one's session.
    private var legacyGeneration = 0

    func legacyStarting(dropping id: String?) -> Int {
        droppedResponseID = id
        legacyEndpoint = nil
        legacyGeneration += 1
        return legacyGeneration
    }

    func beginLegacy(stream: Task<Void, Never>) {
        legacyStream?.cancel()
        isLegacy = true
        legacyAlive = true
        legacyStream = stream
    }

    /// tools/list requests sent over HTTP+SSE, whose answers come on the stream to be filtered.
    private var toolListRequests: Set<String> = []
    func expectToolList(_ id: String) { toolListRequests.insert(id) }
    func isToolListAnswer(_ message: JSONRPCMessage) -> Bool {
        guard message.isResponse, let id = message.id else { return false }
        return toolListRequests.remove(id) != nil
    }

    /// Whether `data` is the answer to a replayed initialize (dropped once).
    func shouldDrop(_ data: Data) -> Bool {
        guard let id = droppedResponseID, let message = JSONRPCMessage(data), message.isResponse, message.id == id else { return false }
        droppedResponseID = nil
        return true
    }

    func legacyEndpointArrived(_ url: String) {
        legacyEndpoint = url
        for waiter in endpointWaiters { waiter.resume(returning: url) }
        endpointWaiters = []
    }

    func legacyStreamEnded(_ error: any Error, generation: Int? = nil) {
        if let generation, generation != legacyGeneration { return }
        for waiter in endpointWaiters { waiter.resume(throwing: error) }
        endpointWaiters = []
        legacyEndpoint = nil
        legacyAlive = false
    }

    /// The URL to POST messages to, once the SSE stream has named it.
    func endpoint() async throws -> String {
        if let legacyEndpoint { return legacyEndpoint }
        guard legacyAlive else { throw ProxyRefusal("the server closed the HTTP+SSE stream") }
        return try await withCheckedThrowingContinuation { endpointWaiters.append($0) }
    }
}
