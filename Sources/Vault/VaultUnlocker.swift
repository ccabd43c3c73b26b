import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Where an unlock may get the master key from, tried in this order:
/// the session cache, the keyring slot, the passphrase slot.
public struct UnlockSources: Sendable {
    public var sessionCache: Bool
    public var keyring: SecretServiceKeyring?
    /// Asked only when the passphrase slot is reached. Throws `VaultError.passphraseUnavailable`
    /// when there is no way to get one (that attempt is then reported with the others).
    public var passphrase: (@Sendable () throws -> SecureBytes)?
    /// A descriptor from which the mcp-vault that exec'd this program passes the master key.
    public var handedOverKey: Int32?
    /// How many passphrases to try (3 when they are typed at a terminal).
    public var passphraseAttempts = 1
    /// Told the number of tries left after a wrong passphrase.
    public var wrongPassphrase: (@Sendable (Int) -> Void)?
    /// Told when a key derivation starts (true) and ends (false), to show a line while it runs.
    public var deriving: (@Sendable (Bool) -> Void)?
    /// On a desktop (a display or a terminal to see it from): seconds to wait for the Secret
    /// Service's own unlock prompt when the default collection is locked; nil never prompts.
    public var keyringUnlockPrompt: Double?
    /// Whether someone may see that prompt (asked only when the collection is locked); nil: yes.
    public var keyringPromptVisible: (@Sendable () -> Bool)?
    /// Told when the unlock prompt is raised, to say so.
    public var promptingForKeyring: (@Sendable () -> Void)?

    public init(sessionCache: Bool = true, keyring: SecretServiceKeyring? = SecretServiceKeyring(),
                passphrase: (@Sendable () throws -> SecureBytes)? = nil) {
        self.sessionCache = sessionCache
        self.keyring = keyring
        self.passphrase = passphrase
    }
}

/// The unlock chain. Each source that fails is recorded with its reason; when none works the
/// error lists them all. There is never a plaintext fallback.
public enum VaultUnlocker {
    public static func unlock(_ directory: VaultDirectory, sources: UnlockSources, logger: Logger) throws -> Vault {
        let header = try directory.readHeader()
        var attempts: [UnlockAttempt] = []
        var keyringFailure: KeyringError?

        if let descriptor = sources.handedOverKey {
            let key = try SystemCalls.readSecret(from: descriptor, path: "fd \(descriptor)", limit: 32)
            _ = close(descriptor)
            if key.count == 32, VaultHeader.keyCheck(for: key, vaultID: header.vaultID) == header.keyCheck {
                return Vault(directory: directory, header: header, keys: VaultKeys(master: key), unlockedBy: .handover)
            }
            attempts.append(UnlockAttempt(method: .handover, reason: "the key handed over does not open this vault"))
        }

        if sources.sessionCache {
            do {
                if let key = try SessionKeyCache.load(vaultID: header.vaultID) {
                    if VaultHeader.keyCheck(for: key, vaultID: header.vaultID) == header.keyCheck {
                        logger.debug("unlocked from the session cache")
                        return Vault(directory: directory, header: header, keys: VaultKeys(master: key), unlockedBy: .sessionCache)
                    }
                    logger.debug("the session cache holds a key that does not match this vault; ignoring it")
                } else {
                    logger.debug("no key in the session cache")
                }
            } catch {
                logger.debug("session cache unavailable: \(error)")
            }
        }

        if let slot = header.slot(of: .secretService) {
            if let keyring = sources.keyring {
                do {
                    let kek = try lookup(keyring, vaultID: header.vaultID, slotID: slot.id, sources: sources, directory: directory)
                    guard slot.matches(kek) else {
                        throw VaultError.headerAuthenticationFailed(reason: "the keyring holds a different key for this vault's keyring slot")
                    }
                    guard let key = slot.unwrap(with: kek, vaultID: header.vaultID) else {
                        throw VaultError.headerAuthenticationFailed(reason: "the keyring slot's wrapped key was modified")
                    }
                    return try opened(directory, header, key, .keyring, logger)
                } catch let error as KeyringError {
                    logger.debug("keyring slot: \(error)")
                    keyringFailure = error
                    attempts.append(UnlockAttempt(method: .keyring, reason: error.description))
                } catch let error as VaultError {
                    logger.debug("keyring slot: \(error)")
                    attempts.append(UnlockAttempt(method: .keyring, reason: error.description))
                }
            } else {
                attempts.append(UnlockAttempt(method: .keyring, reason: "not tried (--no-keyring)"))
            }
        }

        if let slot = header.slot(of: .passphrase) {
            guard let source = sources.passphrase else {
                attempts.append(UnlockAttempt(method: .passphrase, reason: "no passphrase source"))
                throw VaultError.locked(attempts: attempts)
            }
            guard let kdf = slot.kdf else { throw VaultError.malformedHeader(path: directory.headerPath, reason: "passphrase slot without kdf") }
            let tries = max(1, sources.passphraseAttempts)
            for attempt in 1...tries {
                let passphrase: SecureBytes
                do {
                    passphrase = try source()
                } catch VaultError.passphraseUnavailable(let reason) {
                    attempts.append(UnlockAttempt(method: .passphrase, reason: reason))
                    throw VaultError.locked(attempts: attempts)
                }
                logger.debug("deriving the passphrase key (Argon2id, \(kdf.memLimit / (1024 * 1024)) MiB, \(kdf.opsLimit) passes)")
                sources.deriving?(true)
                let derived = Result { try kdf.deriveKey(from: passphrase) }
                sources.deriving?(false)
                let kek = try derived.get()
                guard slot.matches(kek) else {
                    if attempt < tries { sources.wrongPassphrase?(tries - attempt); continue }
                    throw VaultError.wrongPassphrase
                }
                guard let key = slot.unwrap(with: kek, vaultID: header.vaultID) else {
                    throw VaultError.headerAuthenticationFailed(reason: "the passphrase slot's wrapped key was modified")
                }
                return try opened(directory, header, key, .passphrase, logger)
            }
        }

        // With the keyring as the only slot, its own failure is the answer (and has its own remedy).
        if let keyringFailure { throw VaultError.keyring(keyringFailure) }
        throw VaultError.locked(attempts: attempts)
    }

