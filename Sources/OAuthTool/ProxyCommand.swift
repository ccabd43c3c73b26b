import ArgumentParser
import CommandSupport
import Dispatch
import NIOConcurrencyHelpers
import Credentials
import OAuth
import Proxy
import Session
import Vault
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `mcp-vault proxy`.
extension ProxyArguments: RunnableArguments {
    func run() async throws {
        let server: ServerURL
        let environment = global.environment
        var headers = headers.map { Self.header($0, environment: environment) }
        do {
            // A name needs the vault open to be found, and so do {secret:NAME} headers; a URL alone
            // does not (the vault may be unlocked later).
            let needsVault = !ServerReference.isURL(serverURL) || headers.contains { !SecretReferences.names(in: $0.value).isEmpty }
            let vault = needsVault ? try neverPrompting().unlock() : nil
            server = if let vault { try ServerReference.resolve(serverURL, account: account, in: vault) }
                else { try ServerURL(serverURL, account: account) }
            if let vault {
                headers = try headers.map { ($0.name, try SecretReferences.fill($0.value, from: vault)) }
            }
        } catch {
            throw ExitCode(Console.report(error).rawValue)
        }
        var options = ProxyOptions(serverURL: server.canonical)
        options.transport = ProxyOptions.Transport(rawValue: transport) ?? .automatic
        // An Authorization header (only ever from the vault's secrets) replaces the OAuth token.
        options.authorization = headers.last { $0.name.lowercased() == "authorization" }?.value ?? (noToken ? "" : nil)
        options.headers = headers.filter { $0.name.lowercased() != "authorization" }
        options.ignoredTools = Set(ignoredTools)
        options.maximumMessageSize = maximumMessageSize
        options.connectTimeout = timeout
        options.caFile = caFile
        options.environment = environment
        let tokens: any TokenSource
        if options.authorization != nil {
            tokens = StaticTokenSource(server: server)
        } else {
            let source = VaultTokenSource(server: server, access: neverPrompting(), minimumTTL: minimumTTL, global: global,
                                          httpTimeout: OAuthCommand.httpTimeout(global))
            source.unlockAtStart()
            tokens = source
        }
        do {
            try await MCPProxy(options: options, tokens: tokens, logger: global.logger).run()
        } catch {
            throw ExitCode(Console.report(error).rawValue)
        }
    }

    /// The unlock chain without its last resort: standard input is the protocol, never a prompt.
    private func neverPrompting() -> VaultAccess {
        let access = unlock.access(global)
        var sources = access.sources
        let source = unlock.passphraseSource
        if source.isGiven {
            sources.passphrase = { @Sendable () throws -> SecureBytes in try source.read(prompt: "") }
        } else {
            sources.passphrase = nil
        }
        return VaultAccess(path: access.path, sources: sources, logger: access.logger)
    }

    /// 'Name: value' with ${VAR} replaced from the environment (a secret's value is filled in
    /// after this, so that no `${` in a secret is ever read as a variable).
    static func header(_ text: String, environment: [String: String]) -> (name: String, value: String) {
        let header = (try? SecretReferences.header(text)) ?? (name: text, value: "")  // validate() has checked its form
        var value = header.value
        while let start = value.firstRange(of: "${"), let end = value[start.upperBound...].firstIndex(of: "}") {
            let name = String(value[start.upperBound..<end])
            value.replaceSubrange(start.lowerBound...end, with: environment[name] ?? "")
        }
        return (header.name, value)
    }
}

/// The proxy of a server with a static key (an Authorization header from the vault's secrets):
/// no OAuth token is asked for, and a refusal of the key says how to replace it.
struct StaticTokenSource: TokenSource {
    let server: ServerURL

    func token(rejected: String?) async throws -> String {
        guard rejected == nil else {
            let refusal = ProxyRefusal("\(server.canonical) refused the Authorization header from the vault's secret (HTTP 401): store the current key with `mcp-vault secret set NAME`")
            Console.note("mcp-vault: error: \(refusal.message)")
            throw refusal
        }
        return ""
    }

