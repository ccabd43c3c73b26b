#if canImport(Glibc)
import Glibc
#endif

/// Opens a URL in the user's browser: `$BROWSER` (a command, split on spaces, the URL appended),
/// else xdg-open. Its output goes to /dev/null; mcp-vault does not wait for it.
public enum Browser {
    /// False when no browser could be started (the URL is printed anyway).
    @discardableResult
    public static func open(_ url: String, environment: [String: String]) -> Bool {
        let command = environment["BROWSER"].map { $0.split(separator: " ").map(String.init) } ?? ["xdg-open"]
        guard let program = command.first else { return false }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = (command + [url]).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        return posix_spawnp(&pid, program, &actions, nil, argv, environ) == 0
    }
}
