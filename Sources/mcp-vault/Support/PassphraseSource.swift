import Vault

/// Where one passphrase comes from: a file, a descriptor, an opt-in environment variable or the
/// terminal, in that order. Never argv.
struct PassphraseSource: Sendable {
    var file: String?
    var descriptor: Int32?
    var environment: SecureBytes?
    var environmentName: String

    /// Whether a passphrase was given other than by the terminal.
    var isGiven: Bool { file != nil || descriptor != nil || environment != nil }

    func read(prompt: String) throws -> SecureBytes {
        if let file { return try PassphraseInput.read(file: file) }
        if let descriptor { return try PassphraseInput.read(descriptor: descriptor) }
        if let environment {
            guard environment.count > 0 else { throw VaultError.emptyPassphrase }
            return environment
        }
        guard PassphraseInput.canPrompt else {
            throw VaultError.passphraseUnavailable(
                reason: "standard input is not a terminal, and neither --passphrase-file, --passphrase-fd nor \(environmentName) was given")
        }
        return try PassphraseInput.prompt(prompt)
    }

    /// A new passphrase; typed twice when it comes from the terminal.
    func readNew(prompt: String) throws -> SecureBytes {
        let interactive = !isGiven
        let passphrase = try read(prompt: prompt)
        guard passphrase.count > 0 else { throw VaultError.emptyPassphrase }
        if interactive {
            let again = try PassphraseInput.prompt("Repeat it: ")
            guard again.constantTimeEquals(passphrase) else { throw CLIError.passphrasesDiffer }
        }
        return passphrase
    }
}

/// Secrets taken out of the environment at start-up, before anything could inherit them.
enum EnvironmentSecrets {
    static let passphraseVariable = "MCP_VAULT_PASSPHRASE"
    static let newPassphraseVariable = "MCP_VAULT_NEW_PASSPHRASE"

    static let passphrase: SecureBytes? = PassphraseInput.takeFromEnvironment(passphraseVariable)
    static let newPassphrase: SecureBytes? = PassphraseInput.takeFromEnvironment(newPassphraseVariable)

    /// Reads both variables now and removes them from the process environment.
    static func capture() {
        _ = passphrase
        _ = newPassphrase
    }
}