    func stepUp(challenge: String) async throws -> String {
        throw ProxyRefusal("\(server.canonical) wants more scope, which a static key cannot get (HTTP 403)")
    }
}

/// Tokens for the proxy: the vault unlocked once (or again, after `mcp-vault unlock`, while it
/// is locked), the record read per request, refreshes by the same detached worker as `token`.
final class VaultTokenSource: TokenSource, @unchecked Sendable {  // its mutable state is behind `lock`
    let server: ServerURL
    let access: VaultAccess
    let minimumTTL: Int64
    let global: GlobalOptions
    let httpTimeout: Int64
    private let lock = NIOLock()
    private var vault: Vault?
    /// The last token handed out and its expiry: served from memory while it stays fresh, so
    /// that a request costs no record read (a 401 or its expiry sends the proxy to the record).
    private var cached: (token: String, expiresAt: Int64?)?
    /// The record's DPoP key (its tokens are bound to it) and the MCP server's latest nonce.
    private var dpopSigner: DPoPSigner?
    private var dpopNonce: String?

    func dpopProof(method: String, url: String, token: String) -> String? {
        let (signer, nonce) = lock.withLock { (dpopSigner, dpopNonce) }
        guard let signer else { return nil }
        return try? signer.proof(method: method, url: url, nonce: nonce, accessToken: token)
    }

    func useNonce(_ nonce: String) { lock.withLock { dpopNonce = nonce } }

    init(server: ServerURL, access: VaultAccess, minimumTTL: Int64, global: GlobalOptions, httpTimeout: Int64) {
        self.server = server
        self.access = access
        self.minimumTTL = minimumTTL
        self.global = global
        self.httpTimeout = httpTimeout
    }

    /// Unlocks now, so that the key is held from the start; a locked vault is said on stderr and
    /// tried again at each request.
    func unlockAtStart() {
        do {
            _ = try unlocked()
        } catch {
            Console.note("mcp-vault: error: \(Self.refusal(for: error, server: server).message)")
        }
    }

    private func unlocked() throws -> Vault {
        if let vault = lock.withLock({ vault }) { return vault }
        let opened = try access.unlock()
        lock.withLock { vault = opened }
        // The key is held from now on: the copy of MCP_VAULT_PASSPHRASE is no longer needed
        // (as a --passphrase-file is read once and not kept).
        EnvironmentSecrets.passphrase?.wipe()
        return opened
    }

    func token(rejected: String?) async throws -> String {
        let now = Int64(Date().timeIntervalSince1970)
        if let cached = lock.withLock({ cached }), cached.token != rejected, cached.expiresAt.map({ $0 - now >= minimumTTL }) ?? true {
            return cached.token
        }
        do {
            let vault = try unlocked()
            guard let record = try VaultAccess.credential(for: server, in: vault) else {
                throw CredentialsError.noCredential(server: server.commandReference, closest: ServerReference.closest(to: server.canonical, in: vault))
            }
            if let pem = record.dpopKey {
                if lock.withLock({ dpopSigner?.key.pem != pem }) {
                    let signer = DPoPSigner(key: try SigningKey(pem: pem))
                    lock.withLock { dpopSigner = signer }
                }
            } else {
                lock.withLock { dpopSigner = nil }
            }
            if let tokens = record.tokens, tokens.accessToken != rejected, TokenService.isFresh(record, minimumTTL: minimumTTL, now: now) {
                lock.withLock { cached = (tokens.accessToken, tokens.expiresAt) }
                return tokens.accessToken
            }
            if record.needsLogin { throw TokenServiceError.needsLogin(server.canonical, reason: "the server refused the refresh token") }
            let fingerprint = rejected.map(TokenService.fingerprint)
            lock.withLock { cached = nil }
            return try await withCheckedThrowingContinuation { continuation in
                // The refresh waits on the record's lock and a child process: not on the cooperative pool.
                DispatchQueue.global().async {
                    continuation.resume(with: Result {
                        try RefreshWorker.refresh(server: self.server, vault: vault, minimumTTL: self.minimumTTL, global: self.global,
                                                  httpTimeout: self.httpTimeout, rejectedFingerprint: fingerprint)
                    })
                }
            }
        } catch {
            let refusal = Self.refusal(for: error, server: server)
            Console.note("mcp-vault: error: \(refusal.message)")
            throw refusal
        }
    }

