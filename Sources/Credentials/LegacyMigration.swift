import LegacyImport
import Vault

/// How `migrate` should treat what it finds.
public struct MigrationOptions: Sendable {
    public var dryRun = false
    public var keepPlaintext = false
    /// Prefer the imported token over one already in the vault.
    public var overwrite = false
    public init() {}
}

/// What happened to one legacy token.
public struct MigrationLine: Sendable {
    public enum Outcome: Sendable, Equatable {
        case imported(String)
        /// The vault's token for that server was replaced by the imported one (which expires
        /// later, or because --overwrite said so).
        case replaced(String, forced: Bool)
        /// The same token was already sealed (an earlier, interrupted run); the plaintext goes.
        case alreadyInVault(String)
        /// The vault's token was kept (the imported one does not expire later); the plaintext stays.
        case keptVault(String)
        case skipped(String)
        case failed(String)
    }

    public let origin: LegacyOrigin
    public let outcome: Outcome
    /// Set when the token was sealed but its plaintext could not be removed.
    public var cleanupFailure: String?
    /// What the user will have to do about the imported credential (an expired token with no
    /// refresh token needs a login).
    public var advice: String?
}

/// Imports legacy tokens into the vault: seal, read back and compare, and only then remove the
/// plaintext. Every step is idempotent, so a run killed at any point is finished by the next.
public struct LegacyMigration: Sendable {
    public let options: MigrationOptions
    public let now: Int64

    public init(options: MigrationOptions, now: Int64) {
        self.options = options
        self.now = now
    }

    public struct Report: Sendable {
        public var lines: [MigrationLine] = []
        public var notes: [String] = []
        public var failures: Int {
            lines.filter { if case .failed = $0.outcome { true } else { $0.cleanupFailure != nil } }.count
        }
    }

    /// Runs over `scan`. `vault` is nil only for a dry run with no vault yet.
    public func run(_ scan: LegacyScan, vault: Vault?, progress: (Int, Int) -> Void = { _, _ in }) -> Report {
        var report = Report(notes: scan.notes)
        if !options.dryRun && !options.keepPlaintext {
            for directory in Set(scan.directories) {
                for path in PlainFiles.finishShredding(in: directory) {
                    report.notes.append("finished removing \(path), left by an interrupted run")
                }
            }
        }
        // First seal and verify everything, then remove the verified plaintext: deleting files
        // while creating others makes the file system's inode allocation slow down (seen on ext4).
        for (position, item) in scan.items.enumerated() {
            progress(position + 1, scan.items.count)
            report.lines.append(migrate(item, vault: vault))
        }
        // Every sealed record must survive a power loss before any plaintext goes.
        if !options.dryRun, let vault {
            do {
                try vault.makeDurable()
            } catch {
                report.notes.append("the vault could not be synced (\(error)); no plaintext was removed")
                return report
            }
        }
        guard !options.dryRun && !options.keepPlaintext else { return report }
        var entriesToRemove: [String: [String: String?]] = [:]
        var clientEntriesToRemove: [String: [String: String?]] = [:]
        var filesToRemove: [(path: String, fingerprint: String?)] = []
        var lineOfFile: [String: Int] = [:]
        for index in report.lines.indices where report.lines[index].removesPlaintext {
            let fingerprint = scan.items[index].fingerprint
            switch report.lines[index].origin {
            case .perServerFile(let path, _), .mcpRemote(let path, _):
                filesToRemove.append((path, fingerprint))
                lineOfFile[path] = index
            case .entry(let path, let key):
                entriesToRemove[path, default: [:]][key] = fingerprint
            case .clientStore(let path, let key):
                clientEntriesToRemove[path, default: [:]][key] = fingerprint
            }
        }
        // A file with another hard link is unlinked, not zeroed (zeroing would destroy the other
        // name's bytes too): the plaintext lives on there, which the user must hear of.
        let shared = filesToRemove.map(\.path).filter { (PlainFiles.attributes($0)?.links ?? 1) > 1 }
        let refused = LegacyCleanup.removeFiles(filesToRemove)
        for path in shared where refused[path] == nil {
            report.notes.append("\(path) had another hard link: it was unlinked here, but its other name (a backup, perhaps) still holds the plaintext; remove that copy yourself")
        }
        for (path, reason) in refused {
            if let index = lineOfFile[path] { report.lines[index].cleanupFailure = reason }
        }
        // mcp-remote's registration, code verifier and lock file go with the tokens they belong to.
        let companions = report.lines.compactMap { line -> [String]? in
            guard case .mcpRemote(let path, let hash) = line.origin, line.removesPlaintext, refused[path] == nil else { return nil }
            let folder = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
            return MCPRemoteStore.companionSuffixes.map { folder + "/" + hash + $0 }.filter(PlainFiles.exists)
        }.flatMap { $0 }
        for (path, failure) in PlainFiles.shredAll(companions) {
            report.notes.append("\(path) could not be removed: \(failure)")
        }
        let removals = entriesToRemove.map { ($0.key, $0.value, LegacyCleanup.removeEntries) }
            + clientEntriesToRemove.map { ($0.key, $0.value, ClientTokenStore.removeEntries) }
        for (path, fingerprints, remove) in removals.sorted(by: { $0.0 < $1.0 }) {
            let lines = report.lines.indices.filter { report.lines[$0].origin.path == path && report.lines[$0].removesPlaintext }
            do {
                let changed = try remove(fingerprints, path)
                for index in lines where changed.contains(report.lines[index].origin.assignmentName) {
                    report.lines[index].cleanupFailure = LegacyCleanup.changedSinceRead
                }
            } catch {
                for index in lines { report.lines[index].cleanupFailure = "\(error)" }
            }
        }
        for index in scan.indexes where index.readable {
            do {
                try LegacyCleanup.pruneIndex(in: index.directory)
            } catch {
                report.notes.append("\(index.directory)/index.json could not be updated: \(error)")
            }
        }
        return report
    }

