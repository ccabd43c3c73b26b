import ArgumentParser
import Credentials

/// The options of `mcp-vault keygen`, shared by mcp-vault (help, completions, manual) and
/// mcp-vault-oauth (which runs it: the P-256 code lives there).
public struct KeygenArguments: ParsableArguments {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make a P-256 key for private_key_jwt inside the vault and print its public key.",
        discussion: """
            The private key is made and sealed in the server's record: it never exists as a file. \
            Register the public key (printed as a JWK and as PEM) with the authorization server for \
            your client, then sign in with `mcp-vault login SERVER --grant client-credentials \
            --client-id ID`. Run again, it prints the same public key; --replace makes a new key.

            Examples:
              mcp-vault keygen https://mcp.example.com/mcp
              mcp-vault keygen https://mcp.example.com/mcp --account ci --replace
            """)

    @OptionGroup public var global: GlobalOptions
    @OptionGroup public var unlock: UnlockOptions

    @Argument(help: ArgumentHelp("The MCP server's URL, or its name.", valueName: "server"), completion: ServerCompletion.kind)
    public var serverURL: String

    @Option(help: ArgumentHelp("The account at the server (`login --account`).", valueName: "name"))
    public var account: String?

    @Flag(help: "Make a new key in place of the one there is (the old one stops working once you register the new one).")
    public var replace = false

    public func validate() throws {
        do { try ServerReference.validate(serverURL) } catch { throw ValidationError(error.description) }
        do { _ = try ServerURL.account(account) } catch { throw ValidationError("--account: \(error)") }
    }
}

extension KeygenArguments: SharedCommandArguments {}
