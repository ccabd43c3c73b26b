import ArgumentParser
import Credentials
import Vault

extension MCPVault {
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a new vault.",
            discussion: """
                The vault key goes into the desktop keyring when a Secret Service is reachable and \
                unlocked. A passphrase slot is added with --passphrase, and always when there is no \
                keyring. An existing vault is never overwritten.

                Examples:
                  mcp-vault init                                  # keyring, or passphrase if none
                  mcp-vault init --passphrase                     # keyring and a fallback passphrase
                  mcp-vault init --no-keyring --passphrase-file ~/.vault-pass
                """)

        @OptionGroup var global: GlobalOptions

        @Flag(inversion: .prefixedNo, help: ArgumentHelp(
            "Require (--keyring) or skip (--no-keyring) the keyring slot. Default: use the keyring when it works."))
        var keyring: Bool?

        @Flag(name: .customLong("passphrase"), help: "Add a passphrase slot, asked for twice on the terminal unless given by file, descriptor or MCP_VAULT_PASSPHRASE.")
        var wantsPassphrase = false

        @Option(name: .customLong("passphrase-file"), help: ArgumentHelp("Read the new passphrase from the first line of this file.", valueName: "file"))
        var passphraseFile: String?

        @Option(name: .customLong("passphrase-fd"), help: ArgumentHelp("Read the new passphrase from this open file descriptor.", valueName: "n"))
        var passphraseDescriptor: Int32?

        @Option(help: ArgumentHelp("Argon2id cost: interactive (64 MiB), moderate (256 MiB, default), sensitive (1 GiB).", valueName: "cost"))
        var cost: PassphraseCostArgument = .moderate

        func validate() throws {
            if passphraseFile != nil && passphraseDescriptor != nil {
                throw ValidationError("Give --passphrase-file or --passphrase-fd, not both.")
            }
        }

        func run() async throws {
            try reportingErrors {
                let logger = global.logger
                let directory = try VaultDirectory.open(at: global.vaultPath, create: true)
                if try directory.hasHeader() { throw VaultError.alreadyExists(path: directory.path) }

                var keyringToUse: SecretServiceKeyring?
                var keyringNote: String?
                if keyring != false {
                    do throws(KeyringError) {
                        try global.keyring.probe()
                        keyringToUse = global.keyring
                    } catch {
                        if keyring == true { throw CLIError.keyringRequired(error) }
                        keyringNote = "the keyring is not used: \(error)"
                        logger.debug("keyring probe: \(error)")
                    }
                }

                var passphrase: SecureBytes?
                let givenPassphrase = passphraseFile != nil || passphraseDescriptor != nil || EnvironmentSecrets.passphrase != nil
                if wantsPassphrase || keyringToUse == nil || givenPassphrase {
                    if let keyringNote { Console.note(keyringNote + "; the vault gets a passphrase slot") }
                    let source = PassphraseSource(file: passphraseFile, descriptor: passphraseDescriptor,
                                                  environment: EnvironmentSecrets.passphrase,
                                                  environmentName: EnvironmentSecrets.passphraseVariable)
                    passphrase = try source.readNew(prompt: "New vault passphrase: ")
                }

                if passphrase != nil { Console.note("Deriving the passphrase key (Argon2id, \(cost.rawValue) cost)…") }
                let vault = try Vault.create(in: directory, keyring: keyringToUse, passphrase: passphrase, cost: cost.cost)
                let names = vault.header.slots.map(\.type.displayName)
                let slots = names.count == 1 ? "a \(names[0]) slot" : names.joined(separator: " and ") + " slots"
                Console.out("Created the vault at \(directory.path) with \(slots).")
                if keyringToUse == nil {
                    Console.out("Commands will ask for the passphrase; `mcp-vault unlock` caches the key for a while.")
                }
            }
        }
    }
}
