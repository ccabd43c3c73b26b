import Processes

/// Opens a URL in the user's browser: `$BROWSER` (a command, split on spaces, the URL appended),
/// else xdg-open. Its output goes to /dev/null; it inherits no descriptor of ours beyond the
/// standard three; mcp-vault does not wait for it.
public enum Browser {
    /// False when no browser could be started (the URL is printed anyway).
    @discardableResult
    public static func open(_ url: String, environment: [String: String]) -> Bool {
        let command = environment["BROWSER"].map { $0.split(separator: " ").map(String.init) } ?? ["xdg-open"]
        guard !command.isEmpty else { return false }
        do {
            try Subprocess.launch(command + [url])
            return true
        } catch {
            return false
        }
    }
}
