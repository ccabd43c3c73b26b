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
                Prints the access token and a newline to standard output, and nothing else; \
                --header prints `Authorization: Bearer TOKEN`. An expired token is not printed: the \
                command says so on standard error and exits with status 3.

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

        func validate() throws {
            do { _ = try ServerURL(serverURL) } catch { throw ValidationError(error.description) }
        }

        func run() async throws {
            try reportingErrors {
                let server = try ServerURL(serverURL)
                let vault = try unlock.access(global).unlock()
                guard let record = try VaultAccess.credential(for: server, in: vault) else {
                    throw CredentialsError.noCredential(server: server.canonical)
                }
                let now = Int64(Date().timeIntervalSince1970)
                guard let tokens = record.tokens, !record.needsLogin else {
                    throw CLIError.noValidToken(server: server.canonical, reason: "the server needs a new login")
                }
                if let expiry = tokens.expiresAt, expiry <= now {
                    throw CLIError.noValidToken(server: server.canonical,
                                                reason: "the access token expired \(CredentialSummary.duration(now - expiry)) ago")
                }
                Console.out(header ? "Authorization: Bearer \(tokens.accessToken)" : tokens.accessToken)
            }
        }
    }
}