    /// The keyring slot's key; a locked default collection is unlocked through the desktop's own
    /// prompt (as secret-tool raises it) when `sources` allows. A dismissal or no answer in time
    /// is an error, and the unlock goes on to the passphrase slot.
    ///
    /// One prompt serves every process of the user (ten proxies that a client starts at once):
    /// whoever takes the vault's "keyring-prompt" lock raises it, the others wait for their turn
    /// and look again; one that waited raises no prompt of its own when the keyring is still
    /// locked (the prompt it waited for was dismissed or went unanswered).
    private static func lookup(_ keyring: SecretServiceKeyring, vaultID: String, slotID: String,
                               sources: UnlockSources, directory: VaultDirectory) throws -> SecureBytes {
        do {
            return try keyring.lookup(vaultID: vaultID, slotID: slotID)
        } catch {
            guard case .locked = error, let seconds = sources.keyringUnlockPrompt, sources.keyringPromptVisible?() ?? true else {
                throw error
            }
            return try directory.withExclusiveLock(named: "keyring-prompt") { waited in
                do {
                    return try keyring.lookup(vaultID: vaultID, slotID: slotID)
                } catch let error as KeyringError where error == .locked && !waited {
                    sources.promptingForKeyring?()
                    try keyring.unlockDefaultCollection(waiting: seconds)
                    return try keyring.lookup(vaultID: vaultID, slotID: slotID)
                }
            }
        }
    }

    /// Checks the unwrapped key against the header's key check before trusting it.
    private static func opened(_ directory: VaultDirectory, _ header: VaultHeader, _ key: SecureBytes,
                               _ method: UnlockMethod, _ logger: Logger) throws(VaultError) -> Vault {
        guard VaultHeader.keyCheck(for: key, vaultID: header.vaultID) == header.keyCheck else {
            throw .headerAuthenticationFailed(reason: "key_check does not match the master key (vault.json was edited)")
        }
        logger.debug("unlocked with the \(method.displayName) slot")
        return Vault(directory: directory, header: header, keys: VaultKeys(master: key), unlockedBy: method)
    }
}
