import ArgumentParser
import Credentials
import Vault

/// The options of `token`, shared by `mcp-vault` (which serves fresh tokens) and
/// `mcp-vault-oauth` (which refreshes and steps up).
public struct TokenOptions: ParsableArguments {
    public init() {}

    /// The options as `token SERVER` gives them: every one at its default.
    public init(server: String) {
        serverURL = server
        header = false
        format = .token
        minimumTTL = Self.defaultMinimumTTL
        challenge = nil
        noBrowser = false
        timeout = Self.defaultTimeout
        account = nil
        extraHeaders = []
    }

    @Argument(help: ArgumentHelp("The MCP server's URL, or the name it was given (`login --name`).", valueName: "server"), completion: ServerCompletion.kind)
    public var serverURL: String

    @Option(help: ArgumentHelp("The account at the server (`login --account`); default: the default account.", valueName: "name"))
    public var account: String?

    @Flag(help: "Print an HTTP header line, `Authorization: Bearer TOKEN` (the same as --format header).")
    public var header = false

    @Option(help: ArgumentHelp(
        "token (the bare token), header (`Authorization: Bearer TOKEN`) or json (`{\"Authorization\":\"Bearer TOKEN\"}`, the headers-helper contract of Claude Code and Codex).",
        valueName: "format"))
    public var format: TokenFormat = .token

    public enum TokenFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
        case token, header, json
    }

    @Option(name: .customLong("with-header"), help: ArgumentHelp(
        "With --format json: another header to print, 'Name: value', where {secret:NAME} is the vault's secret NAME (`secret set`). An Authorization header given so replaces the OAuth token (no login needed). Repeatable.",
        valueName: "header"))
    public var extraHeaders: [String] = []

    @Option(name: .customLong("min-ttl"), help: ArgumentHelp("Seconds the token must stay valid; refresh otherwise.", valueName: "seconds"))
    public var minimumTTL: Int64 = Self.defaultMinimumTTL
    public static let defaultMinimumTTL: Int64 = 60

    @Option(name: .customLong("challenge"), help: ArgumentHelp(
        "A WWW-Authenticate value an MCP client got with a 403 insufficient_scope: sign in again for the granted and the challenged scopes (opens the browser).",
        valueName: "value"))
    public var challenge: String?

    @Flag(name: .customLong("no-browser"), help: "With --challenge: only print the authorization URL.")
    public var noBrowser = false

    @Option(help: ArgumentHelp("With --challenge: seconds to wait for the authorization (10 to 3600).", valueName: "seconds"))
    public var timeout: Int64 = Self.defaultTimeout
    public static let defaultTimeout: Int64 = 300

    public func validate() throws {
        do { try ServerReference.validate(serverURL) } catch { throw ValidationError(error.description) }
        do { _ = try ServerURL.account(account) } catch { throw ValidationError("--account: \(error)") }
        if !extraHeaders.isEmpty && (format != .json || header) { throw ValidationError("--with-header goes with --format json") }
        if !extraHeaders.isEmpty && challenge != nil { throw ValidationError("--with-header does not go with --challenge") }
        for header in extraHeaders {
            do { _ = try SecretReferences.header(header) } catch { throw ValidationError("--with-header: \(error)") }
        }
        if !(0...31_536_000).contains(minimumTTL) { throw ValidationError("--min-ttl takes 0 to 31536000 seconds (a year)") }
        if !(10...3600).contains(timeout) { throw ValidationError("--timeout takes 10 to 3600 seconds") }
        if let challenge, !challenge.lowercased().contains("bearer") || !challenge.contains("scope") {
            throw ValidationError("--challenge takes the WWW-Authenticate value of a 403 insufficient_scope answer (Bearer error=\"insufficient_scope\", scope=\"…\")")
        }
    }

    /// These options as arguments again, to hand on to mcp-vault-oauth.
    public var arguments: [String] {
        var arguments = [serverURL, "--min-ttl", String(minimumTTL), "--format", format.rawValue]
        if header { arguments.append("--header") }
        if let account { arguments += ["--account", account] }
        for extra in extraHeaders { arguments += ["--with-header", extra] }
        if let challenge { arguments += ["--challenge", challenge, "--timeout", String(timeout)] }
        if noBrowser { arguments.append("--no-browser") }
        return arguments
    }

    /// The line to print for `token`; `extra` are the --with-header headers, their secrets filled in.
    public func output(_ token: String, extra: [(name: String, value: String)] = []) -> String {
        switch header ? .header : format {
        case .token: token
        case .header: "Authorization: Bearer \(token)"
        case .json: Self.json([("Authorization", "Bearer " + token)] + extra)
        }
    }

    /// Headers as one JSON object, in order.
    public static func json(_ headers: [(name: String, value: String)]) -> String {
        "{" + headers.map { JSONText.quoted($0.name) + ":" + JSONText.quoted($0.value) }.joined(separator: ",") + "}"
    }
}
