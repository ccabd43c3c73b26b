#if canImport(Glibc)
import Glibc
#endif

/// Where the user's D-Bus session bus is, found as a desktop provides it. MCP clients start
/// `proxy` and `token` with a stripped environment (the MCP SDKs pass on only HOME, LOGNAME,
/// PATH, SHELL, TERM and USER), so the variable is often missing while the bus is there:
///
/// 1. `DBUS_SESSION_BUS_ADDRESS`, as given;
/// 2. else `$XDG_RUNTIME_DIR/bus`;
/// 3. else `/run/user/<uid>/bus`, where systemd puts it.
///
/// The last two count only when the directory is this user's with mode 0700 and the socket is
/// this user's: another user's socket would hear every keyring call. A bus is never started
/// (no autolaunch): without one the keyring is simply unavailable.
public enum SessionBus {
    public enum Location: Sendable, Equatable {
        /// `DBUS_SESSION_BUS_ADDRESS` names it.
        case variable
        /// A socket found at this path.
        case socket(String)
        /// None; the reason says what was looked at.
        case none(reason: String)
    }

    /// How the bus of this process was found, before `adopt()` set the variable.
    public nonisolated(unsafe) private(set) static var adopted: Location?

    public static func locate(environment: [String: String], userID: UInt32 = geteuid()) -> Location {
        if let address = environment["DBUS_SESSION_BUS_ADDRESS"], !address.isEmpty { return .variable }
        // The reason is built by concatenation: a generic `joined` here costs a headless start-up
        // about a millisecond of conformance lookups in the Swift runtime.
        var reason = "DBUS_SESSION_BUS_ADDRESS is not set"
        var candidates: [String] = []
        if let runtime = environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") { candidates.append(runtime) }
        candidates.append("/run/user/\(userID)")
        for directory in candidates {
            let socket = directory + "/bus"
            guard let refusal = refusal(directory: directory, socket: socket, userID: userID) else { return .socket(socket) }
            reason += "; " + refusal
        }
        return .none(reason: reason)
    }

    /// Why `socket` in `directory` is not this user's bus, or nil when it is.
    private static func refusal(directory: String, socket: String, userID: UInt32) -> String? {
        guard let folder = try? SystemCalls.linkStatus(directory) else { return "no \(directory)" }
        guard folder.isDirectory, folder.owner == userID, folder.permissions == 0o700 else {
            return "\(directory) is not a directory of this user's with mode 0700"
        }
        guard let entry = try? SystemCalls.linkStatus(socket) else { return "no \(socket)" }
        guard entry.isSocket, entry.owner == userID else { return "\(socket) is not a socket of this user's" }
        return nil
    }

    /// At start-up, before any thread: when the variable is missing and the bus is found, sets
    /// `DBUS_SESSION_BUS_ADDRESS`, so that GLib and libsecret (which look no further than
    /// `$XDG_RUNTIME_DIR`) and the programs started from here (a browser) use the same bus.
    public static func adopt() {
        // The usual case first, without building anything: every command starts here.
        if let address = getenv("DBUS_SESSION_BUS_ADDRESS"), address.pointee != 0 {
            adopted = .variable
            return
        }
        var variables: [String: String] = [:]
        if let runtime = getenv("XDG_RUNTIME_DIR") { variables["XDG_RUNTIME_DIR"] = String(cString: runtime) }
        let location = locate(environment: variables)
        adopted = location
        if case .socket(let path) = location {
            setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=" + escaped(path), 1)
        }
    }

    /// A value in a D-Bus address: bytes outside `[-0-9A-Za-z_/.*]` as `%XX`.
    static func escaped(_ value: String) -> String {
        var result = ""
        for byte in value.utf8 {
            let plain = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || [0x2D, 0x5F, 0x2F, 0x2E, 0x2A].contains(byte)
            result += plain ? String(UnicodeScalar(byte)) : "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
        }
        return result
    }

    /// How this process's bus was found: as `adopt()` saw it, else from `environment`.
    public static func current(environment: [String: String]) -> Location {
        adopted ?? locate(environment: environment)
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
