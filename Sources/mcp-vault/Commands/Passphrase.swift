import ArgumentParser
import CommandSupport
import Credentials
import Vault

extension MCPVault {
    struct Passphrase: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "passphrase",
            abstract: "Add, change or remove the vault's passphrase slot.",
            discussion: """
                The passphrase slot unlocks the vault where there is no desktop keyring (SSH, \
                containers, CI) and is the fallback when the keyring breaks. Records are not \
                re-encrypted; only the slot changes.

                Examples:
                  mcp-vault passphrase add
                  mcp-vault passphrase change --cost sensitive
                  mcp-vault passphrase remove
                """,
            subcommands: [Add.self, Change.self, Remove.self])

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "add",
                abstract: "Add a passphrase slot (the vault is unlocked first, for example through the keyring).",
                discussion: "Example:\n  mcp-vault passphrase add --cost moderate")
            @OptionGroup var global: GlobalOptions
            @OptionGroup var unlock: UnlockOptions
            @OptionGroup var new: NewPassphraseOptions

            func run() throws {
                try reportingErrors {
                    let vault = try unlock.access(global).unlock()
                    let passphrase = try new.source.readNew(prompt: "New vault passphrase: ")
                    _ = try vault.addPassphraseSlot(passphrase, cost: new.cost.cost)
                    Console.out("Added a passphrase slot (\(new.cost.rawValue) cost).")
                }
            }
        }

        struct Change: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "change",
                abstract: "Replace the passphrase (or its cost) with a new one.",
                discussion: "The vault is unlocked first as any command unlocks it (session cache, keyring, or the current passphrase).\n\nExample:\n  mcp-vault passphrase change --new-passphrase-file new.txt")
            @OptionGroup var global: GlobalOptions
            @OptionGroup var unlock: UnlockOptions
            @OptionGroup var new: NewPassphraseOptions

            func run() throws {
                try reportingErrors {
                    let vault = try unlock.access(global).unlock()
                    guard vault.header.slot(of: .passphrase) != nil else { throw VaultError.noSuchSlot(.passphrase) }
                    let passphrase = try new.source.readNew(prompt: "New vault passphrase: ")
                    _ = try vault.changePassphrase(passphrase, cost: new.cost.cost)
                    Console.out("Changed the passphrase (\(new.cost.rawValue) cost).")
                }
            }
        }

        struct Remove: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "remove",
                abstract: "Remove the passphrase slot (refused when it is the only slot).",
                discussion: "Example:\n  mcp-vault passphrase remove")
            @OptionGroup var global: GlobalOptions
            @OptionGroup var unlock: UnlockOptions

            func run() throws {
                try reportingErrors {
                    let vault = try unlock.access(global).unlock()
                    _ = try vault.removeSlot(.passphrase, keyring: nil)
                    Console.out("Removed the passphrase slot.")
                }
            }
        }
    }

    struct Keyring: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "keyring",
            abstract: "Add or remove the vault's keyring (Secret Service) slot.",
            discussion: """
                The keyring slot keeps a random key in your desktop keyring's default collection, so \
                the vault opens without a passphrase while you are logged in.

                Examples:
                  mcp-vault keyring add --passphrase-file ~/.vault-pass
                  mcp-vault keyring remove
                """,
            subcommands: [Add.self, Remove.self])

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "add",
                abstract: "Store a new key in the keyring and add a slot for it.",
                discussion: "Example:\n  mcp-vault keyring add")
            @OptionGroup var global: GlobalOptions
            @OptionGroup var unlock: UnlockOptions

            func run() throws {
                try reportingErrors {
                    let vault = try unlock.access(global).unlock()
                    if vault.header.slot(of: .secretService) != nil { throw VaultError.slotExists(.secretService) }
                    do throws(KeyringError) { try global.keyring.probe() } catch { throw CLIError.keyringRequired(error) }
                    _ = try vault.addKeyringSlot(global.keyring)
                    Console.out("Added a keyring slot; the vault now opens through the desktop keyring.")
                }
            }
        }

        struct Remove: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "remove",
                abstract: "Remove the keyring slot and its key (refused when it is the only slot).",
                discussion: "Example:\n  mcp-vault keyring remove")
            @OptionGroup var global: GlobalOptions
            @OptionGroup var unlock: UnlockOptions

            func run() throws {
                try reportingErrors {
                    let vault = try unlock.access(global).unlock()
                    let (_, cleanup) = try vault.removeSlot(.secretService, keyring: global.keyring)
                    Console.out("Removed the keyring slot.")
                    if let cleanup {
                        Console.note("mcp-vault: warning: the key could not be deleted from the keyring (\(cleanup)); it no longer opens anything, and can be deleted in Seahorse.")
                    }
                }
            }
        }
    }
}
