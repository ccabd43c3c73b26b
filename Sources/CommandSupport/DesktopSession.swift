import Vault

/// The graphical session of a program that was started without it. MCP clients start `proxy`
/// and `token` with a stripped environment: no DISPLAY, no WAYLAND_DISPLAY. The user's service
/// manager (systemd --user, reached over the session bus) holds the session's variables, as the
/// desktop imported them at login; a browser started from here gets them, and their presence
/// says someone may see the keyring's unlock prompt.
public enum DesktopSession {
    /// The variables a browser or a desktop prompt needs, taken from the service manager when
    /// the environment has no display of its own.
    static let graphicalVariables = ["DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY", "XDG_CURRENT_DESKTOP", "XDG_SESSION_TYPE",
                                     "XDG_SESSION_DESKTOP", "DESKTOP_SESSION", "BROWSER"]

    public static func hasDisplay(_ environment: [String: String]) -> Bool {
        ["DISPLAY", "WAYLAND_DISPLAY"].contains { !(environment[$0] ?? "").isEmpty }
    }

    /// `environment` as it is when it has a display; else with the graphical session's
    /// variables it lacks, from the service manager (unchanged when there is none).
    public static func completing(_ environment: [String: String], keyring: SecretServiceKeyring = SecretServiceKeyring()) -> [String: String] {
        guard !hasDisplay(environment) else { return environment }
        if case .none = SessionBus.current(environment: environment) { return environment }  // libsecret stays unloaded
        guard let manager = try? keyring.serviceManagerEnvironment() else { return environment }
        var completed = environment
        for name in graphicalVariables where completed[name] == nil {
            if let value = manager[name], !value.isEmpty { completed[name] = value }
        }
        return completed
    }

    /// Whether a browser can be opened: `$BROWSER`, or a display, here or in the session.
    public static func canOpenBrowser(_ environment: [String: String]) -> Bool {
        if environment["BROWSER"] != nil { return true }
        let completed = completing(environment)
        return completed["BROWSER"] != nil || hasDisplay(completed)
    }
}
