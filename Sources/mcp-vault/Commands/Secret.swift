import ArgumentParser
import CommandSupport
import Credentials
import Vault
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension MCPVault {
    struct Secret: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "secret",
            abstract: "Keep API keys and other secrets that are not OAuth tokens in the vault.",
            discussion: """
                A secret is sealed as a record of its own; its name does not show on disk. Local \
                servers get secrets in their environment through `mcp-vault run --env VAR=NAME -- \
                COMMAND`, remote ones in a header through `mcp-vault proxy URL --header \
                'Name: {secret:NAME}'`; `mcp-vault setup CLIENT` moves the secrets of a client's \
                configuration here and writes those commands in their place.

                Names: 1 to 128 letters, digits, '.', '_', '-' or '/' (setup names them ENTRY/VARIABLE).

                Examples:
                  mcp-vault secret set github/GITHUB_PERSONAL_ACCESS_TOKEN
                  printf %s "$KEY" | mcp-vault secret set brave/BRAVE_API_KEY
                  mcp-vault secret set db/DATABASE_URL --from-file /run/secrets/db-url
                  mcp-vault secret list
                  mcp-vault secret remove brave/BRAVE_API_KEY
                """,
            subcommands: [Store.self, List.self, Remove.self])

        struct Store: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "set",
                abstract: "Store a secret (replacing its value if it exists).",
                discussion: """
                    The value is read from --from-file, else from standard input when it is not a \
                    terminal (to its end), else at a prompt with echo off; never from the command line. \
                    One final newline is not part of the value.
                    """)
            @OptionGroup var global: GlobalOptions
            @OptionGroup var unlock: UnlockOptions

            @Argument(help: ArgumentHelp("The secret's name.", valueName: "name"))
            var name: String

            @Option(name: .customLong("from-file"), help: ArgumentHelp("Read the value from this file (only read; remove it yourself).", valueName: "file"))
            var file: String?

            func validate() throws {
                do { try SecretRecord.validate(name) } catch { throw ValidationError(error.description) }
            }

            func run() throws {
                try reportingErrors {
                    // The value first: a prompt for it comes before any passphrase prompt would.
                    let value = try file.map(SecretInput.read(file:))
                        ?? (Console.isTerminal(0) ? SecretInput.prompt("Value of \(name): ") : SecretInput.readStandardInput())
                    defer { value.wipe() }
                    let vault: Vault
                    do {
                        vault = try unlock.access(global).unlock()
                    } catch VaultError.noVault {
                        vault = try VaultCreation.createOnFirstUse(global: global, unlock: unlock)
                    }
                    let replaced = try StoredRecord.storeSecret(name, value: value.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }, in: vault)
                    Console.out(replaced ? "Replaced the value of the secret \(name)." : "Stored the secret \(name).")
                }
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "list",
                abstract: "List the secrets' names and dates, never their values.")
            @OptionGroup var global: GlobalOptions
            @OptionGroup var unlock: UnlockOptions

            @Flag(help: "Print JSON instead of text.")
            var json = false

            func run() throws {
                try reportingErrors {
                    let secrets = try StoredRecord.secrets(in: try unlock.access(global).unlock())
                    if json {
                        struct Entry: Encodable {
                            let name: String
                            let createdAt: Int64
                            let updatedAt: Int64
                            enum CodingKeys: String, CodingKey { case name, createdAt = "created_at", updatedAt = "updated_at" }
                        }
                        let encoder = JSONEncoder()
                        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                        let entries = secrets.map { Entry(name: $0.name, createdAt: $0.createdAt, updatedAt: $0.updatedAt) }
                        Console.out(String(decoding: (try? encoder.encode(entries)) ?? Data(), as: UTF8.self))
                        return
                    }
                    guard !secrets.isEmpty else {
                        Console.out("No secrets stored (`mcp-vault secret set NAME` stores one; `mcp-vault setup CLIENT` moves a client's).")
                        return
                    }
                    let width = secrets.map(\.name.count).max() ?? 0
                    for secret in secrets {
                        let padding = String(repeating: " ", count: width - secret.name.count)
                        Console.out("\(secret.name)\(padding)  set \(Self.date(secret.updatedAt))")
                    }
                }
            }

            /// `2026-12-07 18:30 UTC`.
            static func date(_ seconds: Int64) -> String {
                let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
                let time = seconds - days * 86400
                // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
                let z = days + 719_468
                let era = (z >= 0 ? z : z - 146_096) / 146_097
                let dayOfEra = z - era * 146_097
                let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
                let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
                let monthIndex = (5 * dayOfYear + 2) / 153
                let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
                let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
                let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
                func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
                return "\(year)-\(two(month))-\(two(day)) \(two(time / 3600)):\(two(time % 3600 / 60)) UTC"
            }
        }

        struct Remove: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "remove",
                abstract: "Remove a secret from the vault.",
                discussion: "An entry that still names it (`run --env`, `{secret:NAME}`) fails at its next start with an error naming it.")
            @OptionGroup var global: GlobalOptions
            @OptionGroup var unlock: UnlockOptions

            @Argument(help: ArgumentHelp("The secret's name.", valueName: "name"))
            var name: String

            func validate() throws {
                do { try SecretRecord.validate(name) } catch { throw ValidationError(error.description) }
            }

            func run() throws {
                try reportingErrors {
                    let vault = try unlock.access(global).unlock()
                    _ = try StoredRecord.secret(name, in: vault)  // a clear error, with a "did you mean", when there is none
                    try vault.delete(SecretRecord.recordName(name))
                    Console.out("Removed the secret \(name).")
                }
            }
        }
    }
}
