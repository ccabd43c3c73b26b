import ArgumentParser
import CommandSupport
import Credentials
import Vault

extension MCPVault {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Create a new vault.",
            discussion: """
                The vault key goes into the desktop keyring when a Secret Service is reachable and \
                unlocked. A passphrase slot is added with --passphrase, and always when there is no \
                keyring. An existing vault is never overwritten.

                Examples:
                  mcp-vault init                # the keyring, or a passphrase if none
                  mcp-vault init --passphrase   # the keyring and a passphrase
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

        func run() throws {
            try reportingErrors {
                let source = PassphraseSource(file: passphraseFile, descriptor: passphraseDescriptor,
                                              environment: EnvironmentSecrets.passphrase,
                                              environmentName: EnvironmentSecrets.passphraseVariable)
                let vault = try VaultCreation.create(at: global.vaultPath, global: global, keyring: keyring,
                                                     wantsPassphrase: wantsPassphrase, passphrase: source, cost: cost.cost)
                let directory = vault.directory
                let names = vault.header.slots.map(\.type.displayName)
                let slots = names.count == 1 ? "a \(names[0]) slot" : names.joined(separator: " and ") + " slots"
                Console.out("Created the vault at \(directory.path) with \(slots).")
                if vault.header.slot(of: .secretService) == nil {
                    Console.out("Commands will ask for the passphrase; `mcp-vault unlock` caches the key for a while.")
                }
            }
        }
    }
}
