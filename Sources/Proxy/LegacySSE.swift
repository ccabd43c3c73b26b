import AsyncHTTPClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore

/// The HTTP+SSE transport of MCP 2024-11-05: a GET opens an event stream whose first event,
/// `endpoint`, names the URL to POST messages to; every server message comes on the stream.
extension MCPProxy {
    /// Opens the SSE stream at `url` and waits until it names the message endpoint. With
    /// `replaying`, the client's initialize is sent on the new stream, its answer dropped (the
    /// client has one), and followed by notifications/initialized.
    func startLegacy(url: String, replaying initialize: JSONRPCMessage? = nil) async throws {
        let generation = await session.legacyStarting(dropping: initialize?.id)
        let stream = Task {
            var rejected: String?
            for _ in 0..<2 {
                do {
                    let token = try await self.tokens.token(rejected: rejected)
                    var request = HTTPClientRequest(url: url)
                    request.method = .GET
                    request.headers.add(name: "Accept", value: "text/event-stream")
                    await self.addCommonHeaders(to: &request, token: token, sessionID: nil)
                    let response = try await self.execute(request)
                    let status = Int(response.status.code)
                    self.logger.debug("GET \(url) (HTTP+SSE): HTTP \(status)")
                    if status == 401 && rejected == nil {
                        rejected = token
                        try await self.drain(response)
                        continue
                    }
                    guard status == 200 else {
                        try await self.drain(response)
                        throw ProxyRefusal("\(url) answered HTTP \(status) to the HTTP+SSE stream request")
                    }
                    try await self.streamEvents(response, other: { event in
                        guard event.type == "endpoint" else { return }
                        await self.session.legacyEndpointArrived(try Self.endpoint(event.data, relativeTo: url))
                    }) { data in
                        if await self.session.shouldDrop(data) { return }
                        guard let line = await self.relay(data) else { return }
                        if let message = JSONRPCMessage(line), await self.session.isToolListAnswer(message) {
                            await self.output.send(JSONRPCMessage.removingTools(self.options.ignoredTools, from: line))
                        } else {
                            await self.output.send(line)
                        }
                    }
                    throw ProxyRefusal("the server closed the HTTP+SSE stream")
                } catch {
                    await self.session.legacyStreamEnded(error, generation: generation)
                    if !(error is CancellationError) { self.logger.info("HTTP+SSE stream ended: \(error)") }
                    return
                }
            }
        }
        await session.beginLegacy(stream: stream)
        let endpoint = try await session.endpoint()
        if let initialize {
            try await send(initialize, to: endpoint)
            if let initialized = JSONRPCMessage(Data(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.utf8)) {
                try await send(initialized, to: endpoint)
            }
            logger.info("the server had closed the HTTP+SSE stream; a new one was opened and the session started again")
        }
    }

    /// The endpoint an `endpoint` event names, which must be on the server's own origin: the
    /// token goes nowhere else.
    static func endpoint(_ text: String, relativeTo base: String) throws -> String {
        guard let baseURL = URL(string: base), let resolved = URL(string: text.trimmingWhitespace(), relativeTo: baseURL)?.absoluteURL,
              resolved.scheme == baseURL.scheme, resolved.host == baseURL.host, resolved.port == baseURL.port else {
            throw ProxyRefusal("the server named a message endpoint on another origin (\(text)); refused")
        }
        return resolved.absoluteString
    }

    /// POSTs one client message to the legacy endpoint; the answer comes on the stream. When the
    /// server has closed the stream (its session gone), a new one is opened and the client's
    /// initialize replayed first, as for a Streamable HTTP session the server dropped.
    func postLegacy(_ message: JSONRPCMessage) async throws {
        if !(await session.isLegacy) {
            try await startLegacy(url: serverURL)
        } else if await !session.legacyAlive, message.method != "initialize" {
            guard let initialize = await session.initializeMessage, let replay = JSONRPCMessage(initialize) else {
                throw ProxyRefusal("the server closed the HTTP+SSE stream before the session began")
            }
            try await startLegacy(url: serverURL, replaying: replay)
        }
        if message.method == "initialize" { await session.started(id: nil, initialize: message.bytes) }
        if message.method == "tools/list", let id = message.id { await session.expectToolList(id) }
        do {
            try await send(message, to: try await session.endpoint())
        } catch let gone as LegacySessionGone where message.method != "initialize" {
            // The server dropped the session before its stream's end reached us: start again
            // now, as when the end was seen, and send the message once more.
            guard let initialize = await session.initializeMessage, let replay = JSONRPCMessage(initialize) else { throw gone.refusal }
            logger.info("the HTTP+SSE session is gone (HTTP 404); starting a new one")
            await session.legacyStreamEnded(gone.refusal)
            try await startLegacy(url: serverURL, replaying: replay)
            try await send(message, to: try await session.endpoint())
        }
    }

    /// The message endpoint answered 404: the server no longer knows the session.
    struct LegacySessionGone: Error {
        let refusal: ProxyRefusal
    }

    private func send(_ message: JSONRPCMessage, to endpoint: String) async throws {
        var rejected: String?
        for _ in 0..<2 {
            let token = try await tokens.token(rejected: rejected)
            var request = HTTPClientRequest(url: endpoint)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            await addCommonHeaders(to: &request, token: token, sessionID: nil)
            request.body = .bytes(ByteBuffer(bytes: message.bytes))
            let response = try await execute(request)
            let status = Int(response.status.code)
            try await drain(response)
            logger.debug("POST \(message.method ?? "response") id \(message.id ?? "-") (HTTP+SSE): HTTP \(status)")
            if status == 401 && rejected == nil {
                rejected = token
                continue
            }
            if status == 404 { throw LegacySessionGone(refusal: ProxyRefusal("\(endpoint) answered HTTP 404")) }
            guard (200...299).contains(status) else { throw ProxyRefusal("\(endpoint) answered HTTP \(status)") }
            return
        }
    }
}
