import Foundation

/// A private D-Bus session bus (no service activation) with, optionally, an unlocked
/// gnome-keyring-daemon on it, under a throwaway HOME. Both daemons are stopped on release.
public final class PrivateSessionBus: @unchecked Sendable {
    public let home: TemporaryDirectory
    public let address: String
    private let bus: ChildProcess
    private var keyring: ChildProcess?

    public init(withKeyring: Bool) throws {
        home = try TemporaryDirectory(prefix: "bus")
        try FileManager.default.createDirectory(atPath: home.path + "/run", withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        bus = try ChildProcess("/usr/bin/dbus-daemon",
                               ["--config-file=\(Binaries.repositoryRoot)/scripts/session-bus.conf", "--nofork", "--print-address=1"],
                               environment: ["PATH": "/usr/bin:/bin"], output: .pipe)
        guard let line = bus.readLine(), line.hasPrefix("unix:") else {
            throw TestFailure("dbus-daemon did not print its address")
        }
        address = line
        if withKeyring { try startKeyring() }
    }

    /// The variables a child needs to use this bus (and nothing from the test bed's own bus).
    public var environment: [String: String] {
        ["DBUS_SESSION_BUS_ADDRESS": address, "XDG_RUNTIME_DIR": home.path + "/run", "HOME": home.path]
    }

    private func startKeyring() throws {
        let password = home.file("keyring-password")
        try UUID().uuidString.write(toFile: password, atomically: true, encoding: .utf8)
        keyring = try ChildProcess("/usr/bin/gnome-keyring-daemon", ["--foreground", "--unlock", "--components=secrets"],
                                   environment: environment.merging(["PATH": "/usr/bin:/bin"]) { $1 }, input: password)
        for _ in 0..<200 {
            if try hasOwner("org.freedesktop.secrets") { return }
            usleep(25_000)
        }
        throw TestFailure("gnome-keyring-daemon did not appear on the private bus")
    }

    private func hasOwner(_ name: String) throws -> Bool {
        let result = try send(destination: "org.freedesktop.DBus", path: "/", method: "org.freedesktop.DBus.NameHasOwner",
                              arguments: ["string:\(name)"])
        return result.stdout.contains("boolean true")
    }

    @discardableResult
    public func send(destination: String, path: String, method: String, arguments: [String]) throws -> ProcessResult {
        try run("/usr/bin/dbus-send", ["--session", "--print-reply", "--dest=\(destination)", path, method] + arguments,
                environment: environment, timeout: 10)
    }

    /// Locks the default ("login") collection through the Secret Service API, as a screen lock would.
    public func lockDefaultCollection() throws {
        try send(destination: "org.freedesktop.secrets", path: "/org/freedesktop/secrets",
                 method: "org.freedesktop.Secret.Service.Lock", arguments: ["array:objpath:/org/freedesktop/secrets/collection/login"])
    }

    /// Points the "default" alias at the in-memory session collection.
    public func makeDefaultCollectionVolatile() throws {
        try send(destination: "org.freedesktop.secrets", path: "/org/freedesktop/secrets",
                 method: "org.freedesktop.Secret.Service.SetAlias",
                 arguments: ["string:default", "objpath:/org/freedesktop/secrets/collection/session"])
    }

    /// Freezes the keyring daemon (SIGSTOP): it keeps its bus name but never answers.
    public func freezeKeyring() {
        keyring?.signal(SIGSTOP)
    }

    deinit {
        keyring?.stop()
        bus.stop()
    }
}
