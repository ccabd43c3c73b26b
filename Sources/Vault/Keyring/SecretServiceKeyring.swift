// The only file that calls the libsecret shim.
internal import CSecretShim

/// Why the desktop keyring (Secret Service) could not be used. Each case is a distinct situation
/// with its own remedy.
public enum KeyringError: Error, Sendable, Equatable, CustomStringConvertible {
    case noSessionBus(String)
    case noService(String)
    case noDefaultCollection
    case locked
    case volatileDefaultCollection
    case timeout(seconds: Double)
    case itemMissing
    case badItem
    case noLibrary(String)
    case failed(String)

    public var description: String {
        switch self {
        case .noSessionBus(let detail): return "no D-Bus session bus (\(detail))"
        case .noService(let detail): return "no Secret Service on the session bus (\(detail))"
        case .noDefaultCollection: return "the Secret Service has no default keyring"
        case .locked: return "the default keyring is locked"
        case .volatileDefaultCollection:
            return "the default keyring is the in-memory session keyring, which forgets its contents at logout"
        case .timeout(let seconds): return "the Secret Service did not answer within \(formatSeconds(seconds))"
        case .itemMissing: return "the keyring holds no key for this vault"
        case .badItem: return "the keyring item for this vault does not hold a 32-byte key"
        case .noLibrary(let detail): return "libsecret cannot be loaded (\(detail))"
        case .failed(let detail): return "the Secret Service failed: \(detail)"
        }
    }

    public var hint: String? {
        switch self {
        case .noSessionBus:
            return "run inside a desktop session, or use the passphrase slot (`mcp-vault passphrase add`)"
        case .noService:
            return "start a Secret Service such as gnome-keyring-daemon or KeePassXC, or use the passphrase slot"
        case .noDefaultCollection, .volatileDefaultCollection:
            return "create or choose a persistent default keyring (for example in Seahorse), or use the passphrase slot"
        case .locked:
            return "unlock the keyring (log in to the desktop, or unlock it in Seahorse), then try again"
        case .timeout:
            return "the keyring service may be hung; restart it, or raise MCP_VAULT_KEYRING_TIMEOUT"
        case .itemMissing, .badItem:
            return "unlock with the passphrase and run `mcp-vault keyring add` to store a fresh key"
        case .noLibrary:
            return "install libsecret (`apt install libsecret-1-0`), or use the passphrase slot"
        case .failed:
            return nil
        }
    }
}

private func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s"
}

/// The Secret Service, reached through libsecret with a deadline on every call.
public struct SecretServiceKeyring: Sendable {
    /// How long one operation (connect, check the collection, read or write) may take.
    public let timeout: Double

    public static let defaultTimeout = 5.0

    public init(timeout: Double = SecretServiceKeyring.defaultTimeout) {
        self.timeout = timeout
    }

    private var timeoutMilliseconds: UInt32 {
        UInt32(max(1, min(timeout * 1000, 600_000)))
    }

    /// Checks that a key could be stored and read now: bus, service, default collection unlocked.
    public func probe() throws(KeyringError) {
        var message: UnsafeMutablePointer<CChar>?
        let status = mv_secret_probe(timeoutMilliseconds, &message)
        try check(status, message)
    }

    /// Reads the 32-byte key of a secret-service slot.
    public func lookup(vaultID: String, slotID: String) throws(KeyringError) -> SecureBytes {
        let buffer = SecureBytes(count: 64)
        var length = 0
        var message: UnsafeMutablePointer<CChar>?
        let status = buffer.withUnsafeMutableBytes { memory in
            mv_secret_lookup(vaultID, slotID, timeoutMilliseconds,
                             memory.baseAddress?.assumingMemoryBound(to: UInt8.self), memory.count, &length, &message)
        }
        try check(status, message)
        guard length == 32 else { throw .badItem }
        return buffer.prefix(length)
    }

    /// Asks the Secret Service to unlock the default collection (the desktop shows its own unlock
    /// prompt) and waits up to `seconds` for the answer. Throws `.locked` when the prompt was
    /// dismissed, `.timeout` when nobody answered.
    public func unlockDefaultCollection(waiting seconds: Double) throws(KeyringError) {
        var message: UnsafeMutablePointer<CChar>?
        let status = mv_secret_unlock_default(UInt32(max(1, min(seconds * 1000, 600_000))), &message)
        if status == MV_SECRET_TIMEOUT {
            mv_secret_free_message(message)
            throw .timeout(seconds: seconds)
        }
        try check(status, message)
    }

    public func store(_ key: SecureBytes, vaultID: String, slotID: String) throws(KeyringError) {
        var message: UnsafeMutablePointer<CChar>?
        let label = "mcp-vault key for vault \(vaultID)"
        let status = key.withUnsafeBytes { bytes in
            mv_secret_store(vaultID, slotID, label, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
                            bytes.count, timeoutMilliseconds, &message)
        }
        try check(status, message)
    }

    public func remove(vaultID: String, slotID: String) throws(KeyringError) {
        var message: UnsafeMutablePointer<CChar>?
        let status = mv_secret_clear(vaultID, slotID, timeoutMilliseconds, &message)
        try check(status, message)
    }

    /// The environment of the user's service manager (systemd --user, on the session bus), where
    /// a desktop session keeps DISPLAY, WAYLAND_DISPLAY and the like. Throws `.noService` when
    /// the bus has no service manager.
    public func serviceManagerEnvironment() throws(KeyringError) -> [String: String] {
        var entries: UnsafeMutablePointer<CChar>?
        var length = 0
        var message: UnsafeMutablePointer<CChar>?
        let status = mv_session_manager_environment(timeoutMilliseconds, &entries, &length, &message)
        try check(status, message)
        defer { mv_secret_free_message(entries) }
        guard let entries else { return [:] }
        let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(entries).assumingMemoryBound(to: UInt8.self), count: length)
        var environment: [String: String] = [:]
        for entry in bytes.split(separator: 0) {
            guard let equals = entry.firstIndex(of: UInt8(ascii: "=")) else { continue }
            environment[String(decoding: entry[..<equals], as: UTF8.self)] = String(decoding: entry[(equals + 1)...], as: UTF8.self)
        }
        return environment
    }

    private func check(_ status: mv_secret_status, _ message: UnsafeMutablePointer<CChar>?) throws(KeyringError) {
        let detail = message.map { String(cString: $0) } ?? "no detail"
        mv_secret_free_message(message)
        switch status {
        case MV_SECRET_OK: return
        case MV_SECRET_NOT_FOUND: throw .itemMissing
        case MV_SECRET_NO_BUS: throw .noSessionBus(detail)
        case MV_SECRET_NO_SERVICE: throw .noService(detail)
        case MV_SECRET_NO_DEFAULT: throw .noDefaultCollection
        case MV_SECRET_LOCKED: throw .locked
        case MV_SECRET_VOLATILE: throw .volatileDefaultCollection
        case MV_SECRET_TIMEOUT: throw .timeout(seconds: timeout)
        case MV_SECRET_BAD_SIZE: throw .badItem
        case MV_SECRET_NO_LIBRARY: throw .noLibrary(detail)
        default: throw .failed(detail)
        }
    }
}
