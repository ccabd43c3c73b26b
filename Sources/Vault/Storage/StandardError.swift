import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Standard error, for diagnostics. A client that starts `proxy` may give it a pipe that it never
/// reads: once that pipe is full, a plain write would stop the proxy for good. Here a pipe or a
/// socket takes only what it can take now; what does not fit is dropped, and the next line that
/// gets through says how many were lost. A terminal or a file is written as usual.
public enum StandardError {
    /// Set when standard error is a pipe or a socket (see `SystemCalls.nonBlockingWriter`).
    private static let writer = SystemCalls.nonBlockingWriter(for: 2)
    /// Lines dropped since the last one that got through, and whether a line was cut short.
    private static let state = Mutex((dropped: 0, midLine: false))

    public static func write(_ text: String) {
        var text = text
        guard let writer else {
            text.withUTF8 { bytes in _ = Glibc.write(2, bytes.baseAddress, bytes.count) }
            return
        }
        state.withLock { state in
            if state.dropped > 0 || state.midLine {
                var note = state.midLine ? "\n" : ""
                if state.dropped > 0 {
                    note += "mcp-vault: note: \(state.dropped) line\(state.dropped == 1 ? " was" : "s were") not written: standard error was not being read\n"
                }
                switch writeWhole(note, writer) {
                case .all: state = (0, false)
                case .part: state = (state.dropped + 1, true); return
                case .none: state.dropped += 1; return
                }
            }
            switch writeWhole(text, writer) {
            case .all: break
            case .part: state.midLine = true
            case .none: state.dropped += 1
            }
        }
    }

    private enum Written { case all, part, none }

    private static func writeWhole(_ text: String, _ writer: (descriptor: Int32, socket: Bool)) -> Written {
        var text = text
        return text.withUTF8 { bytes in
            let count = SystemCalls.writeWithoutWaiting(writer, UnsafeRawBufferPointer(bytes))
            return count == bytes.count ? .all : count > 0 ? .part : .none
        }
    }
}
