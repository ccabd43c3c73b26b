import AsyncHTTPClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import OAuth

/// `mcp-vault proxy`: a stdio MCP server that forwards every message to a remote MCP server over
/// Streamable HTTP (or the older HTTP+SSE), with a token from the vault on every request.
///
/// It is a message pump, not an MCP implementation: it looks only at ids and methods, keeps the
/// client's initialize to replay when the server drops the session, and filters tools/list for
/// `--ignore-tool`. Messages from the server reach the client as they arrive, each SSE event on
/// its own; a client that does not read makes the proxy stop reading the server.
public final class MCPProxy: Sendable {
    let options: ProxyOptions
    let tokens: any TokenSource
    let logger: Logger
    let client: HTTPClient
    let output = MessageOutput()
    let session = SessionState()
    let serverURL: String

    public init(options: ProxyOptions, tokens: any TokenSource, logger: Logger) throws {
        self.options = options
        self.tokens = tokens
        self.logger = logger
        serverURL = try HTTPTransport.checkSecure(options.serverURL).absoluteString
        client = try HTTPClient(eventLoopGroupProvider: .singleton, configuration: Self.configuration(options))
    }

    static func configuration(_ options: ProxyOptions) throws -> HTTPClient.Configuration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile = options.caFile { tls.additionalTrustRoots = [.file(caFile)] }
        // No read timeout: a stream may be quiet for a long time. The token never follows a redirect.
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow,
                                                     timeout: .init(connect: .seconds(options.connectTimeout)))
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.http1_1ConnectionDebugInitializer = QuickAcknowledgement.install
        configuration.http2ConnectionDebugInitializer = QuickAcknowledgement.install
        configuration.proxy = OutboundProxy.forServer(options.serverURL, environment: options.environment)
        return configuration
    }

    // MARK: The pump

    /// Runs until standard input ends (or SIGTERM / SIGINT), then ends the session at the server.
    public func run() async {
        let (lines, taken) = StandardStreams.lines(limit: options.maximumMessageSize)
        let stop = ShutdownSignals.install()
        // Bounded work, so that a storm of messages costs waiting, not memory: at most 64 requests
        // forwarded at once and 256 waiting (past that the proxy stops reading its input), and
        // at most 64 other messages (answers to the server's requests, notifications) in flight,
        // from a pool of their own: an answer a waiting request needs is never held up by the
        // requests waiting for a turn.
        let waitingRequests = Slots(256), forwardedRequests = Slots(64), otherSlots = Slots(64)
        let pump = Task {
            await withDiscardingTaskGroup { group in
                for await input in lines {
                    taken()
                    switch input {
                    case .oversized(let size):
                        await output.send(JSONRPCMessage.error(
                            id: nil, code: -32600, message: "a message of more than \(options.maximumMessageSize) bytes (\(size)) was dropped; see --max-message-size"))
                    case .message(let bytes):
                        guard let message = JSONRPCMessage(bytes) else {
                            await output.send(JSONRPCMessage.error(id: nil, code: -32700, message: "not a JSON-RPC message"))
                            continue
                        }
                        // initialize goes first and alone: every later request needs its session.
                        if message.method == "initialize" {
                            await forward(message)
                        } else {
                            if message.isRequest {
                                await waitingRequests.take()
                                group.addTask {
                                    await forwardedRequests.take()
                                    await self.forward(message)
                                    await forwardedRequests.give()
                                    await waitingRequests.give()
                                }
                            } else {
                                await otherSlots.take()
                                group.addTask {
                                    await self.forward(message)
                                    await otherSlots.give()
                                }
                            }
                        }
                    }
                }
                group.cancelAll()  // end of input: requests still running are abandoned
            }
        }
        let signals = Task {
            await stop.wait()
            pump.cancel()
        }
        await pump.value
        signals.cancel()
        await endSession()
        try? await client.shutdown()
    }

    /// Forwards one client message and relays what the server answers.
    func forward(_ message: JSONRPCMessage) async {
        let started = ContinuousClock.now
        do {
            if await session.isLegacy {
                try await postLegacy(message)
            } else {
                try await forwardStreamable(message)
            }
            logger.debug("\(message.method ?? "response") id \(message.id ?? "-") done in \((ContinuousClock.now - started).milliseconds) ms")
        } catch is CancellationError {
            return
        } catch {
            let text = (error as? ProxyRefusal)?.message ?? "\(error)"
            logger.error("\(message.method ?? "response") id \(message.id ?? "-"): \(text)")
            if message.id != nil, message.method != nil {
                await output.send(JSONRPCMessage.error(id: message.id, code: -32001, message: text))
            }
        }
    }

    // MARK: Streamable HTTP

    private func forwardStreamable(_ message: JSONRPCMessage) async throws {
        var rejected: String?
        var renewedSession = false
        var steppedUp = false
        var steppedUpToken: String?
        var nonceRetried = false
        for _ in 0..<5 {
            let token: String
            if let fresh = steppedUpToken {
                token = fresh
                steppedUpToken = nil
            } else {
                token = try await tokens.token(rejected: rejected)
            }
            let sessionID = await session.id
            let response = try await post(message.bytes, token: token, sessionID: message.method == "initialize" ? nil : sessionID)
            let status = Int(response.status.code)
            logger.debug("POST \(message.method ?? "response") id \(message.id ?? "-"): HTTP \(status)")
            switch status {
            case 200...299:
                if message.method == "initialize" {
                    await session.started(id: response.headers.first(name: "Mcp-Session-Id"), initialize: message.bytes)
                }
                try await relay(response, answering: message)
                if message.method == "notifications/initialized" { await startServerStream() }
                return
            case 401 where !nonceRetried && Self.wantsDPoPNonce(response):
                // RFC 9449 section 9: not an expired token; the same token again, with the nonce.
                nonceRetried = true
                tokens.useNonce(response.headers.first(name: "DPoP-Nonce")!)
                steppedUpToken = token
                try await drain(response)
            case 401 where rejected == nil:
                rejected = token  // another process may have refreshed; else refresh once
                try await drain(response)
            case 401:
                try await drain(response)
                throw ProxyRefusal("\(serverURL) refused the token even after a refresh (HTTP 401); run `mcp-vault login \(options.serverURL)`")
            case 404 where sessionID != nil && message.method != "initialize" && !renewedSession:
                // The server forgot the session: start a new one with the client's own initialize.
                try await drain(response)
                renewedSession = true
                try await renewSession(replacing: sessionID)
            case let refused where [400, 404, 405].contains(refused) && message.method == "initialize" && options.transport == .automatic:
                try await drain(response)
                logger.info("the server refused Streamable HTTP (HTTP \(status)); using HTTP+SSE (2024-11-05)")
                try await startLegacy(url: serverURL)
                try await postLegacy(message)
                return
            case 403 where !steppedUp:
                let challenge = response.headers.first(name: "WWW-Authenticate") ?? ""
                try await drain(response)
                guard let parsed = BearerChallenge(challenge), parsed.error == "insufficient_scope" else {
                    throw ProxyRefusal("\(serverURL) answered HTTP 403 (forbidden)")
                }
                logger.info("the server wants more scope (\(parsed.scope ?? "not named")); stepping up")
                steppedUp = true
                steppedUpToken = try await tokens.stepUp(challenge: challenge)
            default:
                let start = try await drain(response)
                throw ProxyRefusal("\(serverURL) answered HTTP \(status)" + Self.summary(of: start))
            }
        }
        throw ProxyRefusal("\(serverURL) kept refusing the request")
    }

    /// A 401 that asks for the server's DPoP nonce (`WWW-Authenticate: DPoP error="use_dpop_nonce"`
    /// with a `DPoP-Nonce` header).
    static func wantsDPoPNonce(_ response: HTTPClientResponse) -> Bool {
        guard response.headers.first(name: "DPoP-Nonce") != nil else { return false }
        return response.headers[canonicalForm: "WWW-Authenticate"].contains { $0.lowercased().hasPrefix("dpop") && $0.contains("use_dpop_nonce") }
    }

    /// The start of a server's error body, on one line, without control characters.
    static func summary(of body: ByteBuffer) -> String {
        let text = String(buffer: body).prefix(200).filter { character in
            !character.isNewline && !character.unicodeScalars.contains { $0.value < 0x20 || (0x7f...0x9f).contains($0.value) }
        }
        return text.isEmpty ? "" : ": \(text)"
    }

    /// One POST of a client message with every header the session needs.
    private func post(_ body: Data, token: String, sessionID: String?) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: serverURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json, text/event-stream")
        await addCommonHeaders(to: &request, token: token, sessionID: sessionID)
        request.body = .bytes(ByteBuffer(bytes: body))
        return try await execute(request)
    }

    func addCommonHeaders(to request: inout HTTPClientRequest, token: String, sessionID: String?) async {
        for (name, value) in options.headers { request.headers.add(name: name, value: value) }
        switch options.authorization {
        case nil:
            if let proof = tokens.dpopProof(method: request.method.rawValue, url: request.url, token: token) {
                request.headers.replaceOrAdd(name: "Authorization", value: "DPoP " + token)
                request.headers.replaceOrAdd(name: "DPoP", value: proof)
            } else {
                request.headers.replaceOrAdd(name: "Authorization", value: "Bearer " + token)
            }
        case "": request.headers.remove(name: "Authorization")  // --no-token
        case let value?: request.headers.replaceOrAdd(name: "Authorization", value: value)
        }
        request.headers.replaceOrAdd(name: "User-Agent", value: "mcp-vault-proxy")
        if let sessionID { request.headers.replaceOrAdd(name: "Mcp-Session-Id", value: sessionID) }
        if let version = await session.protocolVersion { request.headers.replaceOrAdd(name: "MCP-Protocol-Version", value: version) }
    }

    func execute(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        do {
            return try await client.execute(request, deadline: .now() + .hours(24))
        } catch let error as HTTPClientError where error == .connectTimeout || error == .deadlineExceeded {
            throw ProxyRefusal("\(request.url) did not answer within \(options.connectTimeout) s (see --timeout)")
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as HTTPClientError where error == .cancelled {
            throw CancellationError()
        } catch {
            throw ProxyRefusal("cannot reach \(request.url): \(NetworkFailure.reason(error))")
        }
    }

    /// Relays a POST's answer: one JSON message, or an SSE stream of them, each as it arrives. A
    /// request whose stream ends without its response gets an error response: no client waits for
    /// ever on a server that died mid-call.
    private func relay(_ response: HTTPClientResponse, answering message: JSONRPCMessage) async throws {
        let type = response.headers.first(name: "Content-Type")?.lowercased() ?? ""
        if type.hasPrefix("text/event-stream") {
            var answered = false
            do {
                try await streamEvents(response) { data in
                    if await self.deliver(data, answering: message), let relayed = JSONRPCMessage(data), relayed.isResponse,
                       relayed.id == message.id {
                        answered = true
                    }
                }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                if !answered && message.isRequest { throw ProxyRefusal("the server's stream broke before it answered: \(error)") }
            }
            if !answered && message.isRequest { throw ProxyRefusal("the server ended its stream without answering the request with a JSON-RPC message") }
        } else if type.hasPrefix("application/json") {
            let body: ByteBuffer
            do {
                body = try await response.body.collect(upTo: options.maximumMessageSize)
            } catch is NIOTooManyBytesError {
                throw ProxyRefusal("the server's answer is larger than \(options.maximumMessageSize) bytes (see --max-message-size)")
            }
            let data = Data(body.readableBytesView)
            if !(await deliver(data, answering: message)) && message.isRequest {
                throw ProxyRefusal("the server answered with something that is not a JSON-RPC message" + Self.summary(of: body))
            }
        } else {
            try await drain(response)
            if message.isRequest && Int(response.status.code) != 202 {
                throw ProxyRefusal("\(serverURL) answered with content type '\(type)', neither JSON nor an event stream")
            }
        }
    }

    /// Sends one server message to the client, as one line (tools/list filtered for
    /// --ignore-tool); false when it is not a JSON-RPC message, which is dropped. An empty body
    /// (a 202 that still names a content type) is no message.
    @discardableResult
    private func deliver(_ data: Data, answering message: JSONRPCMessage) async -> Bool {
        guard data.contains(where: { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }) else { return false }
        guard let line = await relay(data) else { return false }
        if message.method == "initialize", let version = JSONRPCMessage.protocolVersion(inInitializeResult: line) {
            await session.negotiated(version)
        }
        await output.send(message.method == "tools/list" ? JSONRPCMessage.removingTools(options.ignoredTools, from: line) : line)
        return true
    }

    /// A server message as the one line the client may read, or nil (said on stderr) when it is
    /// not a JSON-RPC message.
    func relay(_ data: Data) async -> Data? {
        guard let line = JSONRPCMessage.oneLine(data) else {
            logger.warning("the server sent something that is not a JSON-RPC message (\(data.count) bytes); dropped")
            return nil
        }
        return line
    }

    /// Calls `each` with the data of every `message` event of an SSE body, as it arrives;
    /// `other` gets events of other types (the legacy transport's `endpoint`).
    func streamEvents(_ response: HTTPClientResponse, onRetry: ((Int) async -> Void)? = nil, lastEventID: ((String) async -> Void)? = nil,
                      other: ((SSEParser.Event) async throws -> Void)? = nil, _ each: (Data) async throws -> Void) async throws {
        var parser = SSEParser(lineLimit: options.maximumMessageSize)
        for try await chunk in response.body {
            for event in try parser.feed(chunk.readableBytesView) {
                if let id = event.id { await lastEventID?(id) }
                if event.type == "message" {
                    if !event.data.isEmpty { try await each(Data(event.data.utf8)) }
                } else {
                    try await other?(event)
                }
            }
            if let retry = parser.retry { await onRetry?(retry) }
        }
    }

    /// Reads and drops a body the proxy does not relay, and returns its first 4 KiB (for an error
    /// message). A body that goes on past 64 KiB or 2 s is abandoned (its connection closed): an
    /// error body that never ends must not hold a request, nor fill memory.
    @discardableResult
    func drain(_ response: HTTPClientResponse) async throws -> ByteBuffer {
        let body = response.body
        return try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask {
                var start = ByteBuffer()
                var total = 0
                for try await chunk in body {
                    var chunk = chunk
                    if let piece = chunk.readSlice(length: min(chunk.readableBytes, 4096 - start.readableBytes)) {
                        start.writeImmutableBuffer(piece)
                    }
                    total += chunk.readableBytes
                    if total > 65536 { break }
                }
                return start
            }
            group.addTask {
                try await Task.sleep(for: .seconds(2))
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next().flatMap { $0 } ?? ByteBuffer()
        }
    }

    // MARK: Sessions

    /// Starts a new session by replaying the client's initialize (its answer is not relayed:
    /// the client already has one), unless another request did so already.
    private func renewSession(replacing old: String?) async throws {
        try await session.renew(replacing: old) {
            guard let initialize = await self.session.initializeMessage else { throw ProxyRefusal("the server dropped the session before it began") }
            let token = try await self.tokens.token(rejected: nil)
            let response = try await self.post(initialize, token: token, sessionID: nil)
            guard (200...299).contains(Int(response.status.code)) else {
                try await self.drain(response)
                throw ProxyRefusal("the server refused a new session (HTTP \(response.status.code))")
            }
            let id = response.headers.first(name: "Mcp-Session-Id")
            try await self.drain(response)
            await self.session.started(id: id, initialize: initialize)
            let initialized = try await self.post(Data(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.utf8), token: token, sessionID: id)
            try await self.drain(initialized)
            self.logger.info("the server had dropped the session; a new one was started")
        }
        await startServerStream()
    }

    /// Ends the session at the server (DELETE), within a second.
    private func endSession() async {
        if let legacy = await session.legacyStream { legacy.cancel() }
        await session.stopServerStream()
        guard let id = await session.id, let token = try? await tokens.token(rejected: nil) else { return }
        var request = HTTPClientRequest(url: serverURL)
        request.method = .DELETE
        await addCommonHeaders(to: &request, token: token, sessionID: id)
        let response = try? await client.execute(request, deadline: .now() + .seconds(1))
        logger.debug("DELETE session: HTTP \(response.map { String($0.status.code) } ?? "no answer")")
        if let response { _ = try? await drain(response) }
    }

    // MARK: The server's own stream (GET)

    /// Opens the GET stream for messages the server starts (when it offers one: 405 means none),
    /// and keeps it open: after a drop it reconnects with Last-Event-ID after the server's retry.
    func startServerStream() async {
        await session.startServerStream {
            var retryMilliseconds = 1000
            var rejected: String?
            var refusals = 0  // 401s in a row
            while !Task.isCancelled {
                do {
                    let token = try await self.tokens.token(rejected: rejected)
                    rejected = nil
                    var request = HTTPClientRequest(url: self.serverURL)
                    request.method = .GET
                    request.headers.add(name: "Accept", value: "text/event-stream")
                    await self.addCommonHeaders(to: &request, token: token, sessionID: await self.session.id)
                    if let last = await self.session.lastEventID { request.headers.add(name: "Last-Event-ID", value: last) }
                    let response = try await self.execute(request)
                    let status = Int(response.status.code)
                    self.logger.debug("GET stream: HTTP \(status)")
                    switch status {
                    case 200:
                        refusals = 0
                        try await self.streamEvents(response, onRetry: { retryMilliseconds = $0 },
                                                    lastEventID: { await self.session.sawEvent($0) }) { data in
                            if let line = await self.relay(data) { await self.output.send(line) }
                        }
                    case 401:
                        try await self.drain(response)
                        refusals += 1
                        guard refusals == 1 else {
                            // Refused again with a token refreshed for it: another refresh would
                            // only be refused too (and each is a grant at the server).
                            self.logger.warning("the server refuses its own stream (GET) even with a fresh token (HTTP 401); it is not opened again in this session")
                            return
                        }
                        rejected = token
                        continue
                    default:  // 405: no such stream; 404: the session is gone (a request will renew it)
                        try await self.drain(response)
                        return
                    }
                } catch is CancellationError {
                    return
                } catch {
                    self.logger.debug("GET stream: \(error)")
                }
                try? await Task.sleep(for: .milliseconds(min(max(retryMilliseconds, 100), 60_000)))
            }
        }
    }
}
