import ArgumentParser
import Credentials
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The options of `mcp-vault proxy`, shared by mcp-vault (for its help, completions and manual) and
/// mcp-vault-oauth (which runs the command).
public struct ProxyArguments: ParsableArguments {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "Serve a remote MCP server to a local MCP client over stdio, with the vault's token.",
        discussion: """
            MCP clients launch this as a local (stdio) server; it forwards every message to the remote \
            server over Streamable HTTP (or the older HTTP+SSE, chosen by itself when the server \
            refuses Streamable HTTP) and puts a token from the vault on every request, refreshing \
            it ahead of expiry under the record's lock shared with `mcp-vault token` and other \
            proxies. No client ever holds the token. The vault is unlocked once, at start, from the \
            session cache (`mcp-vault unlock`), the keyring, or --passphrase-file / --passphrase-fd: \
            standard input is the protocol, so it never asks. With no credentials, a locked vault or \
            a grant the server refused, each request gets a JSON-RPC error naming the command to \
            run; after a `mcp-vault login` or `unlock` in a terminal the same proxy serves again.

            Examples:
              mcp-vault proxy https://mcp.example.com/mcp
              mcp-vault proxy https://mcp.example.com/sse --transport sse
              mcp-vault proxy linear --header 'X-Team: blue'
              mcp-vault proxy https://mcp.example.com/mcp --account work
              mcp-vault proxy URL --header 'Authorization: Bearer {secret:api/KEY}'

            A header value may name secrets of the vault (`mcp-vault secret set NAME`) as \
            {secret:NAME}: they are filled in at start, which needs the vault unlocked then. An \
            Authorization header given so is sent instead of an OAuth token (for servers with a \
            static API key; no login needed); --no-token sends none (the key is in another header).
            """)

    @OptionGroup public var global: GlobalOptions
    @OptionGroup public var unlock: UnlockOptions

    @Argument(help: ArgumentHelp("The MCP server's URL, or its name (which needs the vault unlocked at start).", valueName: "server"), completion: ServerCompletion.kind)
    public var serverURL: String

    @Option(help: ArgumentHelp("auto (Streamable HTTP, else HTTP+SSE), streamable-http, or sse (the URL is the SSE endpoint).", valueName: "transport"))
    public var transport: String = "auto"

    @Option(help: ArgumentHelp("The account at the server (`login --account`); default: the default account.", valueName: "name"))
    public var account: String?

    @Option(name: .customLong("header"), help: ArgumentHelp("An extra request header, 'Name: value'; ${VAR} is taken from the environment, {secret:NAME} from the vault. Repeatable.", valueName: "header"))
    public var headers: [String] = []

    @Flag(name: .customLong("no-token"), help: "Send no OAuth token: for a server whose key comes in a --header (X-API-Key: {secret:NAME}, say).")
    public var noToken = false

    @Option(name: .customLong("ignore-tool"), help: ArgumentHelp("Leave this tool out of tools/list. Repeatable.", valueName: "name"))
    public var ignoredTools: [String] = []

    @Option(name: .customLong("min-ttl"), help: ArgumentHelp("Seconds each request's token must stay valid; refreshed ahead otherwise.", valueName: "seconds"))
    public var minimumTTL: Int64 = 60

    @Option(name: .customLong("max-message-size"), help: ArgumentHelp("The largest message in either direction, in bytes.", valueName: "bytes"))
    public var maximumMessageSize: Int = 16 << 20

    @Option(help: ArgumentHelp("Seconds to wait for a connection to the server.", valueName: "seconds"))
    public var timeout: Int64 = 30

    @Option(name: .customLong("ca-file"), help: ArgumentHelp("Also trust the certificates in this PEM file (a private CA).", valueName: "file"))
    public var caFile: String?

    @Flag(name: .customLong("no-resource"), help: "Accepted for mcp-remote's command lines; whether `resource` is sent is what `login --no-resource` stored.")
    public var noResource = false

    public func validate() throws {
        do { try ServerReference.validate(serverURL) } catch { throw ValidationError(error.description) }
        guard ["auto", "streamable-http", "sse"].contains(transport) else { throw ValidationError("--transport takes auto, streamable-http or sse") }
        do { _ = try ServerURL.account(account) } catch { throw ValidationError("--account: \(error)") }
        for header in headers {
            let parsed: (name: String, value: String)
            do { parsed = try SecretReferences.header(header) } catch { throw ValidationError("--header takes 'Name: value': \(error)") }
            if parsed.name.lowercased() == "authorization" && SecretReferences.names(in: parsed.value).isEmpty {
                throw ValidationError("--header cannot set Authorization in plain text: the token comes from the vault (a static key: `mcp-vault secret set NAME`, then 'Authorization: Bearer {secret:NAME}')")
            }
        }
        if !(0...31_536_000).contains(minimumTTL) { throw ValidationError("--min-ttl takes 0 to 31536000 seconds") }
        if !(1024...(1 << 30)).contains(maximumMessageSize) { throw ValidationError("--max-message-size takes 1024 to 1073741824 bytes") }
        if !(1...3600).contains(timeout) { throw ValidationError("--timeout takes 1 to 3600 seconds") }
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) { throw ValidationError("--ca-file \(caFile): no such readable file") }
    }
}