    /// Step-up from the proxy: with a browser at hand (a display or $BROWSER), authorize as
    /// `token --challenge` does, one flow at a time across every proxy and `token` (an exclusive
    /// lock; whoever waited finds the scope granted and uses it); else the command to run.
    func stepUp(challenge: String) async throws -> String {
        let command = "mcp-vault token \(server.commandReference) --challenge '\(challenge)'"
        guard let wanted = BearerChallenge(challenge)?.scope else {
            throw ProxyRefusal("the server refused with insufficient_scope but named no scope; run `mcp-vault login \(server.canonical) --scope …` in a terminal")
        }
        let environment = global.environment
        guard DesktopSession.canOpenBrowser(environment) else {
            let refusal = ProxyRefusal("the server wants more scope (\(wanted)) and no browser can be opened from here: run `\(command)` in a terminal, then retry")
            Console.note("mcp-vault: error: \(refusal.message)")
            throw refusal
        }
        let vault = try unlocked()
        return try await vault.directory.withExclusiveLock(named: "step-up") {
            if let tokens = try VaultAccess.credential(for: server, in: vault)?.tokens, LoginService.covers(tokens.scope, wanted) {
                return tokens.accessToken  // another proxy stepped up while this one waited
            }
            defer { Browser.removeRedirectFiles() }
            do {
                let request = LoginRequest(serverURL: server.canonical)
                return try await StepUpService(logger: global.logger, httpTimeout: httpTimeout).stepUp(
                    server: server, vault: vault, wanted: wanted, request: request,
                    present: Authorization.presenter(openBrowser: true, environment: environment, waitSeconds: request.timeoutSeconds))
            } catch {
                let refusal = ProxyRefusal("the step-up for \(wanted) did not succeed (\(error)); run `\(command)` in a terminal, then retry")
                Console.note("mcp-vault: error: \(refusal.message)")
                throw refusal
            }
        }
    }

    /// What to tell the client (and stderr) when no token can be had: the command that fixes it.
    static func refusal(for error: any Error, server: ServerURL) -> ProxyRefusal {
        let login = "run `mcp-vault login \(server.commandReference)` in a terminal; this proxy uses the new credentials at the next request"
        switch error {
        case let error as ProxyRefusal: return error
        case CredentialsError.noCredential: return ProxyRefusal("the vault holds no credentials for \(server): \(login)")
        case TokenServiceError.needsLogin, TokenServiceError.cannotRefresh: return ProxyRefusal("\(error): \(login)")
        case let error as ExitCode where error.rawValue == ExitStatus.noValidToken.rawValue:
            return ProxyRefusal("no valid token for \(server.canonical) (see the proxy's standard error): \(login)")
        case let error as ExitCode:
            return ProxyRefusal("the refresh failed with status \(error.rawValue) (see the proxy's standard error)")
        case let error as VaultError:
            switch error {
            case .locked, .passphraseUnavailable, .wrongPassphrase, .keyring, .sessionCache:
                return ProxyRefusal("the vault is locked (\(error)): run `mcp-vault unlock` in a terminal, or start the proxy with --passphrase-file")
            case .noVault:
                return ProxyRefusal("there is no vault yet: \(login)")
            default:
                return ProxyRefusal("\(error)")
            }
        default:
            return ProxyRefusal("\(error)")
        }
    }
}
