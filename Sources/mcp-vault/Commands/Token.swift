import ArgumentParser
import CommandSupport
import Credentials
import Vault
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension MCPVault {
    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "token",
            abstract: "Print a stored access token for an MCP client or script.",
            discussion: """
                Prints an access token valid for at least --min-ttl seconds and a newline to standard \
                output, and nothing else; --header prints `Authorization: Bearer TOKEN`. A token \
                closer to expiry is refreshed first, under the record's lock, so that many callers \
                at once make one refresh between them; the new tokens are sealed before one is \
                printed. When the server refuses the refresh token, the command exits with status 3 \
                and says to log in again.

                Examples:
                  mcp-vault token https://mcp.example.com/mcp
                  url=https://mcp.example.com/mcp
                  curl -H "$(mcp-vault token --header "$url")" "$url"
                  mcp-vault token "$url" --account work
                  mcp-vault token "$url" --format json --with-header 'X-Key: {secret:k}'
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var unlock: UnlockOptions

        @OptionGroup var options: TokenOptions

        func run() throws {
            try reportingErrors {
                let vault = try unlock.access(global).unlock()
                let server = try ServerReference.resolve(options.serverURL, account: options.account, in: vault)
                try Self.checkHeadersHelper(server: server, environment: global.environment)
                let extra = try SecretReferences.filledHeaders(options.extraHeaders, from: vault)
                if extra.contains(where: { $0.name.lowercased() == "authorization" }) {
                    // A static key from the vault: no OAuth record is needed or used.
                    try Console.deliver(TokenOptions.json(extra))
                    return
                }
                if options.challenge != nil { handOver(vault) }  // step-up needs the network and the browser
                guard let record = try VaultAccess.credential(for: server, in: vault) else {
                    throw CredentialsError.noCredential(server: server.commandReference, closest: ServerReference.closest(to: options.serverURL, in: vault))
                }
                let now = Int64(Date().timeIntervalSince1970)
                if record.dpopKey != nil {
                    // A DPoP-bound token is useless without a proof signed by the key, which stays in the vault.
                    throw CLIError.noValidToken(server: server.commandReference,
                                                reason: "its tokens are bound to a DPoP key (RFC 9449) that never leaves the vault, so no header printed here would be accepted; point the client at `mcp-vault proxy \(server.commandReference)`, which signs a proof for every request")
                }
                if record.grant != nil && record.tokens.map({ $0.expiresAt.map { $0 - now < options.minimumTTL } ?? false }) ?? true {
                    handOver(vault)  // a machine identity gets its next token with the same grant
                }
                guard let tokens = record.tokens, !record.needsLogin else {
                    throw CLIError.noValidToken(server: server.commandReference, reason: "the server needs a new login")
                }
                if let expiry = tokens.expiresAt, expiry - now < options.minimumTTL {
                    guard tokens.refreshToken != nil else {
                        throw CLIError.noValidToken(server: server.commandReference, reason: expiry <= now
                            ? "the access token expired \(CredentialSummary.duration(now - expiry)) ago and cannot be refreshed"
                            : "the access token expires within \(options.minimumTTL) s and cannot be refreshed")
                    }
                    handOver(vault)  // refreshing needs the network
                }
                try Console.deliver(options.output(tokens.accessToken, extra: extra))
            }
        }

        /// `token SERVER` (or `token SERVER --account NAME`), the form MCP clients run before each request, set up without the
        /// argument parser, whose reflection costs about 2 ms a run (BENCHMARKS.md: start-up);
        /// any other form, options included, is parsed. Every option takes its default here, and
        /// the validation the parser would run runs.
        static func withoutOptions(_ arguments: [String]) throws -> Token? {
            guard arguments.count == 2 || arguments.count == 4 && arguments[2] == "--account" && !arguments[3].hasPrefix("-"),
                  arguments[0] == configuration.commandName, !arguments[1].hasPrefix("-") else { return nil }
            var token = Token()
            token.global = .defaults
            token.unlock = .defaults
            token.options = TokenOptions(server: arguments[1])
            if arguments.count == 4 { token.options.account = arguments[3] }
            try token.global.validate()
            try token.unlock.validate()
            try token.options.validate()
            try token.validate()
            return token
        }

        /// Run as Claude Code's `headersHelper`, the token goes to the entry's `url`, which Claude
        /// Code names in CLAUDE_CODE_MCP_SERVER_URL: a helper that names another server (a
        /// project's `.mcp.json` can pair any url with any helper) gets nothing.
        static func checkHeadersHelper(server: ServerURL, environment: [String: String]) throws {
            guard let asked = environment["CLAUDE_CODE_MCP_SERVER_URL"] else { return }
            guard let destination = try? ServerURL(asked), destination.origin == server.origin else {
                throw CLIError.helperForAnotherServer(asked: Console.printable(asked), named: server.canonical)
            }
        }

        /// Runs `token` in mcp-vault-oauth with the vault key handed over through a pipe.
        private func handOver(_ vault: Vault) -> Never {
            do {
                var arguments = ["token"] + options.arguments + ["--master-key-fd", String(try vault.handOverKey())]
                if global.verbose { arguments.append("--verbose") }
                if let directory = global.vaultDirectory { arguments += ["--vault-dir", directory] }
                OAuthProgram.exec(arguments: arguments)
            } catch {
                Glibc.exit(Console.report(error).rawValue)
            }
        }
    }
}
