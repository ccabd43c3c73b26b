import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Acknowledges what the server sent at once instead of after the delayed-ACK timer (40 ms).
///
/// A server that writes a response's head and its body (an SSE event) in two small sends, with
/// Nagle's algorithm on (uvicorn on a socket it did not make itself, many Node and Go servers
/// behind proxies), holds the body back until the head is acknowledged; Linux delays that ACK on
/// a kept-alive connection, so every request took 44 ms. TCP_QUICKACK sends the pending ACK and
/// acknowledges at once for a while, but Linux leaves that mode again by itself, so it is set
/// anew after every read. mcp-proxy escapes the delay only by opening a connection per request.
final class QuickAcknowledgement: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    #if os(Linux)
    private static let option = ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: TCP_QUICKACK))
    #endif

    func channelReadComplete(context: ChannelHandlerContext) {
        #if os(Linux)
        try? context.channel.syncOptions?.setOption(Self.option, value: 1)
        #endif
        context.fireChannelReadComplete()
    }

    /// For `HTTPClient.Configuration`'s connection initializers: first in every connection's pipeline.
    @Sendable static func install(on channel: any Channel) -> EventLoopFuture<Void> {
        channel.pipeline.addHandler(QuickAcknowledgement(), position: .first)
    }
}
