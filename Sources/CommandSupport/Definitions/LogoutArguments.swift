import ArgumentParser
import Credentials
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The options of `mcp-vault logout`, shared by mcp-vault (for its help, completions and manual) and
/// mcp-vault-oauth (which runs the command).
public struct LogoutArguments: ParsableArguments {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "logout",
        abstract: "Revoke a server's tokens at the server (RFC 7009) and delete them.",
        discussion: """
            Without a revocation endpoint, or when the server cannot be reached, the record is deleted \
            anyway and mcp-vault says that the grant may live on at the server (exit status 5). A \
            record that cannot be read (damaged, or from an incompatible version) is removed too; \
            --damaged removes only such records.

            Examples:
              mcp-vault logout https://mcp.example.com/mcp
              mcp-vault logout https://mcp.example.com/mcp --account work
              mcp-vault logout --all --local-only --yes
              mcp-vault logout --damaged
            """)

    @OptionGroup public var global: GlobalOptions
    @OptionGroup public var unlock: UnlockOptions

    @Argument(help: ArgumentHelp("The MCP server's URL, or its name.", valueName: "server"), completion: ServerCompletion.kind)
    public var serverURL: String?

    @Option(help: ArgumentHelp("The account at the server (`login --account`); default: the default account.", valueName: "name"))
    public var account: String?

    @Flag(help: "Log out of every stored server.")
    public var all = false

    @Flag(help: "Remove every record that cannot be read (nothing else).")
    public var damaged = false

    @Flag(name: .customLong("local-only"), help: "Delete without revoking at the server.")
    public var localOnly = false

    @Flag(name: [.customShort("y"), .customLong("yes")], help: "With --all: do not ask for confirmation (needed without a terminal).")
    public var yes = false

    public func validate() throws {
        guard [serverURL != nil, all, damaged].filter({ $0 }).count == 1 else {
            throw ValidationError("Give a server URL, --all or --damaged.")
        }
        if all && !yes && !(Console.isTerminal(0) && Console.isTerminal(2)) {
            throw ValidationError("--all logs out of every stored server; without a terminal to confirm on, add --yes")
        }
        if let serverURL { do { try ServerReference.validate(serverURL) } catch { throw ValidationError(error.description) } }
        if account != nil && serverURL == nil { throw ValidationError("--account goes with a server URL") }
        do { _ = try ServerURL.account(account) } catch { throw ValidationError("--account: \(error)") }
    }
}
