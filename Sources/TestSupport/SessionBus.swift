import Foundation

/// A private D-Bus session bus (no service activation) with, optionally, an unlocked
/// gnome-keyring-daemon on it, under a throwaway HOME. Both daemons are stopped on release.
public final class PrivateSessionBus: @unchecked Sendable {
    public let home: TemporaryDirectory
    public let address: String
    private let bus: Process
    private var keyring: Process?

    public init(withKeyring: Bool) throws {
        home = try TemporaryDirectory(prefix: "bus")
        try FileManager.default.createDirectory(atPath: home.path + "/run", withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        bus = Process()
        bus.executableURL = URL(fileURLWithPath: "/usr/bin/dbus-daemon")
        bus.arguments = ["--config-file=\(Binaries.repositoryRoot)/scripts/session-bus.conf", "--nofork", "--print-address=1"]
        let output = Pipe()
        bus.standardOutput = output
        bus.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try bus.run()
        var text = ""
        while !text.contains("\n") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { throw TestFailure("dbus-daemon exited before printing its address") }
            text += String(decoding: chunk, as: UTF8.self)
        }
        address = String(text.prefix(while: { $0 != "\n" }))
        if withKeyring { try startKeyring() }
    }

    /// The variables a child needs to use this bus (and nothing from the test bed's own bus).
    public var environment: [String: String] {
        ["DBUS_SESSION_BUS_ADDRESS": address, "XDG_RUNTIME_DIR": home.path + "/run", "HOME": home.path]
    }

    public var keyringProcessID: Int32? { keyring?.processIdentifier }

    private func startKeyring() throws {
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: "/usr/bin/gnome-keyring-daemon")
        daemon.arguments = ["--foreground", "--unlock", "--components=secrets"]
        daemon.environment = environment.merging(["PATH": "/usr/bin:/bin"]) { $1 }
        let input = Pipe()
        daemon.standardInput = input
        daemon.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        daemon.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try daemon.run()
        input.fileHandleForWriting.write(Data(UUID().uuidString.utf8))
        try input.fileHandleForWriting.close()
        keyring = daemon
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
        if let keyring { kill(keyring.processIdentifier, SIGSTOP) }
    }

    public func stopKeyring() {
        guard let keyring else { return }
        kill(keyring.processIdentifier, SIGCONT)
        stop(keyring)
        self.keyring = nil
    }

    deinit {
        stopKeyring()
        stop(bus)
    }
}

/// Ends a child: SIGTERM, then SIGKILL if it is still there after two seconds. Polls rather than
/// calling waitUntilExit, which can wait forever on Linux once the child has been reaped.
func stop(_ process: Process) {
    guard process.isRunning else { return }
    kill(process.processIdentifier, SIGTERM)
    for signal in [SIGKILL, 0] {
        for _ in 0..<200 where process.isRunning { usleep(10_000) }
        guard process.isRunning, signal != 0 else { return }
        kill(process.processIdentifier, signal)
    }
}
