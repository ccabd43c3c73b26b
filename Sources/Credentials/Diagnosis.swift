import LegacyImport
import Logging
import Vault

/// One line of `mcp-vault doctor`.
public struct DiagnosticCheck: Sendable {
    public enum Outcome: String, Sendable { case ok, info, warning, problem }
    public let subject: String
    public let outcome: Outcome
    public let detail: String
    public let remedy: String?

    public init(subject: String, outcome: Outcome, detail: String, remedy: String?) {
        self.subject = subject
        self.outcome = outcome
        self.detail = detail
        self.remedy = remedy
    }
}

/// Checks everything the vault depends on, each independently, and says whether the vault can be used.
public struct Diagnosis: Sendable {
    public var checks: [DiagnosticCheck]
    public let vaultUsable: Bool
    /// False when the vault can be read but no record can be written (read-only or full).
    public var vaultWritable = true

    public static func run(access: VaultAccess, keyring: SecretServiceKeyring, environment: [String: String]) -> Diagnosis {
        var checks: [DiagnosticCheck] = []
        func add(_ subject: String, _ outcome: DiagnosticCheck.Outcome, _ detail: String, _ remedy: String? = nil) {
            checks.append(DiagnosticCheck(subject: subject, outcome: outcome, detail: detail, remedy: remedy))
        }

        // The vault's directory and header, read once: the keyring checks depend on its slots.
        let opened = Result { try access.openDirectory() }
        let headerRead = opened.flatMap { directory in Result { try directory.readHeader() } }
        // A vault with no keyring slot does not need the keyring: its absence is no warning.
        let keyringUnused = (try? headerRead.get()).map { $0.slot(of: .secretService) == nil } ?? false
        let keyringProblem: DiagnosticCheck.Outcome = keyringUnused ? .info : .warning
        let unusedNote = keyringUnused ? " (not needed: this vault has no keyring slot)" : ""

        // The desktop keyring.
        switch SessionBus.current(environment: environment) {
        case .variable:
            add("D-Bus session", .ok, "DBUS_SESSION_BUS_ADDRESS is set")
        case .socket(let path):
            add("D-Bus session", .ok, "using \(path) (DBUS_SESSION_BUS_ADDRESS is not set)")
        case .none(let reason):
            add("D-Bus session", keyringProblem, reason + unusedNote,
                keyringUnused ? nil : "outside a desktop session the keyring is unavailable; use the passphrase slot")
        }
        var keyringWorks = false
        do {
            try keyring.probe()
            keyringWorks = true
            add("Secret Service", .ok, "reachable; the default keyring is unlocked and persistent")
        } catch {
            add("Secret Service", keyringProblem, error.description + unusedNote, keyringUnused ? nil : error.hint)
        }

        // The kernel keyring for `mcp-vault unlock`.
        do {
            try SessionKeyCache.selfTest()
            add("kernel keyring", .ok, "keys can be cached for `mcp-vault unlock`")
        } catch {
            add("kernel keyring", .warning, error.description, error.hint)
        }

        // The vault itself.
        var usable = false
        var writable = true
        vault: do {
            let directory: VaultDirectory
            switch opened {
            case .success(let opened): directory = opened
            case .failure(let error):
                add("vault", .problem, "\(error)", (error as? VaultError)?.hint)
                break vault
            }
            add("vault location", .ok, "\(directory.path) (mode 0700, owned by you)")
            let header: VaultHeader
            switch headerRead {
            case .success(let read): header = read
            case .failure(let error):
                add("vault header", .problem, "\(error)", (error as? VaultError)?.hint)
                break vault
            }
            let slotNames = header.slots.map(\.type.displayName).joined(separator: ", ")
            add("key slots", .ok, "\(slotNames) (vault \(header.vaultID))")
            if header.slot(of: .secretService) != nil {
                if keyringWorks {
                    do {
                        let keyringOnly = UnlockSources(sessionCache: false, keyring: keyring, passphrase: nil)
                        _ = try VaultUnlocker.unlock(directory, sources: keyringOnly, logger: access.logger)
                        usable = true
                        add("keyring slot", .ok, "the keyring's key opens the vault")
                    } catch {
                        add("keyring slot", .problem, "\(error)", (error as? VaultError)?.hint)
                    }
                } else {
                    add("keyring slot", .warning, "cannot be used now: the Secret Service is not usable", "see the Secret Service line above")
                }
            }
            if header.slot(of: .passphrase) != nil {
                usable = true
                add("passphrase slot", .ok, "present; unlock with --passphrase-file, --passphrase-fd or a terminal prompt")
            } else if !keyringWorks {
                add("passphrase slot", .warning, "none, and the keyring is not usable", "add one with `mcp-vault passphrase add` while the keyring works")
            }
            if SessionKeyCache.holdsKey(for: header) {
                usable = true
                add("session", .info, "unlocked (the master key is cached in the kernel keyring)", "`mcp-vault lock` drops it")
            }
            do {
                try directory.checkWritable()
                add("free space", .ok, "a new record of the largest size (1 MiB) can be written")
            } catch {
                writable = false
                add("free space", .problem, "\(error)", "new logins and refreshes cannot be stored: make room, or make the file system writable")
            }
            let count = (try? directory.recordIDs().count) ?? 0
            add("records", .info, "\(count) stored")
            for (id, reason) in (try? directory.unopenableRecords()) ?? [] {
                add("record \(id.prefix(12))…", .warning, "cannot be read: \(reason)",
                    "`mcp-vault logout --damaged` removes every such record; `mcp-vault login URL` replaces the one for URL")
            }
        }

        // Plaintext left behind by older tools, and by a migrate that was killed while removing it.
        let files = LegacyTokenFiles(environment: environment)
        let leftovers = files.directories.flatMap(PlainFiles.leftovers(in:))
        if !leftovers.isEmpty {
            add("migration leftovers", .warning, "\(leftovers.count) file(s) an interrupted migrate did not finish removing, which may hold tokens, for example \(leftovers[0])",
                "run `mcp-vault migrate` to finish removing them")
        }
        let legacy = files.present()
        if legacy.isEmpty {
            add("legacy tokens", .ok, "no plaintext token files found")
        } else {
            add("legacy tokens", .warning, "\(legacy.count) plaintext token file(s), for example \(legacy[0])",
                "run `mcp-vault migrate` to seal them in the vault and remove the plaintext")
        }
        let mcpRemote = files.mcpRemoteTokenFiles()
        if !mcpRemote.isEmpty {
            add("mcp-remote tokens", .warning, "\(mcpRemote.count) plaintext token file(s) of mcp-remote, for example \(mcpRemote[0])",
                "run `mcp-vault migrate` to seal them (a file whose server no client configuration names needs --assign HASH=URL), then `mcp-vault setup CLIENT` so the client stops running mcp-remote")
        }
        // MCP clients' own token files (Claude Code, Codex, Gemini CLI) that still hold servers' tokens.
        for store in files.otherClientStores() {
            add(store.name, .warning, "\(store.path) holds \(store.why)", store.advice)
        }
        return Diagnosis(checks: checks, vaultUsable: usable, vaultWritable: writable)
    }
}
