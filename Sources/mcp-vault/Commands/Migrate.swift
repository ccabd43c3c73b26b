import ArgumentParser
import ClientConfig
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
    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "migrate",
            abstract: "Seal the plaintext token files of older tools into the vault, then remove them.",
            discussion: """
                Reads $OPENCODE_CONFIG_DIR/mcp-oauth/ (else ${XDG_CONFIG_HOME:-~/.config}/opencode/mcp-oauth/), \
                the older single file …/opencode/mcp-oauth.json, and opencode's own \
                ${XDG_DATA_HOME:-~/.local/share}/opencode/mcp-auth.json, and mcp-remote's \
                $MCP_REMOTE_CONFIG_DIR (else ~/.mcp-auth)/mcp-remote-*/HASH_tokens.json, whose names are \
                matched to the server URLs in the MCP clients' configurations (see `mcp-vault setup`) \
                and in the vault. Each token is sealed, read \
                back and compared, and only then is its plaintext overwritten and removed. Malformed, \
                unreadable and linked files are never changed. A second run imports nothing; a run \
                that was killed is finished by the next. Creates the vault (as `init` would) when there is none.

                Examples:
                  mcp-vault migrate --dry-run
                  mcp-vault migrate
                  mcp-vault migrate --assign 0f1e2d3c…=https://mcp.example.com/mcp
                  mcp-vault migrate --from ~/backup/mcp-oauth --keep-plaintext
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var unlock: UnlockOptions

        @Option(help: ArgumentHelp("Import from this per-server directory or single JSON file instead of the default places.", valueName: "path"))
        var from: String?

        @Flag(help: "Print exactly what would happen and change nothing.")
        var dryRun = false

        @Flag(help: "Import, but leave every plaintext file as it is.")
        var keepPlaintext = false

        @Flag(help: "When a server is already in the vault, take the imported token even if it expires sooner.")
        var overwrite = false

        @Option(help: ArgumentHelp("Name the server of a file that has no index entry and no URL inside, or of an mcp-remote file no configuration explains: HASH=URL (or KEY=URL for an entry). Repeatable.",
                                   valueName: "name=url"))
        var assign: [String] = []

        @Option(help: ArgumentHelp("Argon2id cost if a new vault gets a passphrase slot: interactive, moderate, sensitive.", valueName: "cost"))
        var cost: PassphraseCostArgument = .moderate

        func validate() throws {
            if let from, !FileManager.default.fileExists(atPath: from) {
                throw ValidationError("--from \(from): no such file or directory")
            }
            for assignment in assign {
                guard let equals = assignment.firstIndex(of: "="), equals != assignment.startIndex else {
                    throw ValidationError("--assign takes NAME=URL, for example 0f1e…=https://mcp.example.com/mcp")
                }
                do { _ = try ServerURL(String(assignment[assignment.index(after: equals)...])) } catch {
                    throw ValidationError("--assign \(assignment): \(error)")
                }
            }
        }

        private var assignments: [String: String] {
            Dictionary(assign.map { entry in
                let equals = entry.firstIndex(of: "=")!
                let name = String(entry[..<equals])
                // File hashes are lowercase hex; a hash typed in capitals names the same file.
                let isHash = name.count == 32 && name.allSatisfy(\.isHexDigit)
                return (isHash ? name.lowercased() : name, String(entry[entry.index(after: equals)...]))
            }, uniquingKeysWith: { $1 })
        }

        func run() throws {
            try reportingErrors {
                let files = LegacyTokenFiles(environment: global.environment)
                let survey = ClientSurvey(environment: global.environment, projectDirectory: FileManager.default.currentDirectoryPath)
                var mcpRemoteURLs = survey.mcpRemoteURLs
                let scan = from.map { LegacyScanner.scan(from: $0, assignments: assignments, mcpRemoteURLs: mcpRemoteURLs) }
                    ?? LegacyScanner.scan(files, assignments: assignments, mcpRemoteURLs: mcpRemoteURLs)
                guard !scan.items.isEmpty else {
                    if !dryRun && !keepPlaintext {
                        // An interrupted run may have removed every file but not yet their index entries.
                        for path in Set(scan.directories).flatMap(PlainFiles.finishShredding(in:)) {
                            Console.note("mcp-vault: note: finished removing \(path), left by an interrupted run")
                        }
                        for index in scan.indexes where index.readable { try? LegacyCleanup.pruneIndex(in: index.directory) }
                    }
                    for note in scan.notes { Console.note("mcp-vault: note: \(note)") }
                    Console.out("No legacy token files found (looked in \(from ?? "\(files.perServerDirectory), \(files.singleFile), \(files.opencodeAuthFile) and \(files.mcpRemoteDirectory)")).")
                    adviseSetup(survey)
                    return
                }

                guard let vault = try openOrCreateVault() else {
                    try migrate(scan, vault: nil, survey: survey)
                    return
                }
                // One migration at a time: two would race to remove the same plaintext. What
                // another run did meanwhile is seen by scanning again under the lock.
                // mcp-remote's files are matched by hashing URLs: the vault's own servers count too.
                for url in storedURLs(vault) {
                    for hash in MCPRemoteStore.hashes(serverURL: url) where mcpRemoteURLs[hash] == nil { mcpRemoteURLs[hash] = url }
                }
                try vault.directory.withExclusiveLock(named: "migrate") {
                    let current = from.map { LegacyScanner.scan(from: $0, assignments: assignments, mcpRemoteURLs: mcpRemoteURLs) }
                        ?? LegacyScanner.scan(files, assignments: assignments, mcpRemoteURLs: mcpRemoteURLs)
                    guard !current.items.isEmpty else {
                        Console.out("Nothing left to migrate: another mcp-vault migrate imported these files meanwhile.")
                        return
                    }
                    try migrate(current, vault: vault, survey: survey)
                }
            }
        }

        /// The server URLs the vault's records hold.
        private func storedURLs(_ vault: Vault) -> [String] {
            ((try? vault.records()) ?? []).compactMap { id, result in
                (try? result.get()).flatMap { try? CredentialRecord.decode($0.payload, id: id).serverURL }
            }
        }

        /// Names the clients whose configurations still reach servers by themselves.
        private func adviseSetup(_ survey: ClientSurvey) {
            let pending = survey.clientsReachingServersDirectly
            if !pending.isEmpty {
                Console.out("")
                Console.out("These clients still reach their servers by themselves (and may sign in again and keep tokens in plaintext):")
                for (client, names) in pending {
                    Console.out("  \(client.displayName): \(names.joined(separator: ", ")); run `mcp-vault setup \(client.rawValue)`")
                }
            }
            let secrets = survey.plaintextSecrets
            guard !secrets.isEmpty else { return }
            Console.out("")
            Console.out("These clients' configurations still keep API keys or tokens in plaintext (`mcp-vault doctor` says where):")
            for client in MCPClient.allCases {
                let count = secrets.filter { $0.client == client }.count
                if count > 0 { Console.out("  \(client.displayName): \(count); run `mcp-vault setup \(client.rawValue)`") }
            }
        }

        /// An `--assign NAME=URL` whose NAME is no file's hash or entry's key is a mistake worth naming.
        private func reportUnmatchedAssignments(_ scan: LegacyScan) {
            let names = Set(scan.items.map(\.origin.assignmentName))
            for name in assignments.keys.sorted() where !names.contains(name) {
                let nearest = Nearest.match(name, among: Array(names)).map { "; did you mean \($0)?" } ?? ""
                Console.note("mcp-vault: note: --assign \(name)=… matched no file or entry\(nearest)")
            }
        }

        private func migrate(_ scan: LegacyScan, vault: Vault?, survey: ClientSurvey) throws {
                reportUnmatchedAssignments(scan)
                for problem in survey.unreadable {
                    Console.note("mcp-vault: note: \(problem); the servers in it are not known to migrate (mcp-remote files of theirs need --assign)")
                }
                var options = MigrationOptions()
                options.dryRun = dryRun
                options.keepPlaintext = keepPlaintext
                options.overwrite = overwrite
                let migration = LegacyMigration(options: options, now: Int64(Date().timeIntervalSince1970))
                let showProgress = scan.items.count >= 50 && Console.isTerminal(2)
                let report = migration.run(scan, vault: vault) { done, total in
                    if showProgress && (done % 25 == 0 || done == total) { Console.progress("migrating \(done)/\(total)…") }
                }
                if showProgress { Console.progress(nil) }
                print(report)
                if let vault, !dryRun { nameImported(report, in: vault, survey: survey) }
                adviseSetup(survey)
                // Refusals are remembered: a later run that finds only these, unchanged, succeeds.
                let memory = RefusalMemory(environment: global.environment)
                let refused = Set(zip(scan.items, report.lines).compactMap { RefusalMemory.key($0, $1) })
                let onlyOldRefusals = !refused.isEmpty && report.lines.allSatisfy { line in
                    if case .failed = line.outcome { true } else { false }
                } && refused.isSubset(of: memory.load())
                if !dryRun { memory.save(refused) }
                if onlyOldRefusals {
                    Console.out("Nothing new: migrate refused \(refused.count == 1 ? "this file" : "these \(refused.count) files") before, and \(refused.count == 1 ? "it has" : "they have") not changed. "
                                + "Remove \(refused.count == 1 ? "it" : "them") once you no longer need \(refused.count == 1 ? "it" : "them") (or mend \(refused.count == 1 ? "it" : "them") and run migrate again).")
                    return
                }
                if report.failures > 0 { throw CLIError.migrationIncomplete(failed: report.failures, dryRun: dryRun) }
        }

        /// Gives each imported server the name the client configurations know it by.
        private func nameImported(_ report: LegacyMigration.Report, in vault: Vault, survey: ClientSurvey) {
            for line in report.lines {
                let url: String
                switch line.outcome {
                case .imported(let imported), .replaced(let imported, _), .alreadyInVault(let imported): url = imported
                default: continue
                }
                guard let server = try? ServerURL(url), let name = survey.name(of: server) else { continue }
                if case .named = try? ServerReference.assignName(name, to: server, in: vault) {
                    Console.out("\(server.canonical) is now called \(name) in the vault, as in the client configurations.")
                }
            }
        }

        private func openOrCreateVault() throws -> Vault? {
            let access = unlock.access(global)
            do {
                return try access.unlock(cleanUp: !dryRun)
            } catch VaultError.noVault {
                if dryRun {
                    Console.out("A new vault would be created at \(global.vaultPath).")
                    return nil
                }
                return try VaultCreation.createOnFirstUse(global: global, unlock: unlock, cost: cost.cost)
            }
        }

        private func print(_ report: LegacyMigration.Report) {
            var counts: [String: Int] = [:]
            for line in report.lines {
                let (verb, text) = describe(line.outcome, origin: line.origin)
                counts[verb, default: 0] += 1
                Console.out(verb.padding(16) + text)
                if let failure = line.cleanupFailure {
                    Console.out(String(repeating: " ", count: 16) + "sealed, but its plaintext was not removed: \(failure)")
                }
                if let advice = line.advice { Console.out(String(repeating: " ", count: 16) + advice) }
            }
            for note in report.notes { Console.note("mcp-vault: note: \(note)") }
            let order = dryRun ? ["would import", "would replace", "would finish", "would keep", "skipped", "failed"]
                               : ["imported", "replaced", "finished", "kept", "skipped", "failed"]
            let summary = order.compactMap { verb in counts[verb].map { "\($0) \(verb)" } }.joined(separator: ", ")
            Console.out("\(summary)." + (dryRun ? " Nothing was changed (dry run)." : ""))
        }

        private func describe(_ outcome: MigrationLine.Outcome, origin: LegacyOrigin) -> (String, String) {
            let prefix = dryRun ? "would " : ""
            switch outcome {
            case .imported(let url):
                return (prefix + "import" + (dryRun ? "" : "ed"), "\(url)  from \(origin)")
            case .replaced(let url, let forced):
                return (prefix + "replace" + (dryRun ? "" : "d"),
                        "\(url)  from \(origin) (" + (forced ? "--overwrite" : "it expires later than the vault's token") + ")")
            case .alreadyInVault(let url):
                return (prefix + "finish" + (dryRun ? "" : "ed"), "\(url)  from \(origin) (already sealed by an earlier run; only the plaintext remained)")
            case .keptVault(let url):
                return (dryRun ? "would keep" : "kept",
                        "\(url)  the vault's token was kept, as the imported one does not expire later; \(origin) is left as it is (--overwrite imports it)")
            case .skipped(let reason):
                return ("skipped", "\(origin): \(reason)")
            case .failed(let reason):
                return ("failed", "\(origin): \(reason)")
            }
        }
    }
}
