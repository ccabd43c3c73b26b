// The only file that calls keyutils (the Linux kernel key-retention service).
internal import CKeyutils
#if canImport(Glibc)
import Glibc
#endif

public enum KernelKeyringError: Error, Sendable, Equatable, CustomStringConvertible {
    case unavailable(call: String, code: Int32)

    public var description: String {
        switch self {
        case .unavailable(let call, let code):
            return "the kernel keyring is not available here (\(call): \(String(cString: strerror(code))))"
        }
    }

    public var hint: String? {
        "containers often forbid keyctl (seccomp); unlock with the keyring or the passphrase each time instead"
    }
}

/// Keys of type "user" in the calling user's kernel keyring (@u), readable only by that user.
/// They live in kernel memory, expire after a timeout and are gone at reboot.
struct KernelKeyring {
    private static let userKeyring = key_serial_t(KEY_SPEC_USER_KEYRING)
    // Possessor and user: view, read, write, search, link, setattr. Group and others: nothing.
    private static let userOnly = key_perm_t(0x3f3f_0000)

    /// Stores `secret` under `description`, replacing an older key of that name, expiring after `timeout` seconds.
    static func store(_ secret: SecureBytes, description: String, timeout: UInt32) throws(KernelKeyringError) {
        let serial = secret.withUnsafeBytes { bytes in
            add_key("user", description, bytes.baseAddress, bytes.count, userKeyring)
        }
        guard serial >= 0 else { throw .unavailable(call: "add_key", code: errno) }
        guard keyctl_setperm(serial, userOnly) == 0 else {
            let code = errno
            _ = keyctl_invalidate(serial)
            throw .unavailable(call: "keyctl_setperm", code: code)
        }
        guard keyctl_set_timeout(serial, timeout) == 0 else {
            let code = errno
            _ = keyctl_invalidate(serial)
            throw .unavailable(call: "keyctl_set_timeout", code: code)
        }
    }

    /// The key stored under `description`, or nil when there is none (or it expired).
    static func load(description: String, length: Int) throws(KernelKeyringError) -> SecureBytes? {
        guard let serial = try find(description) else { return nil }
        let buffer = SecureBytes(count: length + 1)
        let read = buffer.withUnsafeMutableBytes { memory in
            keyctl_read(serial, memory.baseAddress?.assumingMemoryBound(to: CChar.self), memory.count)
        }
        guard read >= 0 else {
            if errno == EKEYEXPIRED || errno == EKEYREVOKED || errno == ENOKEY { return nil }
            throw .unavailable(call: "keyctl_read", code: errno)
        }
        guard read == length else { return nil }
        return buffer.prefix(length)
    }

    /// Invalidates the key at once; false when there was none.
    @discardableResult
    static func remove(description: String) throws(KernelKeyringError) -> Bool {
        guard let serial = try find(description) else { return false }
        guard keyctl_invalidate(serial) == 0 else { throw .unavailable(call: "keyctl_invalidate", code: errno) }
        return true
    }

    /// Whether a live key is stored under `description`.
    static func contains(description: String) throws(KernelKeyringError) -> Bool {
        try find(description) != nil
    }

    /// Checks that keys can be added, read and removed.
    static func selfTest() throws(KernelKeyringError) {
        let probe = SecureBytes.random(count: 8)
        let description = "mcp-vault:probe:\(getpid())"
        try store(probe, description: description, timeout: 10)
        defer { _ = try? remove(description: description) }
        guard let read = try load(description: description, length: 8), read.constantTimeEquals(probe) else {
            throw .unavailable(call: "keyctl_read", code: EIO)
        }
    }

    private static func find(_ description: String) throws(KernelKeyringError) -> key_serial_t? {
        let serial = keyctl_search(userKeyring, "user", description, 0)
        if serial >= 0 { return key_serial_t(serial) }
        switch errno {
        case ENOKEY, EKEYEXPIRED, EKEYREVOKED: return nil
        default: throw .unavailable(call: "keyctl_search", code: errno)
        }
    }
}
