import Synchronization
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The RFC 8252 loopback redirect receiver: an HTTP server on 127.0.0.1 that serves only the
/// callback path and shows the user a plain result page. It takes the one response whose
/// `state` matches, from a connection of this user: anything else (a stray request, another
/// state, a connection from another local user, who may have read the state from the browser's
/// command line) gets an error page and is not taken, and the receiver keeps waiting.
public final class LoopbackReceiver: Sendable {
    public static let callbackPath = "/callback"
    public let port: Int
    public var redirectURI: String { "http://127.0.0.1:\(port)\(Self.callbackPath)" }
    private let channel: any Channel
    private let responses: AsyncStream<[String: String]>
    private let expectedState: StateBox

    /// Binds 127.0.0.1 on `port` (0: any free port). Refused requests are reported to `logger`.
    public static func bind(port: Int = 0, logger: Logger) async throws(OAuthError) -> LoopbackReceiver {
        let (stream, continuation) = AsyncStream<[String: String]>.makeStream()
        let state = StateBox()
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        try channel.pipeline.syncOperations.addHandler(CallbackHandler(deliver: continuation, state: state, logger: logger))
                    }
                }
                .bind(host: "127.0.0.1", port: port).get()
            return LoopbackReceiver(channel: channel, port: channel.localAddress?.port ?? port, responses: stream, state: state)
        } catch {
            throw .callbackPortBusy(port)
        }
    }

    private init(channel: any Channel, port: Int, responses: AsyncStream<[String: String]>, state: StateBox) {
        self.channel = channel
        self.port = port
        self.responses = responses
        expectedState = state
    }

    /// Waits for the authorization response whose state matches `state`; others are refused by
    /// the handler and never arrive here.
    public func waitForResponse(state: String, timeoutSeconds: Int) async throws -> [String: String] {
        expectedState.set(state)
        let refusals = expectedState
        return try await withThrowingTaskGroup(of: [String: String].self) { group in
            group.addTask {
                for await response in self.responses { return response }
                throw OAuthError.cancelled
            }
            group.addTask {
                try await Task.sleep(for: .seconds(timeoutSeconds))
                throw OAuthError.timedOutWaitingForBrowser(seconds: timeoutSeconds, refused: refusals.refusals)
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    public func close() async {
        try? await channel.close()
    }
}

/// The state the receiver expects, set once the authorization request is made, and how many
/// requests it refused.
final class StateBox: Sendable {
    private let state = Mutex<(value: String?, refused: Int)>((nil, 0))
    func set(_ value: String) { state.withLock { $0.value = value } }
    func matches(_ given: String?) -> Bool {
        state.withLock { state in state.value.map { expected in given.map { Randomness.equal($0, expected) } ?? false } ?? false }
    }
    func countRefusal() { state.withLock { $0.refused += 1 } }
    var refusals: Int { state.withLock { $0.refused } }
}

private final class CallbackHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let deliver: AsyncStream<[String: String]>.Continuation
    private let state: StateBox
    private let logger: Logger
    private var uri = ""
    /// Who connected, looked up as the connection arrives (nil: it could not be found).
    private var owner: UInt32?

    init(deliver: AsyncStream<[String: String]>.Continuation, state: StateBox, logger: Logger) {
        self.deliver = deliver
        self.state = state
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        owner = Self.owner(of: context.channel)
        context.fireChannelActive()
    }

    private static func owner(of channel: any Channel) -> UInt32? {
        guard let peer = channel.remoteAddress?.port, let local = channel.localAddress?.port else { return nil }
        return PeerCredentials.owner(ofConnectionFrom: peer, to: local)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): uri = head.uri
        case .body: break
        case .end:
            let path = String(uri.prefix(while: { $0 != "?" }))
            guard path == LoopbackReceiver.callbackPath else {
                respond(context, status: .notFound, title: "Not found", text: "This address only receives the sign-in response.")
                return
            }
            // The connection must be this user's: another local user can reach the port as
            // easily as the browser can. One whose owner cannot be found (gone from the table,
            // as a connection reset at once is) is refused too, whatever the timing.
            guard let owner = owner ?? Self.owner(of: context.channel), owner == PeerCredentials.currentUser else {
                state.countRefusal()
                logger.warning("refused a sign-in response from \(owner.map { "another local user (uid \($0))" } ?? "a connection whose owner cannot be found"); still waiting for yours")
                respond(context, status: .forbidden, title: "Sign-in refused",
                        text: "This response did not come from a program of your own on this computer, so it was refused.")
                return
            }
            let query = uri.firstIndex(of: "?").map { String(uri[uri.index(after: $0)...]) } ?? ""
            let fields = FormURLEncoding.decode(query)
            guard state.matches(fields["state"]) else {
                state.countRefusal()
                logger.warning("refused a sign-in response whose state is not this login's; still waiting for the right one")
                respond(context, status: .badRequest, title: "Sign-in refused",
                        text: "This response does not belong to the sign-in mcp-vault started, so it was refused. mcp-vault is still waiting for the right one.")
                return
            }
            if let error = fields["error"] {
                let description = fields["error_description"].map { ": " + $0 } ?? ""
                respond(context, status: .ok, title: "Sign-in failed", text: "The server said \(error)\(description).")
            } else {
                respond(context, status: .ok, title: "Signed in", text: "mcp-vault has your authorization. You can close this tab.")
            }
            deliver.yield(fields)
        }
    }

    private func respond(_ context: ChannelHandlerContext, status: HTTPResponseStatus, title: String, text: String) {
        let html = "<!doctype html><meta charset=utf-8><title>\(Self.escape(title))</title>"
            + "<body style=\"font-family:sans-serif;margin:3em\"><h1>\(Self.escape(title))</h1><p>\(Self.escape(text))</p></body>\n"
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/html; charset=utf-8")
        headers.add(name: "Content-Length", value: String(html.utf8.count))
        headers.add(name: "Connection", value: "close")
        headers.add(name: "Cache-Control", value: "no-store")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: html)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.close(promise: nil)
    }

    /// The server's error text is shown escaped, never as markup.
    static func escape(_ text: String) -> String {
        text.replacing("&", with: "&amp;").replacing("<", with: "&lt;")
            .replacing(">", with: "&gt;").replacing("\"", with: "&quot;")
    }
}
