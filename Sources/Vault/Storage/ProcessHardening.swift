/// Process-wide protections for a program that holds keys in memory.
public enum ProcessHardening {
    /// No core dumps, and no ptrace attach by other processes of the same user. Call at start-up.
    public static func apply() {
        SystemCalls.disableCoreDumps()
    }
}
