/// Every failure of the Vault library. Each case reads as a sentence for the user, keeps its
/// cause, carries a `hint` where a likely fix exists, and never contains a secret.
public enum VaultError: Error, Sendable, CustomStringConvertible {
    // The vault directory and its files.
    case noVault(path: String)
    case alreadyExists(path: String)
    case insecurePermissions(path: String, permissions: UInt32, isDirectory: Bool)
    case wrongOwner(path: String, owner: UInt32, expected: UInt32)
    case symbolicLink(path: String)
    case notADirectory(path: String)
    case notARegularFile(path: String)
    case fileTooLarge(path: String, limit: Int)
    case recordTooLarge(size: Int, limit: Int)
    case notWritable(path: String, reason: String)
    case system(SystemCallError)

    // The header (vault.json).
    case malformedHeader(path: String, reason: String)
    case unsupportedVersion(found: Int, supported: Int)
    case kdfParametersOutOfRange(reason: String)
    case headerAuthenticationFailed(reason: String)

    // Sealed records.
    case malformedRecord(id: String, reason: String)
    case unsupportedRecordVersion(id: String, found: Int)
    case recordFromAnotherVault(id: String, vaultID: String)
    case recordRenamed(id: String, holds: String)
    case recordAuthenticationFailed(id: String)

    // Unlocking and key slots.
    case wrongPassphrase
    case passphraseUnavailable(reason: String)
    /// A secret's value (`secret set`) could not be read.
    case secretUnavailable(reason: String)
    case emptyPassphrase
    case locked(attempts: [UnlockAttempt])
    case keyring(KeyringError)
    case sessionCache(KernelKeyringError)
    case kdfOutOfMemory(bytes: UInt64)
    case lastSlot(SlotType)
    case slotExists(SlotType)
    case noSuchSlot(SlotType)

    public var description: String {
        switch self {
        case .noVault(let path):
            return "there is no vault at \(path)"
        case .alreadyExists(let path):
            return "a vault already exists at \(path); it was left as it is"
        case .insecurePermissions(let path, let permissions, let isDirectory):
            let kind = isDirectory ? "directory" : "file"
            return "the vault \(kind) \(path) is accessible by other users (mode \(octal(permissions))); mcp-vault refuses to use it"
        case .wrongOwner(let path, let owner, let expected):
            return "\(path) belongs to user \(owner), not to you (user \(expected)); mcp-vault refuses to use it"
        case .symbolicLink(let path):
            return "\(path) is a symbolic link; mcp-vault never follows links inside a vault"
        case .notADirectory(let path):
            return "\(path) is not a directory"
        case .notARegularFile(let path):
            return "\(path) is not a regular file"
        case .fileTooLarge(let path, let limit):
            return "\(path) is larger than \(limit) bytes, more than any vault file can be; it was not read"
        case .notWritable(let path, let reason):
            return "the vault at \(path) cannot take a new record now (\(reason)); nothing was sent to any server"
        case .recordTooLarge(let size, let limit):
            return "the record would take \(size) bytes, more than the \(limit) any record may; nothing was written"
        case .system(let error):
            return error.description
        case .malformedHeader(let path, let reason):
            return "the vault header \(path) is malformed: \(reason)"
        case .unsupportedVersion(let found, let supported):
            return "the vault has format version \(found), but this mcp-vault reads only version \(supported)"
        case .kdfParametersOutOfRange(let reason):
            return "the passphrase slot's Argon2id parameters are out of range: \(reason)"
        case .headerAuthenticationFailed(let reason):
            return "the vault header failed authentication: \(reason)"
        case .malformedRecord(let id, let reason):
            return "record \(id) is malformed: \(reason)"
        case .unsupportedRecordVersion(let id, let found):
            return "record \(id) has format version \(found), but this mcp-vault reads only version \(RecordFile.version)"
        case .recordFromAnotherVault(let id, let vaultID):
            return "record \(id) belongs to another vault (\(vaultID)); it was copied in from elsewhere or damaged"
        case .recordRenamed(let id, let holds):
            return "record file \(id) holds record \(holds); it was renamed or copied over another record"
        case .recordAuthenticationFailed(let id):
            return "record \(id) failed authentication: it was modified or is corrupt"
        case .wrongPassphrase:
            return "wrong passphrase"
        case .passphraseUnavailable(let reason):
            return "no passphrase: \(reason)"
        case .secretUnavailable(let reason):
            return "no value: \(reason)"
        case .emptyPassphrase:
            return "the passphrase is empty"
        case .locked(let attempts):
            if attempts.isEmpty { return "the vault is locked" }
            let reasons = attempts.map { "\($0.method.displayName): \($0.reason)" }.joined(separator: "; ")
            return "the vault is locked (\(reasons))"
        case .keyring(let error):
            return error.description
        case .sessionCache(let error):
            return error.description
        case .kdfOutOfMemory(let bytes):
            return "Argon2id could not allocate \(bytes / (1024 * 1024)) MiB of memory"
        case .lastSlot(let type):
            return "the \(type.displayName) slot is the vault's only key slot; removing it would lock the vault forever"
        case .slotExists(let type):
            return "the vault already has a \(type.displayName) slot"
        case .noSuchSlot(let type):
            return "the vault has no \(type.displayName) slot"
        }
    }

