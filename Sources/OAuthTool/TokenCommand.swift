import ArgumentParser
import CommandSupport
import Credentials
import OAuth
import Session
import Vault

/// `mcp-vault token` when the stored token must be refreshed (`mcp-vault` execs this with the
/// vault key handed over through a pipe).
struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "token", abstract: "Print a valid access token, refreshing it if needed.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var unlock: UnlockOptions

    @OptionGroup var options: TokenOptions

    @Option(name: .customLong("master-key-fd"), help: .hidden)
    var masterKeyDescriptor: Int32?


    func run() async throws {
        do {
            var access = unlock.access(global)
            if let masterKeyDescriptor {
                var sources = access.sources
                sources.handedOverKey = masterKeyDescriptor
                access = VaultAccess(path: access.path, sources: sources, logger: access.logger)
            }
            let vault = try access.unlock()
            let server = try ServerReference.resolve(options.serverURL, account: options.account, in: vault)
            let extra = try SecretReferences.filledHeaders(options.extraHeaders, from: vault)
            let token: String
            if let challenge = options.challenge {
                token = try await stepUp(server: server, vault: vault, challenge: challenge)
            } else {
                token = try RefreshWorker.refresh(server: server, vault: vault, minimumTTL: options.minimumTTL, global: global,
                                                  httpTimeout: OAuthCommand.httpTimeout(global))
            }
            try Console.deliver(options.output(token, extra: extra))
        } catch let error as ExitCode {
            throw error
        } catch {
            throw ExitCode(Console.report(error).rawValue)
        }
    }
}

extension Token {
    /// Step-up (MCP authorization, 403 insufficient_scope): authorize again for the union of the
    /// granted and the challenged scopes, within the limit every process shares.
    func stepUp(server: ServerURL, vault: Vault, challenge text: String) async throws -> String {
        guard let challenge = BearerChallenge(text), let wanted = challenge.scope else {
            throw ValidationError("--challenge takes the WWW-Authenticate value of a 403 insufficient_scope answer (Bearer error=\"insufficient_scope\", scope=\"…\")")
        }
        var request = LoginRequest(serverURL: server.canonical)
        request.timeoutSeconds = Int(options.timeout)
        let environment = global.environment
        let browser = DesktopSession.canOpenBrowser(environment)
        if !browser && !Console.isTerminal(0) && !Console.isTerminal(2) {
            // Run by a client, with no browser to show and nobody at a terminal: a device code
            // the client can show, or an error now rather than a wait for nothing.
            request.unattended = true
            request.canOpenBrowser = false
        }
        defer { Browser.removeRedirectFiles() }
        return try await StepUpService(logger: global.logger, httpTimeout: OAuthCommand.httpTimeout(global)).stepUp(
            server: server, vault: vault, wanted: wanted, request: request,
            present: Authorization.presenter(openBrowser: !options.noBrowser, environment: global.environment, waitSeconds: request.timeoutSeconds))
    }
}

extension MachineGrantError: ExitStatusProviding {
    public var exitStatus: ExitStatus {
        switch self {
        case .refused, .notOffered: .oauthRefused
        case .assertionUnavailable: .noInput
        }
    }

    public var hint: String? {
        switch self {
        case .refused(_, "invalid_client", _): "check the client id and its secret or key (`mcp-vault keygen` prints the public key to register)"
        case .refused(_, "invalid_grant", _): "the assertion was refused: check where it comes from (--assertion-file, --assertion-command) and its audience"
        case .refused: nil
        case .assertionUnavailable: "check the assertion file or command given to `login --grant jwt-bearer`"
        case .notOffered: nil
        }
    }
}

extension StepUpError: ExitStatusProviding {
    public var exitStatus: ExitStatus { .oauthRefused }

    public var hint: String? {
        switch self {
        case .alreadyGranted(let server, _):
            "check what the server says about the request; `mcp-vault login \(server)` signs in afresh"
        case .limitReached(let server, let scope, _, _):
            "authorize by hand: `mcp-vault login \(server) --scope '\(scope)'`"
        }
    }
}

/// `mcp-vault logout`.
extension LogoutArguments: RunnableArguments {
    func run() async throws {
        do {
            let vault = try unlock.access(global).unlock()
            // Record names, each with how it is shown.
            var names: [(record: String, shown: String)] = []
            var unreadable: [(id: String, reason: String)] = []
            if let serverURL {
                let server = try ServerReference.resolve(serverURL, account: account, in: vault)
                // A record that cannot be read is there too: logout removes it.
                let present = switch Result(catching: { try vault.read(server.recordName) }) {
                case .success(let record): record != nil
                case .failure: true
                }
                guard present else {
                    throw CredentialsError.noCredential(server: server.commandReference, closest: ServerReference.closest(to: serverURL, in: vault))
                }
                names = [(server.recordName, server.description)]
            } else {
                // Secrets are not servers: --all and --damaged leave them alone.
                for (id, result) in try StoredRecord.credentials(in: vault) {
                    do {
                        let server = try result.get().server()
                        if all { names.append((server.recordName, server.description)) }
                    } catch {
                        unreadable.append((id, "\(error)"))
                    }
                }
            }
            names.sort { $0.shown < $1.shown }
            if all && !yes && !names.isEmpty {
                Console.note("This logs out of \(names.count) server\(names.count == 1 ? "" : "s"): \(names.map(\.shown).joined(separator: ", ")).")
                Console.prompt("Log out of all of them? [y/N] ")
                guard let answer = readLine(), ["y", "yes"].contains(answer.trimmingWhitespace().lowercased()) else {
                    Console.out("Nothing was changed.")
                    throw ExitCode(ExitStatus.failure.rawValue)
                }
            }
            let service = LogoutService(logger: global.logger, httpTimeout: OAuthCommand.httpTimeout(global))
            var grantsMayLiveOn = false
            for (record, name) in names {
                switch try await service.logout(record, in: vault, revoke: !localOnly) {
                case .revokedAndDeleted:
                    Console.out("Logged out of \(name): tokens revoked at the server and deleted.")
                case .deletedOnly(let reason):
                    grantsMayLiveOn = true
                    Console.out("Logged out of \(name): deleted here; the grant may live on at the server (\(reason)).")
                }
            }
            // A record that cannot be read names no server: it is removed by its id.
            for (id, reason) in unreadable where try vault.delete(id: id) {
                grantsMayLiveOn = true
                Console.out("Removed record \(id), which could not be read (\(reason)); any grant in it may live on at its server.")
            }
            if names.isEmpty && unreadable.isEmpty { Console.out(damaged ? "No damaged records; nothing to do." : "No servers stored; nothing to do.") }
            if grantsMayLiveOn && !localOnly && !damaged { throw ExitCode(ExitStatus.grantMayLiveOn.rawValue) }
        } catch let error as ExitCode {
            throw error
        } catch {
            throw ExitCode(Console.report(error).rawValue)
        }
    }
}

enum OAuthCommand {
    static func httpTimeout(_ global: GlobalOptions) -> Int64 {
        global.environment["MCP_VAULT_HTTP_TIMEOUT"].flatMap(Int64.init).flatMap { (1...3600).contains($0) ? $0 : nil } ?? 20
    }
}

extension TokenServiceError: ExitStatusProviding {
    public var exitStatus: ExitStatus {
        switch self {
        case .noCredential: .noInput
        case .needsLogin, .cannotRefresh: .noValidToken
        }
    }

    public var hint: String? {
        switch self {
        case .noCredential: "`mcp-vault status` lists what is stored"
        case .needsLogin(let server, _), .cannotRefresh(let server, _): "run `mcp-vault login \(server)`"
        }
    }
}
