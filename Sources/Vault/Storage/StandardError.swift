import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Standard error, for diagnostics. A client that starts `proxy` may give it a pipe that it never
/// reads: once that pipe is full, a plain write would stop the proxy for good. Here a pipe or a
/// socket takes only what it can take now; what does not fit is dropped, and the next line that
/// gets through says how many were lost. A terminal or a file is written as usual.
public enum StandardError {
    private static let waitsOnReader = SystemCalls.mayBlockOnReader(2)
    /// Lines dropped since the last one that got through.
    private static let dropped = Mutex(0)

    public static func write(_ text: String) {
        var text = text
        guard waitsOnReader else {
            text.withUTF8 { bytes in _ = Glibc.write(2, bytes.baseAddress, bytes.count) }
            return
        }
        dropped.withLock { dropped in
            if dropped > 0 {
                let note = "mcp-vault: note: \(dropped) line\(dropped == 1 ? " was" : "s were") not written: standard error was not being read\n"
                guard writeWhole(note) else {
                    dropped += 1
                    return
                }
                dropped = 0
            }
            if !writeWhole(text) { dropped += 1 }
        }
    }

    private static func writeWhole(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in SystemCalls.writeWithoutWaiting(2, UnsafeRawBufferPointer(bytes)) == bytes.count }
    }
}
