import Vault
import Credentials

/// Creating a vault the way `init` does; `migrate` does the same when there is no vault yet.
public enum VaultCreation {
    /// A keyring slot when the keyring works (required with `keyring == true`, skipped with
    /// `false`), plus a passphrase slot when asked for, when a passphrase was given, or when there
    /// is no keyring.
    public static func create(at path: String, global: GlobalOptions, keyring preference: Bool?, wantsPassphrase: Bool,
                       passphrase source: PassphraseSource, cost: PassphraseCost) throws -> Vault {
        let directory = try VaultDirectory.open(at: path, create: true)
        if try directory.hasHeader() { throw VaultError.alreadyExists(path: directory.path) }

        var keyring: SecretServiceKeyring?
        var keyringNote: String?
        if preference != false {
            do throws(KeyringError) {
                try global.keyring.probe()
                keyring = global.keyring
            } catch {
                if preference == true { throw CLIError.keyringRequired(error) }
                keyringNote = "the keyring is not used: \(error)"
                global.logger.debug("keyring probe: \(error)")
            }
        }

        var passphrase: SecureBytes?
        if wantsPassphrase || keyring == nil || source.isGiven {
            if let keyringNote { Console.note(keyringNote + "; the vault gets a passphrase slot") }
            do {
                passphrase = try source.readNew(prompt: "New vault passphrase: ")
            } catch VaultError.passphraseUnavailable(let reason) {
                // There is no vault yet, so nothing to unlock: say how to give the new passphrase.
                throw CLIError.noNewPassphrase(reason: reason)
            }
            Console.note("Deriving the passphrase key (Argon2id, \(cost.rawValue) cost)…")
        }
        let vault = try Vault.create(in: directory, keyring: keyring, passphrase: passphrase, cost: cost)
        try? directory.setMarker(RecordNames.marker)  // a new vault has no record named by older rules
        return vault
    }

    /// For commands that store the first credentials (`login`, `migrate`): a new vault, created
    /// as `init` would with no options, after saying so.
    public static func createOnFirstUse(global: GlobalOptions, unlock: UnlockOptions, cost: PassphraseCost = .default) throws -> Vault {
        Console.note("There is no vault at \(global.vaultPath) yet; creating one.")
        return try create(at: global.vaultPath, global: global, keyring: unlock.noKeyring ? false : nil, wantsPassphrase: false,
                          passphrase: unlock.passphraseSource, cost: cost)
    }
}
