import ArgumentParser
import Credentials

/// The options of `token`, shared by `mcp-vault` (which serves fresh tokens) and
/// `mcp-vault-oauth` (which refreshes and steps up).
public struct TokenOptions: ParsableArguments {
    public init() {}

    @Argument(help: ArgumentHelp("The MCP server's URL.", valueName: "server-url"))
    public var serverURL: String

    @Flag(help: "Print an HTTP header line, `Authorization: Bearer TOKEN`.")
    public var header = false

    @Option(name: .customLong("min-ttl"), help: ArgumentHelp("Seconds the token must stay valid; refresh otherwise.", valueName: "seconds"))
    public var minimumTTL: Int64 = 60

    @Option(name: .customLong("challenge"), help: ArgumentHelp(
        "A WWW-Authenticate value an MCP client got with a 403 insufficient_scope: sign in again for the granted and the challenged scopes (opens the browser).",
        valueName: "value"))
    public var challenge: String?

    public func validate() throws {
        do { _ = try ServerURL(serverURL) } catch { throw ValidationError(error.description) }
        if !(0...31_536_000).contains(minimumTTL) { throw ValidationError("--min-ttl takes 0 to 31536000 seconds (a year)") }
    }

    /// These options as arguments again, to hand on to mcp-vault-oauth.
    public var arguments: [String] {
        var arguments = [serverURL, "--min-ttl", String(minimumTTL)]
        if header { arguments.append("--header") }
        if let challenge { arguments += ["--challenge", challenge] }
        return arguments
    }

    /// The line to print for `token`.
    public func output(_ token: String) -> String {
        header ? "Authorization: Bearer \(token)" : token
    }
}
