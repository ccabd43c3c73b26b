import Dispatch
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// SIGTERM and SIGINT end the proxy as the end of its input does: the session is deleted at the
/// server, then it exits 0.
final class ShutdownSignals: @unchecked Sendable {
    private var sources: [any DispatchSourceSignal] = []
    private let fired: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    private init() {
        (fired, continuation) = AsyncStream<Void>.makeStream()
    }

    static func install() -> ShutdownSignals {
        let signals = ShutdownSignals()
        for number in [SIGTERM, SIGINT, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { signals.continuation.yield() }
            source.resume()
            signals.sources.append(source)
        }
        return signals
    }

    func wait() async {
        for await _ in fired { return }
    }
}
