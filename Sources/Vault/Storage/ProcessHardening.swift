/// What every program does first.
public enum ProcessHardening {
    /// Whether standard output was closed when the program started (`token >&-`).
    public nonisolated(unsafe) static var standardOutputWasClosed = false

    /// No core dumps, and no ptrace attach by other processes of the same user. Descriptors 0 to
    /// 2 are made to exist (on /dev/null when closed), so that no file this program opens, a
    /// record or a lock, can become its standard output and receive a token. Call at start-up.
    public static func apply() {
        SystemCalls.disableCoreDumps()
        SystemCalls.ignoreBrokenPipes()
        let closed = SystemCalls.occupyStandardDescriptors()
        standardOutputWasClosed = closed.contains(1)
    }

    /// Writes all of `text` to standard output, or throws (a full disk, a closed pipe, a closed
    /// descriptor): a token that did not reach its reader must not look delivered.
    public static func writeToStandardOutput(_ text: String) throws {
        if standardOutputWasClosed { throw SystemCallError(call: "write", path: "standard output", code: 9 /* EBADF */) }
        try SystemCalls.writeAll(1, text, path: "standard output")
    }
}