    private func migrate(_ item: LegacyItem, vault: Vault?) -> MigrationLine {
        let token: LegacyToken
        switch item.token {
        case .success(let value): token = value
        case .failure(let error):
            return MigrationLine(origin: item.origin, outcome: error.isFailure ? .failed(error.description) : .skipped(error.description))
        }
        let server: ServerURL
        do {
            server = try ServerURL(token.serverURL ?? "")
        } catch {
            return MigrationLine(origin: item.origin, outcome: .failed(error.description))
        }
        let imported = record(for: token, server: server)
        guard let vault else { return MigrationLine(origin: item.origin, outcome: .imported(server.canonical)) }

        do {
            var outcome = MigrationLine.Outcome.imported(server.canonical)
            var intended = imported
            let decide = { (existing: Record?) throws -> RecordChange in
                guard let existing else { return .write(imported.encoded()) }
                let stored = try CredentialRecord.decode(existing.payload, id: existing.id)
                // Already sealed only when nothing in the plaintext would be lost by removing it.
                if stored.tokens == imported.tokens, imported.client == nil || stored.client == imported.client {
                    outcome = .alreadyInVault(server.canonical)
                    intended = stored
                    return .keep
                }
                let later = Self.expiresLater(imported.tokens?.expiresAt, than: stored.tokens?.expiresAt)
                guard options.overwrite || later else {
                    outcome = .keptVault(server.canonical)
                    return .keep
                }
                var merged = stored
                // What the import lacks (a refresh token, a scope) is kept from the vault's record.
                merged.tokens = CredentialRecord.Tokens(
                    accessToken: token.accessToken,
                    refreshToken: token.refreshToken ?? stored.tokens?.refreshToken,
                    tokenType: stored.tokens?.tokenType ?? "Bearer",
                    scope: token.scope ?? stored.tokens?.scope,
                    expiresAt: token.expiresAt,
                    refreshExpiresAt: token.refreshToken == nil ? stored.tokens?.refreshExpiresAt : nil)
                merged.client = imported.client ?? stored.client
                merged.needsLogin = false
                merged.updatedAt = now
                intended = merged
                outcome = .replaced(server.canonical, forced: !later)
                return .write(merged.encoded())
            }
            // An expired token that cannot be refreshed is still imported (its client may serve the
            // next login), and said to need one.
            let expired = token.refreshToken == nil && (intended.tokens?.expiresAt).map { $0 <= now } == true
            let advice = expired ? "expired, and it holds no refresh token: it needs `mcp-vault login \(server.canonical)`" : nil
            if options.dryRun {
                _ = try decide(try vault.read(server.canonical))
                return MigrationLine(origin: item.origin, outcome: outcome, advice: advice)
            }
            try vault.update(server.canonical, durable: false, decide)
            if case .keptVault = outcome { return MigrationLine(origin: item.origin, outcome: outcome) }
            // Read the sealed copy back and compare it before any plaintext is touched.
            guard let sealed = try VaultAccess.credential(for: server, in: vault), sealed.tokens == intended.tokens,
                  sealed.client == intended.client, sealed.serverURL == intended.serverURL else {
                return MigrationLine(origin: item.origin, outcome: .failed("the sealed copy read back differs; the plaintext was kept"))
            }
            return MigrationLine(origin: item.origin, outcome: outcome, advice: advice)
        } catch {
            return MigrationLine(origin: item.origin, outcome: .failed("cannot seal it: \(error)"))
        }
    }

    /// The credential record an imported token becomes (endpoints and issuer are unknown until
    /// the next login).
    func record(for token: LegacyToken, server: ServerURL) -> CredentialRecord {
        let client = token.clientID.map {
            CredentialRecord.ClientRegistration(clientID: $0, clientSecret: token.clientSecret, source: "imported",
                                                authMethod: token.clientAuthMethod ?? (token.clientSecret == nil ? "none" : "client_secret_post"))
        }
        let tokens = CredentialRecord.Tokens(accessToken: token.accessToken, refreshToken: token.refreshToken,
                                             scope: token.scope, expiresAt: token.expiresAt)
        return CredentialRecord(server: server, client: client, tokens: tokens, now: now)
    }

    /// A known expiry beats an unknown one; a later one beats an earlier one.
    static func expiresLater(_ candidate: Int64?, than current: Int64?) -> Bool {
        switch (candidate, current) {
        case (let new?, let old?): new > old
        case (.some, nil): true
        default: false
        }
    }
}

extension MigrationLine {
    /// Whether the plaintext may go: its token is sealed and verified.
    var removesPlaintext: Bool {
        switch outcome {
        case .imported, .replaced, .alreadyInVault: true
        case .keptVault, .skipped, .failed: false
        }
    }
}
