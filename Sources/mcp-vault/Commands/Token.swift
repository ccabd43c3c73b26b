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
    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
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
                  curl -H "$(mcp-vault token --header https://mcp.example.com/mcp)" https://mcp.example.com/mcp
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var unlock: UnlockOptions

        @Argument(help: ArgumentHelp("The MCP server's URL.", valueName: "server-url"))
        var serverURL: String

        @Flag(help: "Print an HTTP header line, `Authorization: Bearer TOKEN`.")
        var header = false

        @Option(name: .customLong("challenge"), help: ArgumentHelp(
            "A WWW-Authenticate value an MCP client got with a 403 insufficient_scope: sign in again for the granted and the challenged scopes (opens the browser).",
            valueName: "value"))
        var challenge: String?

        @Option(name: .customLong("min-ttl"), help: ArgumentHelp("Seconds the token must stay valid; refresh otherwise.", valueName: "seconds"))
        var minimumTTL: Int64 = 60

        func validate() throws {
            do { _ = try ServerURL(serverURL) } catch { throw ValidationError(error.description) }
            if minimumTTL < 0 { throw ValidationError("--min-ttl takes 0 or more seconds") }
        }

        func run() async throws {
            try reportingErrors {
                let server = try ServerURL(serverURL)
                let vault = try unlock.access(global).unlock()
                if let challenge {
                    // Step-up needs the network and the browser: mcp-vault-oauth does it.
                    var arguments = ["token", serverURL, "--challenge", challenge, "--master-key-fd", String(try vault.handOverKey())]
                    if header { arguments.append("--header") }
                    if global.verbose { arguments.append("--verbose") }
                    if let directory = global.vaultDirectory { arguments += ["--vault-dir", directory] }
                    OAuthProgram.exec(arguments: arguments)
                }
                guard let record = try VaultAccess.credential(for: server, in: vault) else {
                    throw CredentialsError.noCredential(server: server.canonical)
                }
                let now = Int64(Date().timeIntervalSince1970)
                guard let tokens = record.tokens, !record.needsLogin else {
                    throw CLIError.noValidToken(server: server.canonical, reason: "the server needs a new login")
                }
                if let expiry = tokens.expiresAt, expiry - now < minimumTTL {
                    guard tokens.refreshToken != nil, record.endpoints.token != nil else {
                        throw CLIError.noValidToken(server: server.canonical, reason: expiry <= now
                            ? "the access token expired \(CredentialSummary.duration(now - expiry)) ago and cannot be refreshed"
                            : "the access token expires within \(minimumTTL) s and cannot be refreshed")
                    }
                    // Refreshing needs the network: hand the vault key to mcp-vault-oauth, which does it.
                    var arguments = ["token", serverURL, "--min-ttl", String(minimumTTL), "--master-key-fd", String(try vault.handOverKey())]
                    if header { arguments.append("--header") }
                    if global.verbose { arguments.append("--verbose") }
                    if let directory = global.vaultDirectory { arguments += ["--vault-dir", directory] }
                    OAuthProgram.exec(arguments: arguments)
                }
                Console.out(header ? "Authorization: Bearer \(tokens.accessToken)" : tokens.accessToken)
            }
        }
    }
}
