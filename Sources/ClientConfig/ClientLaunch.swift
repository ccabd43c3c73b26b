#if canImport(Glibc)
import Glibc
#endif

/// How MCP clients start the commands of their configurations, and so how they start mcp-vault:
/// a stdio server gets only the official MCP SDKs' default variables (plus the entry's `env`),
/// and a client started from a desktop menu has the session's PATH, which need not hold
/// ~/.local/bin. `setup` writes a command that such a launch finds; `doctor` checks it.
public enum ClientLaunch {
    /// What the SDKs (TypeScript and Python, `DEFAULT_INHERITED_ENV_VARS`) pass on to a stdio server.
    public static let inheritedVariables = ["HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER"]

    /// The directories of the PATH every session has.
    public static let defaultPath = ["/usr/local/bin", "/usr/bin", "/bin"]

    /// Where a client's launch finds `command`: a path as it is, a bare name in `defaultPath`;
    /// nil when it finds no executable file.
    public static func resolve(_ command: String) -> String? {
        let candidates = command.contains("/") ? [command] : defaultPath.map { $0 + "/" + command }
        return candidates.first { access($0, X_OK) == 0 && isRegularFile($0) }
    }

    /// The environment a client gives a stdio server it starts from a desktop menu: the SDKs'
    /// variables from `environment`, with the default PATH.
    public static func environment(from environment: [String: String]) -> [String: String] {
        var launched = environment.filter { inheritedVariables.contains($0.key) }
        launched["PATH"] = defaultPath.joined(separator: ":")
        return launched
    }

    /// `path` with every symbolic link resolved (itself when it cannot be).
    public static func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private static func isRegularFile(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFREG
    }
}
