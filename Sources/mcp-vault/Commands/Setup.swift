import ArgumentParser
import ClientConfig
import CommandSupport
import Credentials
import Processes
import Vault
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension MCPClient: ExpressibleByArgument {}

extension MCPVault {
    struct Setup: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "setup",
            abstract: "Point an MCP client's servers at mcp-vault, so that its configuration keeps no token or key.",
            discussion: """
                Finds the client's configuration files (global, and the project's in the current \
                directory or --project), and rewrites each remote server entry whose server the vault \
                holds: to a local entry that runs `mcp-vault proxy URL`, or for Claude Code's HTTP \
                entries, to a headers helper that runs `mcp-vault token URL --format json`. Entries \
                that run mcp-remote are rewritten the same way. Names and every other setting stay; \
                a static Authorization header goes. The old file is kept beside the new one as \
                FILE.before-mcp-vault (mode 0600). An entry with comments inside, or a file that is \
                not JSON, is left alone and the entry to paste is printed. A second run changes nothing.

                Secrets move into the vault too: every value of an entry's env (opencode: environment) \
                or headers whose name or shape says secret (TOKEN, KEY, SECRET, PASSWORD, AUTH, \
                CREDENTIAL; ghp_, sk-, xoxb-, glpat-, JWTs, URLs with a password) is sealed as \
                ENTRY/VARIABLE, and the entry runs `mcp-vault run --env VAR=ENTRY/VAR -- its command` \
                (a remote entry: `mcp-vault proxy` with {secret:…} headers). Values that reference \
                the environment (${VAR}, {env:VAR}) stay. `mcp-vault secret list` shows the names.

                Clients: \(MCPClient.allCases.map(\.rawValue).joined(separator: ", ")). Without one, \
                lists the clients found and the remote servers each reaches.

                Examples:
                  mcp-vault setup
                  mcp-vault setup cursor --dry-run
                  mcp-vault setup claude-desktop
                  mcp-vault setup opencode --login --project ~/src/app
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var unlock: UnlockOptions

        @Argument(help: ArgumentHelp("The client: \(MCPClient.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "client"))
        var client: MCPClient?

        @Option(help: ArgumentHelp("The project whose configuration files are read too (default: the current directory).", valueName: "dir"))
        var project: String?

        @Flag(help: "Print the change as a diff and write nothing.")
        var dryRun = false

        @Flag(help: "Sign in first (`mcp-vault login URL --name NAME`) to each remote server the vault does not hold yet.")
        var login = false

        @Option(help: ArgumentHelp("The mcp-vault command the client runs (default: `mcp-vault` when that is this program in /usr/local/bin, /usr/bin or /bin, where a client started from a desktop menu finds it, else this program's full path).",
                                   valueName: "path"))
        var command: String?

        func validate() throws {
            if let project, !FileManager.default.fileExists(atPath: project) {
                throw ValidationError("--project \(project): no such directory")
            }
        }

        private var projectDirectory: String {
            let directory = project ?? FileManager.default.currentDirectoryPath
            let absolute = directory.hasPrefix("/") ? directory : FileManager.default.currentDirectoryPath + "/" + directory
            // Claude Code keys its per-project servers by the plain path of the directory.
            return URL(fileURLWithPath: absolute).resolvingSymlinksInPath().path
        }

        func run() throws {
            try reportingErrors {
                guard let client else {
                    let vault = try? unlock.access(global).unlock()
                    for line in ClientSurvey(environment: global.environment, projectDirectory: projectDirectory).describe(vault: vault) {
                        Console.out(line)
                    }
                    return
                }
                try setUp(client)
            }
        }

        private func setUp(_ client: MCPClient) throws {
            let environment = global.environment
            let results = ConfigFile.files(of: client, environment: environment, projectDirectory: projectDirectory)
            let skills = client == .ohMyOpencode ? OhMyOpencode.skillFiles(environment: environment, projectDirectory: projectDirectory)
                .map { $0.mapError { $0 as any Error } } : []
            let codexFiles: [Result<CodexConfig, any Error>] = client == .codex
                ? CodexConfig.paths(environment: environment, projectDirectory: projectDirectory).compactMap { path in
                    do { return try CodexConfig.read(path).map { .success($0) } } catch { return .failure(error) }
                } : []
            let gooseFiles: [Result<SkillFile, any Error>] = client == .goose
                ? [SkillFile.Dialect.goosePath(environment: environment)].compactMap { path in
                    do { return try SkillFile.read(path, dialect: .goose).map { .success($0) } } catch { return .failure(error) }
                } : []
            let continueFiles: [Result<ContinueConfig, any Error>] = client == .continueDev
                ? ContinueConfig.paths(environment: environment, projectDirectory: projectDirectory).compactMap { path in
                    do { return try ContinueConfig.read(path).map { .success($0) } } catch { return .failure(error) }
                } : []
            guard !results.isEmpty || !skills.isEmpty || !codexFiles.isEmpty || !gooseFiles.isEmpty || !continueFiles.isEmpty else {
                var places: [String] = []
                for location in client.locations(environment: environment, projectDirectory: projectDirectory) where !places.contains(location.path) {
                    places.append(location.path)
                }
                if client == .codex { places += CodexConfig.paths(environment: environment, projectDirectory: projectDirectory) }
                if client == .goose { places.append(SkillFile.Dialect.goosePath(environment: environment)) }
                if client == .continueDev { places += ContinueConfig.paths(environment: environment, projectDirectory: projectDirectory) }
                throw SetupError.noConfiguration(client, looked: places)
            }
            var vault = try openVault()
            let command = self.command ?? Self.defaultCommand()
            var tally = Tally()
            // oh-my-opencode reads Claude Code's files too, and cannot use a headers helper.
            let proxyForClaudeCode = client == .claudeCode && OhMyOpencode.isInstalled(environment: environment, projectDirectory: projectDirectory)
            if proxyForClaudeCode {
                Console.out("oh-my-opencode is installed and reads these files too; it cannot run a headersHelper, so HTTP entries run "
                            + "`mcp-vault proxy` instead (Claude Code runs it as well).")
            }
            for result in results {
                let file: ConfigFile
                switch result {
                case .failure(let error):
                    Console.out("\(error)")
                    tally.problems += 1
                    continue
                case .success(let read):
                    file = read
                }
                Console.out(file.path + ":")
                for problem in file.problems {
                    Console.out("  \(problem)")
                    tally.problems += 1
                }
                let plan = try entriesToRewrite(in: file, vault: &vault, tally: &tally)
                guard !plan.isEmpty else { continue }
                try rewrite(file, plan: plan, command: command, vault: &vault, proxyForClaudeCode: proxyForClaudeCode, tally: &tally)
            }
            try setUpLines(skills, vault: &vault, command: command, tally: &tally)
            try setUpLines(codexFiles, vault: &vault, command: command, tally: &tally)
            try setUpLines(gooseFiles, vault: &vault, command: command, tally: &tally)
            try setUpLines(continueFiles, vault: &vault, command: command, tally: &tally)
            if tally.written > 0 {
                Console.out("Restart \(client.displayName) (or reload its MCP servers) to use the new entries.")
            } else if !dryRun && tally.problems == 0 {
                Console.out(tally.remoteSeen ? "Nothing was changed."
                            : tally.vaultSeen ? "Nothing to change: every remote server of \(client.displayName) gets its token from mcp-vault."
                            : "\(client.displayName) reaches no remote MCP server in these files; nothing to change.")
            } else if dryRun {
                Console.out("Nothing was changed (dry run).")
            }
            if tally.problems > 0 { throw SetupError.incomplete(tally.problems) }
        }

        /// What one client's files amounted to.
        struct Tally {
            var problems = 0
            var written = 0
            var remoteSeen = false
            var vaultSeen = false
            /// Secret names given in this run, with their values: one name never gets two values.
            var secretNames: [String: String] = [:]
            var secretsMoved = 0
        }

        /// What `setup` does to one file.
        struct Plan {
            /// Remote entries to rewrite, their headers' secrets as `{secret:NAME}`.
            var remote: [ServerEntry] = []
            /// Local entries whose environment's secrets move.
            var local: [LocalSecretMove] = []
            /// The secrets to seal before the file is written: (name, value), and the entry (the
            /// start of its member) whose rewrite moves each.
            var seal: [(name: String, value: String, entry: Int)] = []

            var isEmpty: Bool { remote.isEmpty && local.isEmpty }
        }

        /// The entries of `file` to rewrite: remote ones whose server the vault holds (after signing
        /// in, with --login) or whose headers hold a static key, and every entry that keeps a
        /// secret in its environment or headers; says why each other entry is left alone. `vault`
        /// is opened by a first login.
        private func entriesToRewrite(in file: ConfigFile, vault: inout Vault?, tally: inout Tally) throws -> Plan {
            var plan = Plan()
            for entry in file.entries {
                switch entry.kind {
                case .other:
                    let secrets = entry.plaintextSecrets.filter { $0.kind == .environment }
                    guard !secrets.isEmpty, entry.localServer != nil else { continue }
                    plan.local.append(LocalSecretMove(entry: entry, moves: secrets.map { ($0.variable, secretName(for: $0, in: entry, vault: vault, plan: &plan, tally: &tally)) }))
                case .foreignHelper(let url, let helperURL):
                    tally.problems += 1
                    Console.out("  \(entry.name): left alone, and not safe: \(Self.foreignHelperWarning(url: url, helperURL: helperURL))")
                case .vault(let url, _):
                    tally.vaultSeen = true
                    Console.out("  \(entry.name): already gets its token from mcp-vault (\(url))")
                case .remote(var remote):
                    tally.remoteSeen = true
                    guard let server = try? ServerURL(remote.url) else {
                        Console.out("  \(entry.name): \(Self.displayed(remote.url)) is not a server URL mcp-vault can use; left alone")
                        tally.problems += 1
                        continue
                    }
                    let secrets = entry.plaintextSecrets
                    let staticKey = remote.mcpRemote == nil && secrets.contains { $0.kind == .header && $0.variable.lowercased() == "authorization" }
                    let held = staticKey ? (vault.map { (try? $0.read(server.recordName)) != nil } ?? false)
                        : try holds(server, signingInAs: entry.name, vault: &vault)
                    if held || (remote.mcpRemote == nil && secrets.contains { $0.kind == .header }) {
                        // Headers that hold secrets name them in the vault; a static Authorization of a
                        // server the vault signs in to goes (the OAuth token replaces it).
                        for secret in secrets where secret.kind == .header {
                            let isAuthorization = secret.variable.lowercased() == "authorization"
                            if isAuthorization && held { continue }
                            let sealed = "{secret:\(secretName(for: secret, in: entry, vault: vault, plan: &plan, tally: &tally))}"
                            if isAuthorization {
                                remote.staticAuthorization = sealed
                            } else if let index = remote.headers.firstIndex(where: { $0.name == secret.variable }) {
                                remote.headers[index] = .init(name: secret.variable, value: sealed)
                            }
                        }
                        // A server the vault does not sign in to, with a key in a header: no OAuth token.
                        if !held && remote.staticAuthorization == nil { remote.noToken = true }
                        plan.remote.append(entry.with(remote: remote))
                    } else if entry.localServer != nil, case let moving = secrets.filter({ $0.kind == .environment }), !moving.isEmpty {
                        // mcp-remote reaching a server the vault does not sign in to: its secrets still move.
                        plan.local.append(LocalSecretMove(entry: entry, moves: moving.map { ($0.variable, secretName(for: $0, in: entry, vault: vault, plan: &plan, tally: &tally)) }))
                    } else {
                        Console.out("  \(entry.name): \(Self.displayed(server.canonical)) is not in the vault; left alone (sign in with "
                                    + "`mcp-vault login \(Self.displayed(server.canonical))\(ServerReference.isValidName(entry.name) ? " --name \(entry.name)" : "")`, "
                                    + "or run setup again with --login)")
                    }
                }
            }
            return plan
        }

        /// The vault's name for `secret` (ENTRY/VARIABLE, numbered ENTRY-2/VARIABLE… when the name
        /// holds another value already), added to the plan's secrets to seal.
        private func secretName(for secret: PlaintextSecret, in entry: ServerEntry, vault: Vault?, plan: inout Plan, tally: inout Tally) -> String {
            let base = PlaintextSecrets.secretName(entry: secret.entry, variable: secret.variable)
            var name = base
            var number = 2
            while true {
                let stored = vault.flatMap { try? StoredRecord.secret(name, in: $0) }?.value
                let planned = tally.secretNames[name]
                if (stored == nil || stored == secret.value) && (planned == nil || planned == secret.value) { break }
                let slash = base.firstIndex(of: "/")!
                name = base[..<slash] + "-\(number)" + base[slash...]
                number += 1
            }
            tally.secretNames[name] = secret.value
            plan.seal.append((name, secret.value, entry.member.span.lowerBound))
            return name
        }

        /// Rewrites the planned entries of `file` (or, with --dry-run, shows the diff), with a
        /// backup: the secrets are sealed and read back first, and the records named after the entries.
        private func rewrite(_ file: ConfigFile, plan: Plan, command: String, vault: inout Vault?, proxyForClaudeCode: Bool,
                             tally: inout Tally) throws {
            let change = ConfigRewrite.change(file, entries: plan.remote, command: command, proxyForClaudeCode: proxyForClaudeCode,
                                              localMoves: plan.local)
            for refusal in change.refused {
                tally.problems += 1
                Console.out("  \(refusal.entry.name): left alone: \(refusal.reason)")
                if !refusal.snippet.isEmpty {
                    Console.out("  Put this in its place by hand:")
                    Console.out(refusal.snippet.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n"))
                }
            }
            guard change.changesFile else { return }
            let rewrittenEntries = Set(change.rewritten.map(\.member.span.lowerBound))
            let moving = plan.seal.filter { rewrittenEntries.contains($0.entry) }.map { (name: $0.name, value: $0.value) }
            if dryRun {
                for entry in change.rewritten { Console.out("  \(entry.name): would \(Self.describe(entry, plan: plan))") }
                Console.out(change.diff.split(separator: "\n").map { Self.hidingSecrets(String($0), values: plan.seal.map(\.value)) }.joined(separator: "\n"))
                Console.out("(values that may be secrets, such as environment variables and headers, are shown as …)")
                return
            }
            if !moving.isEmpty {
                if vault == nil { vault = try VaultCreation.createOnFirstUse(global: global, unlock: unlock) }
                try seal(moving, in: vault!)
            }
            let backup: String
            do {
                backup = try ConfigRewrite.write(change)
            } catch {
                throw SetupError.cannotWrite(file.path, reason: "\(error)")
            }
            for entry in change.rewritten { Console.out("  \(entry.name): \(Self.describe(entry, plan: plan, done: true))") }
            tally.written += 1
            tally.secretsMoved += moving.count
            Console.out("  written; the file as it was is kept as \(backup)")
            let withStaticToken = change.rewritten.filter { if case .remote(let remote) = $0.kind { remote.hasAuthorizationHeader } else { false } }
            if !moving.isEmpty {
                Console.out("  note: the old file holds the \(moving.count) plaintext secret\(moving.count == 1 ? "" : "s") that moved into the vault"
                            + (withStaticToken.isEmpty ? "" : " and the static token of \(withStaticToken.map(\.name).joined(separator: ", "))")
                            + "; remove \(backup) once the client works")
            } else if !withStaticToken.isEmpty {
                Console.out("  note: the old file holds the static token of \(withStaticToken.map(\.name).joined(separator: ", ")); remove \(backup) once the client works")
            }
            if let vault { name(change.rewritten, in: vault) }
        }

        /// Seals `secrets` and reads each back: the configuration is written only once every value
        /// it no longer holds is in the vault.
        private func seal(_ secrets: [(name: String, value: String)], in vault: Vault) throws {
            for (name, value) in secrets {
                try StoredRecord.storeSecret(name, value: value, in: vault)
                guard try StoredRecord.secret(name, in: vault).value == value else {
                    throw SetupError.cannotWrite(name, reason: "the sealed secret did not read back as written")
                }
            }
        }

        /// What happens to a rewritten entry, for its line.
        static func describe(_ entry: ServerEntry, plan: Plan, done: Bool = false) -> String {
            if let move = plan.local.first(where: { $0.entry.member.span == entry.member.span }) {
                return (done ? "runs" : "run") + " through `mcp-vault run`; "
                    + move.moves.map { "\($0.variable) comes from the vault's secret \($0.secret)" }.joined(separator: ", ")
            }
            if case .remote(let remote) = entry.kind, remote.staticAuthorization != nil || remote.noToken {
                return (done ? "gets" : "get") + " its key from the vault's secrets, through `mcp-vault proxy`"
            }
            return (done ? "gets" : "get") + " its token from mcp-vault"
        }

        /// Why an entry whose headersHelper names another server than its url is dangerous.
        static func foreignHelperWarning(url: String, helperURL: String) -> String {
            "its headersHelper takes the token of \(displayed(helperURL)) for requests to \(displayed(url)), another server "
                + "(a repository's .mcp.json can be written so to take your token); remove the entry, or make the helper name its own url "
                + "(`mcp-vault token` refuses such a request)"
        }

        /// Keys whose string values are never secret, shown as they are in a dry run's diff.
        static let plainKeys: Set<String> = ["url", "httpUrl", "type", "command", "source", "description", "transport", "cwd", "headersHelper"]

        /// A diff line with every string value that may be a secret shown as `…`: values of keys
        /// other than `plainKeys` (environment variables, headers, OAuth settings), and the rest
        /// of an Authorization header or a bearer token wherever it appears.
        static func hidingSecrets(_ line: String, values: [String]) -> String {
            var line = hidingSecrets(line)
            for value in values where line.contains(value) { line = line.replacing(value, with: "…") }
            return line
        }

        static func hidingSecrets(_ line: String) -> String {
            var out = ""
            var rest = Substring(line)
            // "key": "value" pairs.
            while let keyStart = rest.firstIndex(of: "\"") {
                out += rest[..<keyStart]
                guard let keyEnd = rest[rest.index(after: keyStart)...].firstIndex(of: "\"") else { break }
                let key = rest[rest.index(after: keyStart)..<keyEnd]
                var after = rest[rest.index(after: keyEnd)...]
                out += rest[keyStart...keyEnd]
                let spaces = after.prefix { $0 == " " }
                guard after.dropFirst(spaces.count).first == ":" else { rest = after; continue }
                after = after.dropFirst(spaces.count + 1)
                let gap = after.prefix { $0 == " " }
                after = after.dropFirst(gap.count)
                out += spaces + ":" + gap
                guard after.first == "\"", let valueEnd = after.dropFirst().firstIndex(of: "\"") else { rest = after; continue }
                out += plainKeys.contains(String(key)) ? String(after[...valueEnd]) : "\"…\""
                rest = after[after.index(after: valueEnd)...]
            }
            out += rest
            return hidingTokens(out)
        }

        /// The rest of a bearer token or an Authorization header's value hidden.
        static func hidingTokens(_ line: String) -> String {
            let characters = Array(line)
            let lowered = Array(line.lowercased())
            guard lowered.count == characters.count else {
                return lowered.firstRange(of: Array("bearer")) != nil || lowered.firstRange(of: Array("authorization")) != nil ? String(line.prefix(1)) + "  [a line with a token, hidden]" : line
            }
            if let bearer = lowered.firstRange(of: Array("bearer ")) {
                let end = characters[bearer.upperBound...].firstIndex { $0 == "\"" || $0 == "'" } ?? characters.endIndex
                return String(characters[..<bearer.upperBound]) + "…" + String(characters[end...])
            }
            if let header = lowered.firstRange(of: Array("authorization")), let colon = characters[header.upperBound...].firstIndex(of: ":") {
                let end = characters[characters.index(after: colon)...].firstIndex { $0 == "\"" || $0 == "'" } ?? characters.endIndex
                return String(characters[...colon]) + " …" + String(characters[end...])
            }
            return line
        }

        /// A URL for a message: no user name, password or query (which may hold keys).
        static func displayed(_ url: String) -> String {
            var text = url
            if let query = text.firstIndex(of: "?") { text = String(text[..<query]) + "?…" }
            if let scheme = text.firstRange(of: "://"), let at = text[scheme.upperBound...].firstIndex(of: "@"),
               !text[scheme.upperBound..<at].contains("/") {
                text = String(text[..<scheme.upperBound]) + "…@" + String(text[text.index(after: at)...])
            }
            return text
        }

        /// Gives each rewritten server the entry's name in the vault, unless it has one.
        private func name(_ entries: [ServerEntry], in vault: Vault) {
            for entry in entries {
                guard case .remote(let remote) = entry.kind, let server = try? ServerURL(remote.url) else { continue }
                switch try? ServerReference.assignName(entry.name, to: server, in: vault) {
                case .named: Console.out("  \(entry.name) is now the name of \(server.canonical) in the vault")
                case .taken(let holder): Console.out("  note: the vault already gives the name \(entry.name) to \(holder)")
                default: break
                }
            }
        }

        /// Whether the vault holds `server`, after signing in to it first with --login (which
        /// opens `vault` when there was none before).
        func holds(_ server: ServerURL, signingInAs name: String, vault: inout Vault?) throws -> Bool {
            var held = vault.map { (try? $0.read(server.canonical)) != nil } ?? false
            if !held && login && !dryRun {
                held = signIn(server, name: name, vault: vault)
                if vault == nil { vault = try openVault() }
            }
            return held
        }

        /// The vault, or nil when there is none yet.
        private func openVault() throws -> Vault? {
            do {
                return try unlock.access(global).unlock()
            } catch VaultError.noVault {
                return nil
            }
        }

        /// Runs `mcp-vault login URL --name NAME`; whether it signed in.
        private func signIn(_ server: ServerURL, name: String, vault: Vault?) -> Bool {
            var arguments = [OAuthProgram.path, "login", server.canonical]
            let free = vault.map { (try? ServerReference.resolve(name, in: $0)) == nil } ?? true
            if ServerReference.isValidName(name) && free { arguments += ["--name", name] }
            if let directory = global.vaultDirectory { arguments += ["--vault-dir", directory] }
            if let file = unlock.passphraseFile { arguments += ["--passphrase-file", file] }
            Console.out("  \(name): signing in to \(server.canonical)…")
            do {
                return try Subprocess.run(arguments) == 0
            } catch {
                Console.note("mcp-vault: error: \(error)")
                return false
            }
        }

        /// `mcp-vault` when a client's launch finds this very program under that name (it lives
        /// in a directory of the default PATH, as the Debian package puts it), else its full path:
        /// a client started from a desktop menu may not have ~/.local/bin on its PATH.
        static func defaultCommand() -> String {
            let own = ClientLaunch.realPath(OAuthProgram.ownPath)
            return ClientLaunch.resolve("mcp-vault").map(ClientLaunch.realPath) == own ? "mcp-vault" : own
        }
    }
}

enum SetupError: Error, CustomStringConvertible, ExitStatusProviding {
    case noConfiguration(MCPClient, looked: [String])
    case incomplete(Int)
    case cannotWrite(String, reason: String)

    var description: String {
        switch self {
        case .noConfiguration(let client, let looked):
            "no configuration of \(client.displayName) was found (looked for \(looked.joined(separator: ", ")))"
        case .incomplete(let count):
            "\(count) entr\(count == 1 ? "y or file was" : "ies or files were") left alone (see the lines above)"
        case .cannotWrite(let path, let reason):
            "\(path) could not be rewritten (\(reason)); it was left as it was"
        }
    }

    var exitStatus: ExitStatus {
        switch self {
        case .noConfiguration: .noInput
        case .incomplete: .failure
        case .cannotWrite: .ioError
        }
    }

    var hint: String? {
        switch self {
        case .noConfiguration(let client, _): "add a server to \(client.displayName) first, or pass --project DIR for a project's configuration"
        case .incomplete: nil
        case .cannotWrite: "check that you can write to the file and its directory"
        }
    }
}
