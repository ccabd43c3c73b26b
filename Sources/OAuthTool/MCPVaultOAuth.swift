import ArgumentParser
import CommandSupport
import Vault

/// The commands of mcp-vault that talk to servers, in their own program: `mcp-vault` execs it
/// (with the same arguments), so that the commands run on every MCP request do not load the HTTP
/// and TLS libraries these need.
@main
struct MCPVaultOAuth: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp-vault",
        abstract: "The networking commands of mcp-vault (run through `mcp-vault`).",
        version: ProgramVersion.current,
        subcommands: [Login.self, Token.self, Logout.self, ProxyCommand.self, RefreshWorkerCommand.self])

    static func main() async {
        await CommandLineProgram.run(Self.self)
    }
}
