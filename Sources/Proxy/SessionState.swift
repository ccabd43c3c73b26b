import Foundation

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

    func beginLegacy(stream: Task<Void, Never>) {
        isLegacy = true
        legacyStream = stream
    }

    func legacyEndpointArrived(_ url: String) {
        legacyEndpoint = url
        for waiter in endpointWaiters { waiter.resume(returning: url) }
        endpointWaiters = []
    }

    func legacyStreamEnded(_ error: any Error) {
        for waiter in endpointWaiters { waiter.resume(throwing: error) }
        endpointWaiters = []
        legacyEndpoint = nil
    }

    /// The URL to POST messages to, once the SSE stream has named it.
    func endpoint() async throws -> String {
        if let legacyEndpoint { return legacyEndpoint }
        return try await withCheckedThrowingContinuation { endpointWaiters.append($0) }
    }
}
