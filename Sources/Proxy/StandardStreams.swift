import Dispatch
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The client's side of stdio: newline-delimited JSON-RPC messages in, one per line out.
enum StandardStreams {
    enum Input {
        case message(Data)
        /// A line longer than the limit: its bytes were dropped as they came.
        case oversized(Int)
    }

    /// Lines read from standard input on a thread of their own (a blocking read must not hold a
    /// thread of the cooperative pool); the stream ends at end of input. At most 16 lines wait
    /// to be taken, each taken line is acknowledged with `taken()`: a client that floods the
    /// proxy waits, the proxy's memory does not grow.
    static func lines(limit: Int) -> (lines: AsyncStream<Input>, taken: @Sendable () -> Void) {
        let room = DispatchSemaphore(value: 16)
        let stream = AsyncStream<Input> { continuation in
            DispatchQueue(label: "mcp-vault.standard-input").async {
                var line = Data()
                var dropped = 0
                var buffer = [UInt8](repeating: 0, count: 64 * 1024)
                func emit(_ input: Input) {
                    room.wait()
                    continuation.yield(input)
                }
                while true {
                    let count = read(0, &buffer, buffer.count)
                    if count < 0 && errno == EINTR { continue }
                    if count <= 0 { break }
                    var start = 0
                    for index in 0..<count where buffer[index] == 0x0A {
                        append(buffer[start..<index], to: &line, dropped: &dropped, limit: limit)
                        if dropped > 0 { emit(.oversized(dropped)) } else if !line.isEmpty { emit(.message(line)) }
                        line = Data()
                        dropped = 0
                        start = index + 1
                    }
                    append(buffer[start..<count], to: &line, dropped: &dropped, limit: limit)
                }
                if dropped == 0 && !line.isEmpty { emit(.message(line)) }
                continuation.finish()
            }
        }
        return (stream, { room.signal() })
    }

    private static func append(_ bytes: ArraySlice<UInt8>, to line: inout Data, dropped: inout Int, limit: Int) {
        if dropped > 0 || line.count + bytes.count > limit {
            dropped += line.count + bytes.count
            line = Data()
        } else {
            line.append(contentsOf: bytes)
        }
    }
}

/// Standard output, one whole message per line, one writer at a time. A write blocks while the
/// client does not read: that is the backpressure that keeps the proxy's memory bounded.
actor MessageOutput {
    private(set) var broken = false

    func send(_ message: Data) {
        guard !broken else { return }
        var bytes = message
        bytes.append(0x0A)
        let ok = bytes.withUnsafeBytes { buffer -> Bool in
            var written = 0
            while written < buffer.count {
                let count = write(1, buffer.baseAddress! + written, buffer.count - written)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { return false }
                written += count
            }
            return true
        }
        if !ok { broken = true }
    }
}
