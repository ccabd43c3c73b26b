/// Reading a passphrase from a file, a file descriptor or the terminal, straight into secure
/// memory. A passphrase never comes from argv.
public enum PassphraseInput {
    /// The longest passphrase accepted, in bytes.
    public static let maximumLength = 4096

    /// The first line of `path` (a trailing newline is not part of the passphrase). Links are
    /// followed here: secret mounts (Docker, Kubernetes) are symbolic links.
    public static func read(file path: String) throws -> SecureBytes {
        do {
            let descriptor = try SystemCalls.openForReading(path: path, followingLinks: true)
            return try firstLine(of: SystemCalls.readSecret(from: descriptor.raw, path: path, limit: maximumLength + 2), source: path)
        } catch let error as SystemCallError {
            throw VaultError.passphraseUnavailable(reason: "cannot read the passphrase file: \(error)")
        }
    }

    /// The first line read from file descriptor `descriptor`, which is read to its end and then
    /// closed: nothing started later (a browser, say) can inherit it.
    public static func read(descriptor: Int32) throws -> SecureBytes {
        do {
            defer { SystemCalls.close(descriptor) }
            return try firstLine(of: SystemCalls.readSecret(from: descriptor, path: "fd \(descriptor)", limit: maximumLength + 2), source: "fd \(descriptor)")
        } catch let error as SystemCallError {
            throw VaultError.passphraseUnavailable(reason: "cannot read the passphrase from descriptor \(descriptor): \(error)")
        }
    }

    /// Takes a passphrase from an environment variable and removes the variable from the
    /// environment (its value is zeroed first). Nil when the variable is not set.
    public static func takeFromEnvironment(_ name: String) -> SecureBytes? {
        SystemCalls.takeEnvironmentSecret(name)
    }

    /// Whether standard input is a terminal, the condition for prompting.
    public static var canPrompt: Bool { SystemCalls.isTerminal(0) }

    /// Asks on the terminal with echo off.
    public static func prompt(_ text: String) throws -> SecureBytes {
        guard canPrompt else {
            throw VaultError.passphraseUnavailable(reason: "standard input is not a terminal and no passphrase was given")
        }
        do {
            return try SystemCalls.readWithoutEcho(prompt: text, limit: maximumLength)
        } catch let error as SystemCallError {
            throw VaultError.passphraseUnavailable(reason: "cannot read from the terminal: \(error)")
        }
    }

    private static func firstLine(of bytes: SecureBytes, source: String) throws -> SecureBytes {
        let length = bytes.withUnsafeBytes { buffer -> Int in
            var end = buffer.firstIndex(of: UInt8(ascii: "\n")) ?? buffer.count
            if end > 0 && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            return end
        }
        guard length <= maximumLength else {
            throw VaultError.passphraseUnavailable(reason: "the passphrase from \(source) is longer than \(maximumLength) bytes")
        }
        guard length > 0 else { throw VaultError.emptyPassphrase }
        return bytes.prefix(length)
    }
}

/// Reading a secret's value (`mcp-vault secret set`) from a file, standard input or the
/// terminal, into secure memory; like a passphrase, never from argv.
public enum SecretInput {
    /// The largest value accepted, in bytes (a record holds a little less than 1 MiB).
    public static let maximumLength = 256 * 1024

    /// The whole of `path` (links followed, as secret mounts are links), less one final newline.
    public static func read(file path: String) throws -> SecureBytes {
        do {
            let descriptor = try SystemCalls.openForReading(path: path, followingLinks: true)
            return try value(SystemCalls.readSecret(from: descriptor.raw, path: path, limit: maximumLength + 1), source: path)
        } catch let error as SystemCallError {
            throw VaultError.secretUnavailable(reason: "cannot read \(path): \(error)")
        }
    }

    /// Standard input to its end, less one final newline (`printf %s VALUE |` and `echo VALUE |`
    /// give the same value).
    public static func readStandardInput() throws -> SecureBytes {
        do {
            return try value(SystemCalls.readSecret(from: 0, path: "standard input", limit: maximumLength + 1), source: "standard input")
        } catch let error as SystemCallError {
            throw VaultError.secretUnavailable(reason: "cannot read standard input: \(error)")
        }
    }

    /// One line from the terminal with echo off.
    public static func prompt(_ text: String) throws -> SecureBytes {
        do {
            return try value(SystemCalls.readWithoutEcho(prompt: text, limit: maximumLength), source: "the terminal")
        } catch let error as SystemCallError {
            throw VaultError.secretUnavailable(reason: "cannot read from the terminal: \(error)")
        }
    }

    private static func value(_ bytes: SecureBytes, source: String) throws -> SecureBytes {
        guard bytes.count <= maximumLength else {
            throw VaultError.secretUnavailable(reason: "the value from \(source) is longer than \(maximumLength) bytes")
        }
        let length = bytes.withUnsafeBytes { buffer -> Int in
            var end = buffer.count
            if end > 0 && buffer[end - 1] == UInt8(ascii: "\n") { end -= 1 }
            if end > 0 && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            return end
        }
        guard length > 0 else { throw VaultError.secretUnavailable(reason: "the value from \(source) is empty") }
        return bytes.prefix(length)
    }
}
