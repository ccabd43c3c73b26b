import ArgumentParser
import CommandSupport
import Vault
#if canImport(Glibc)
import Glibc
#endif

@main
struct MCPVault: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp-vault",
        abstract: "Sign in to OAuth-protected MCP servers and keep their tokens sealed.",
        discussion: """
            The vault lives in $MCP_VAULT_DIR, else ${XDG_DATA_HOME:-~/.local/share}/mcp-vault. Its key is \
            kept in the desktop keyring (Secret Service) and/or behind a passphrase.

            Get started:
              mcp-vault init
              mcp-vault status
              mcp-vault doctor
            """,
        version: ProgramVersion.current,
        subcommands: [Init.self, HandedOver<LoginArguments>.self, HandedOver<LogoutArguments>.self, Status.self, Token.self,
                      HandedOver<ProxyArguments>.self, HandedOver<KeygenArguments>.self, Run.self, Secret.self, Migrate.self, Setup.self, Unlock.self, Lock.self, Passphrase.self, Keyring.self, Doctor.self]
    )

    static func main() {
        // `--version` alone answers before anything is set up (scripts and packagers run it often).
        if CommandLine.arguments.count == 2 && CommandLine.arguments[1] == "--version" {
            print(ProgramVersion.current)
            return
        }
        // `login` and `logout` live in mcp-vault-oauth (with the HTTP and TLS libraries); hand over before
        // anything else, so it sees the environment (MCP_VAULT_PASSPHRASE included) unchanged.
        if CommandLine.arguments.count > 1 && ["login", "logout", "proxy", "keygen"].contains(CommandLine.arguments[1]) {
            OAuthProgram.exec(arguments: Array(CommandLine.arguments.dropFirst()))
        }
        CommandLineProgram.run(Self.self) { arguments in try Token.withoutOptions(arguments) ?? Run.withoutOptions(arguments) }
    }
}
