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
        subcommands: [Running<LoginArguments>.self, Token.self, Running<LogoutArguments>.self, Running<ProxyArguments>.self, Running<KeygenArguments>.self,
                      RefreshWorkerCommand.self])

    static func main() async {
        await CommandLineProgram.run(Self.self)
    }
}

/// A shared command's arguments that this program can run.
protocol RunnableArguments: SharedCommandArguments {
    func run() async throws
}

/// `login`, `logout` and `proxy`: their definitions are shared with mcp-vault, which hands them here.
struct Running<Arguments: RunnableArguments>: AsyncParsableCommand {
    static var configuration: CommandConfiguration { Arguments.configuration }

    @OptionGroup var arguments: Arguments

    func run() async throws {
        try await arguments.run()
    }
}
