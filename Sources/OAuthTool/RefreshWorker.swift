import ArgumentParser
import CommandSupport
import Credentials
import Processes
import Session
import Vault
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#endif

/// A refresh that its caller's death cannot interrupt.
///
/// A rotating authorization server invalidates the old refresh token the moment it answers, so
/// from the request until the new record is durable nothing the caller suffers (Ctrl-C, SIGTERM
/// from a client closing its helper, SIGKILL, a closed pipe) may stop the write. The refresh
/// therefore runs in a worker: this program again (`refresh-worker`), in a session of its own,
/// ignoring the signals a terminal or a client sends, with the vault key handed over through a
/// pipe. The caller waits for its answer; a caller that dies or gives up leaves it to finish.
enum RefreshWorker {
    /// How long the worker may take for the whole refresh (each HTTP exchange has one deadline):
    /// longer than the caller waits, so that an answer arriving late is still sealed.
    static func workerTimeout(_ httpTimeout: Int64) -> Int64 { max(60, 3 * httpTimeout) }

    /// Starts the worker and waits up to `httpTimeout` + 5 s for its token.
    static func refresh(server: ServerURL, vault: Vault, minimumTTL: Int64, global: GlobalOptions, httpTimeout: Int64,
                        rejectedFingerprint: String? = nil) throws -> String {
        let key = try vault.handOverKey()
        var command = [Subprocess.currentExecutable, "refresh-worker", server.canonical, "--min-ttl", String(minimumTTL),
                       "--vault-dir", global.vaultPath, "--http-timeout", String(workerTimeout(httpTimeout))]
        if let account = server.account { command += ["--account", account] }
        if let rejectedFingerprint { command += ["--rejected-token-sha256", rejectedFingerprint] }
        if global.verbose { command.append("--verbose") }
        let worker: Subprocess.Detached
        do {
            // Its standard error comes through a pipe of ours, passed on while we wait: a worker
            // that outlives our patience must not keep our caller's stderr open (a reader of it
            // would wait for the worker's own deadline).
            worker = try Subprocess.Detached(command, passing: key, separateError: true)
            close(key)
        } catch {
            close(key)
            throw error
        }
        let patience = Double(httpTimeout) + 5
        let finished = worker.finish(within: patience)
        if !worker.errorOutput.isEmpty { StandardError.write(String(decoding: worker.errorOutput, as: UTF8.self)) }
        guard let (output, status) = finished else {
            // The worker goes on and will seal the answer when it comes.
            return try currentToken(server: server, vault: vault, global: global, rejectedFingerprint: rejectedFingerprint,
                                    because: "the refresh has not finished after \(Int(patience)) s; it goes on in the background, and its answer will be stored when it comes")
        }
        let text = String(decoding: output, as: UTF8.self)
        if status > 128 {
            let signal = status - 128
            return try currentToken(server: server, vault: vault, global: global, rejectedFingerprint: rejectedFingerprint,
                                    because: "the refresh worker was killed by signal \(signal)\(signal == SIGKILL ? " (SIGKILL)" : "") before it answered")
        }
        guard status == 0, text.hasSuffix("\n"), let token = text.split(separator: "\n").first, !token.isEmpty else {
            // The worker has said what went wrong on standard error.
            throw ExitCode(status == 0 ? ExitStatus.softwareError.rawValue : status)
        }
        return String(token)
    }

    /// When the worker gave no answer: the stored token if it is still valid (with a warning
    /// saying why), else the reason as an error.
    private static func currentToken(server: ServerURL, vault: Vault, global: GlobalOptions, rejectedFingerprint: String?,
                                     because reason: String) throws -> String {
        let now = Int64(Date().timeIntervalSince1970)
        if let tokens = try VaultAccess.credential(for: server, in: vault)?.tokens, let expiry = tokens.expiresAt, expiry > now,
           TokenService.fingerprint(tokens.accessToken) != rejectedFingerprint {
            global.logger.warning("\(reason); handing out the current token, valid for \(expiry - now) s more")
            return tokens.accessToken
        }
        throw TokenServiceError.cannotRefresh(server.canonical, reason: reason)
    }
}

/// `mcp-vault-oauth refresh-worker`: the worker side of `RefreshWorker` (not for users).
struct RefreshWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "refresh-worker", abstract: "Refresh one record's tokens (internal).",
                                                    shouldDisplay: false)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The canonical server URL.")
    var serverURL: String

    @Option(name: .customLong("min-ttl"))
    var minimumTTL: Int64 = 60

    @Option
    var account: String?

    @Option(name: .customLong("http-timeout"))
    var httpTimeout: Int64 = 60

    @Option(name: .customLong("rejected-token-sha256"))
    var rejectedFingerprint: String?

    func run() async throws {
        // In a session of our own no terminal signal reaches us; a signal sent on purpose to our
        // caller's process group does not either. These are for anything else.
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT] { _ = Glibc.signal(signal, SIG_IGN) }
        do {
            let server = try ServerURL(serverURL, account: account)
            var sources = UnlockSources(sessionCache: false, keyring: nil, passphrase: nil)
            sources.handedOverKey = 3
            let vault = try VaultAccess(path: global.vaultPath, sources: sources, logger: global.logger).unlock()
            let token = try await TokenService(logger: global.logger, httpTimeout: httpTimeout)
                .token(for: server, in: vault, minimumTTL: minimumTTL, rejectedFingerprint: rejectedFingerprint)
            var line = token + "\n"
            line.withUTF8 { bytes in _ = write(1, bytes.baseAddress, bytes.count) }  // the caller may be gone: nothing to do then
        } catch {
            throw ExitCode(Console.report(error).rawValue)
        }
    }
}
