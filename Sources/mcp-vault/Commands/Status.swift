import ArgumentParser
import CommandSupport
import Credentials
import LegacyImport
import Vault
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension MCPVault {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Show what the vault holds, never the secrets.",
            discussion: """
                For each stored server: URL, account (when not the default one), issuer, client id, \
                granted scopes and whether the access token is valid, expires soon or has expired; \
                which slot unlocked the vault; and how many secrets (`mcp-vault secret list` names them).

                Examples:
                  mcp-vault status
                  mcp-vault status https://mcp.example.com/mcp
                  mcp-vault status https://mcp.example.com/mcp --account work
                  mcp-vault status --json | jq '.records[].state'
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var unlock: UnlockOptions

        @Argument(help: ArgumentHelp("Show only this server (its URL or its name).", valueName: "server"), completion: ServerCompletion.kind)
        var serverURL: String?

        @Option(help: ArgumentHelp("With a server URL: show this account of it (`login --account`).", valueName: "name"))
        var account: String?

        @Flag(help: "Print JSON instead of text.")
        var json = false

        func validate() throws {
            if account != nil && serverURL == nil { throw ValidationError("--account goes with a server URL") }
            do { _ = try ServerURL.account(account) } catch { throw ValidationError("--account: \(error)") }
            if let serverURL {
                do { try ServerReference.validate(serverURL) } catch { throw ValidationError(error.description) }
            }
        }

        func run() throws {
            try reportingErrors {
                let access = unlock.access(global)
                let directory = try access.openDirectory()
                let vault: Vault
                do {
                    vault = try VaultUnlocker.unlock(directory, sources: access.sources, logger: access.logger)
                } catch let error as VaultError {
                    switch error {
                    case .locked, .passphraseUnavailable, .keyring:
                        let count = try directory.recordIDs().count
                        Console.note("The vault at \(directory.path) is locked; it holds \(count) record\(count == 1 ? "" : "s").")
                    default: break
                    }
                    throw error
                }
                let now = Int64(Date().timeIntervalSince1970)
                var summaries: [CredentialSummary] = []
                var unreadable: [(id: String, error: String)] = []
                if let serverURL {
                    let server = try ServerReference.resolve(serverURL, account: account, in: vault)
                    guard let record = try VaultAccess.credential(for: server, in: vault) else {
                        throw CredentialsError.noCredential(server: server.commandReference, closest: ServerReference.closest(to: serverURL, in: vault))
                    }
                    summaries.append(CredentialSummary(record, now: now))
                } else {
                    for (id, result) in try StoredRecord.credentials(in: vault) {
                        do {
                            summaries.append(CredentialSummary(try result.get(), now: now))
                        } catch let error as VaultError {
                            unreadable.append((id, error.description + (error.hint.map { " (\($0))" } ?? "")))
                        } catch {
                            unreadable.append((id, "\(error)"))
                        }
                    }
                }
                let legacy = LegacyTokenFiles(environment: global.environment).present()
                summaries.sort { ($0.serverURL, $0.account ?? "") < ($1.serverURL, $1.account ?? "") }
                let secrets = serverURL == nil ? try StoredRecord.secrets(in: vault).count : 0
                unreadable.sort { $0.id < $1.id }
                if json {
                    printJSON(vault: vault, summaries: summaries, unreadable: unreadable, legacy: legacy, secrets: secrets)
                } else {
                    printText(vault: vault, summaries: summaries, unreadable: unreadable, legacy: legacy, secrets: secrets)
                }
                if !unreadable.isEmpty { throw CLIError.statusIncomplete(unreadable: unreadable.count) }
            }
        }

        private func printText(vault: Vault, summaries: [CredentialSummary], unreadable: [(id: String, error: String)], legacy: [String],
                               secrets: Int) {
            Console.out("Vault: \(vault.directory.path) (unlocked with the \(vault.unlockedBy.displayName))")
            if summaries.isEmpty && unreadable.isEmpty {
                Console.out("No servers stored yet.")
            }
            for summary in summaries {
                Console.out("")
                Console.out(summary.serverURL)
                if let account = summary.account { Console.out("  account    \(account)") }
                if let name = summary.name { Console.out("  name       \(name)") }
                Console.out("  issuer     \(summary.issuer ?? "-")")
                if summary.grant != "refresh token" { Console.out("  grant      \(summary.grant)\(summary.dpopBound ? ", tokens bound to a DPoP key" : "")") }
                Console.out("  client id  \(summary.clientID ?? "-")")
                Console.out("  scopes     \(summary.scopes.isEmpty ? "-" : summary.scopes.joined(separator: " "))")
                Console.out("  token      \(summary.expiryText)\(summary.needsLogin ? "; needs login" : "")")
                Console.out("  refresh    " + (summary.needsLogin ? "refused by the server; run `mcp-vault login \(summary.commandReference)`"
                    : summary.canRefresh ? "possible" + (summary.discoversEndpoints ? " (endpoints found on first use)" : "")
                        + (summary.refreshExpiresAt.map { ", refresh token expires \(summary.relative($0))" } ?? "")
                    : summary.refreshExpiresAt.map { "not possible (the refresh token expired \(summary.relative($0))); run `mcp-vault login \(summary.commandReference)`" }
                        ?? "not possible (no refresh token)"))
            }
            if secrets > 0 {
                Console.out("")
                Console.out("Secrets: \(secrets) (`mcp-vault secret list` names them)")
            }
            for entry in unreadable {
                Console.note("mcp-vault: record \(entry.id) cannot be read: \(entry.error)")
            }
            for file in (try? vault.directory.supersededRecords()) ?? [] {
                Console.note("mcp-vault: note: \(file) was set aside by an upgrade (the older of two records that came to name one server); `mcp-vault doctor` says what to do")
            }
            if !legacy.isEmpty {
                Console.note("mcp-vault: note: \(legacy.count) plaintext token file(s) from older tools remain (for example \(legacy[0])); `mcp-vault migrate` seals them.")
            }
        }

        private func printJSON(vault: Vault, summaries: [CredentialSummary], unreadable: [(id: String, error: String)], legacy: [String],
                               secrets: Int) {
            struct Unreadable: Encodable { let id: String; let error: String }
            struct Report: Encodable {
                /// Raised when a member changes meaning or goes; new members may appear without it.
                let schemaVersion = 1
                let vault: String
                let unlockedBy: String
                let records: [CredentialSummary]
                let unreadable: [Unreadable]
                let legacyFiles: [String]
                let secrets: Int
                /// Record files an upgrade set aside (SECURITY.md).
                let setAside: [String]
                enum CodingKeys: String, CodingKey {
                    case schemaVersion = "schema_version", vault, unlockedBy = "unlocked_by", records, unreadable, legacyFiles = "legacy_files", secrets
                    case setAside = "set_aside"
                }
            }
            let report = Report(vault: vault.directory.path, unlockedBy: vault.unlockedBy.rawValue, records: summaries,
                                unreadable: unreadable.map { Unreadable(id: $0.id, error: $0.error) }, legacyFiles: legacy,
                                secrets: secrets, setAside: (try? vault.directory.supersededRecords()) ?? [])
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            Console.out(String(decoding: (try? encoder.encode(report)) ?? Data(), as: UTF8.self))
        }
    }
}