    /// Whether this error is about one record file that cannot be opened (the others can), as
    /// opposed to the vault, the key or the system.
    public var isDamagedRecord: Bool {
        switch self {
        case .malformedRecord, .unsupportedRecordVersion, .recordFromAnotherVault, .recordRenamed, .recordAuthenticationFailed,
             .fileTooLarge, .notARegularFile:
            true
        default:
            false
        }
    }

    /// A likely fix, when there is one.
    public var hint: String? {
        switch self {
        case .noVault:
            return "create one with `mcp-vault init`, or point --vault-dir / MCP_VAULT_DIR at an existing vault"
        case .alreadyExists:
            return "use another --vault-dir, or manage the existing vault's slots with `mcp-vault passphrase` and `mcp-vault keyring`"
        case .insecurePermissions(let path, _, let isDirectory):
            return "chmod \(isDirectory ? "700" : "600") '\(path)'"
        case .wrongOwner(let path, _, _):
            return "run mcp-vault as the owner of '\(path)', or point --vault-dir at a vault of your own"
        case .symbolicLink(let path):
            return "replace the link '\(path)' with the real file or directory"
        case .malformedHeader, .headerAuthenticationFailed:
            return "restore vault.json from a backup; the records cannot be opened without it"
        case .unsupportedVersion:
            return "upgrade mcp-vault"
        case .recordFromAnotherVault, .recordRenamed, .recordAuthenticationFailed, .malformedRecord, .unsupportedRecordVersion:
            return "restore the record from a backup, or remove it (`mcp-vault logout --damaged`, or `mcp-vault login URL` to replace it); other records are not affected"
        case .wrongPassphrase:
            return "check the passphrase (or the file given with --passphrase-file) and try again"
        case .secretUnavailable:
            return "give the value on standard input (`printf %s VALUE | mcp-vault secret set NAME`), with --from-file FILE, or at the prompt in a terminal"
        case .passphraseUnavailable, .locked:
            return "run `mcp-vault unlock` in a terminal, or pass --passphrase-file FILE or --passphrase-fd N"
        case .keyring(let error):
            return error.hint
        case .sessionCache(let error):
            return error.hint
        case .kdfOutOfMemory:
            return "free memory, or lower the cost with `mcp-vault passphrase change --cost interactive`"
        case .lastSlot:
            return "add another slot first (`mcp-vault passphrase add` or `mcp-vault keyring add`)"
        case .slotExists(let type):
            return type == .passphrase ? "use `mcp-vault passphrase change`" : nil
        case .noSuchSlot(let type):
            return type == .passphrase ? "add one with `mcp-vault passphrase add`" : "add one with `mcp-vault keyring add`"
        default:
            return nil
        }
    }
}

func octal(_ value: UInt32) -> String {
    "0" + String(value, radix: 8)
}

/// One way of unlocking that was tried, and why it did not work.
public struct UnlockAttempt: Sendable {
    public let method: UnlockMethod
    public let reason: String

    public init(method: UnlockMethod, reason: String) {
        self.method = method
        self.reason = reason
    }
}
