import Processes
#if canImport(Glibc)
import Glibc
#endif

/// Opens a URL in the user's browser. Its output goes to /dev/null; it inherits no descriptor of
/// ours beyond the standard three; mcp-vault does not wait for it.
///
/// `$BROWSER` (a command, split on spaces) gets the URL itself. xdg-open instead gets a file
/// that only this user can read (0600, in a 0700 directory) and that sends the browser on to the
/// URL: a program's arguments can be read by every local user in /proc, and an authorization
/// URL carries the login's state. `removeRedirectFiles()` deletes them once the login is over.
public enum Browser {
    nonisolated(unsafe) private static var redirectDirectories: [String] = []

    /// False when no browser could be started (the URL is printed anyway).
    @discardableResult
    /// A program started without the graphical session's variables (an MCP client's child) takes
    /// them from the user's service manager (`DesktopSession`), and the browser gets them.
    public static func open(_ url: String, environment: [String: String]) -> Bool {
        let environment = DesktopSession.completing(environment)
        if let command = environment["BROWSER"].map({ $0.split(separator: " ").map(String.init) }) {
            guard !command.isEmpty else { return false }
            return (try? Subprocess.launch(command + [url], environment: environment)) != nil
        }
        let target = (try? redirectFile(to: url, environment: environment)).map { "file://" + $0 } ?? url
        return (try? Subprocess.launch(["xdg-open", target], environment: environment)) != nil
    }

    /// Deletes the redirect files written for this process's logins.
    public static func removeRedirectFiles() {
        for directory in redirectDirectories {
            unlink(directory + "/sign-in.html")
            rmdir(directory)
        }
        redirectDirectories = []
    }

    /// An HTML page, readable only by this user, that sends the browser on to `url`.
    static func redirectFile(to url: String, environment: [String: String]) throws -> String {
        let base = environment["XDG_RUNTIME_DIR"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? "/tmp"
        var template = Array((base + "/mcp-vault-sign-in.XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw Subprocess.Failure(program: "mkdtemp", code: errno) }
        let directory = String(cString: made)
        redirectDirectories.append(directory)
        let path = directory + "/sign-in.html"
        let escaped = url.replacingAll("&", with: "&amp;").replacingAll("\"", with: "&quot;").replacingAll("<", with: "&lt;")
        let page = """
            <!doctype html><meta charset=utf-8><meta name=referrer content=no-referrer>
            <meta http-equiv="refresh" content="0; url=\(escaped)"><title>mcp-vault sign-in</title>
            <p><a href="\(escaped)">Continue to the sign-in page</a></p>

            """
        let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Subprocess.Failure(program: path, code: errno) }
        defer { close(descriptor) }
        var bytes = page
        let written = bytes.withUTF8 { write(descriptor, $0.baseAddress, $0.count) }
        guard written == page.utf8.count else { throw Subprocess.Failure(program: path, code: errno) }
        return path
    }
}

private extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
