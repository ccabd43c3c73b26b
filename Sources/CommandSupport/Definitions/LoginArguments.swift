import ArgumentParser
import Credentials
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The options of `mcp-vault login`, shared by mcp-vault (for its help, completions and manual) and
/// mcp-vault-oauth (which runs the command).
public struct LoginArguments: ParsableArguments {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Sign in to an OAuth-protected MCP server and seal the tokens.",
        discussion: """
            Discovers the server's authorization server (RFC 9728, RFC 8414), registers mcp-vault \
            (pre-registered, Client ID Metadata Document, or dynamic registration), opens the \
            authorization page in your browser ($BROWSER, else xdg-open; the URL is printed too) \
            and waits on 127.0.0.1 for the answer. The new token is checked against the MCP server \
            before it is sealed; a failed login leaves the stored record as it was.

            Examples:
              mcp-vault login https://mcp.example.com/mcp
              mcp-vault login https://mcp.example.com/mcp --name example
              mcp-vault login URL --account work --name linear-work
              mcp-vault login https://mcp.example.com/mcp --device
              mcp-vault login URL --client-id my-app --client-secret-file secret.txt

            Machine identities (no person, no browser; the next token comes from the same grant):
              mcp-vault login URL --grant client-credentials --client-id ID --client-secret-file F
              mcp-vault login URL --grant client-credentials --client-id ID --private-key-file K
              mcp-vault login URL --grant jwt-bearer --client-id ID --assertion-file F
              mcp-vault login URL --grant id-jag --client-id ID --client-secret-file F \\
                --idp-issuer ISS --idp-client-id IDP-ID --idp-id-token-file F
            """)

    @OptionGroup public var global: GlobalOptions
    @OptionGroup public var unlock: UnlockOptions

    @Argument(help: ArgumentHelp("The MCP server's URL (or the name of a server signed in to before).", valueName: "server"), completion: ServerCompletion.kind)
    public var serverURL: String

    @Option(help: ArgumentHelp("A name for the server (letters, digits, '.', '_', '-'), usable instead of its URL in every command.", valueName: "name"))
    public var name: String?

    @Option(help: ArgumentHelp("Sign in as another account of the same server (letters, digits, '.', '_', '-'): its own registration, tokens and refreshes. Default: the default account.", valueName: "name"))
    public var account: String?

    @Option(name: .customLong("scope"), help: ArgumentHelp("A scope to request (repeatable). Default: what the server asks for.", valueName: "scope"))
    public var scopes: [String] = []

    @Option(name: .customLong("client-id"), help: ArgumentHelp("Use this pre-registered client id.", valueName: "id"))
    public var clientID: String?

    @Option(name: .customLong("client-secret-file"), help: ArgumentHelp("Read the pre-registered client's secret from this file.", valueName: "file"))
    public var clientSecretFile: String?

    @Option(name: .customLong("client-auth-method"), help: ArgumentHelp(
        "How the pre-registered client authenticates: none, client_secret_post or client_secret_basic (default: basic with a secret, else none).",
        valueName: "method"))
    public var clientAuthMethod: String?

    @Option(name: .customLong("client-metadata-url"), help: ArgumentHelp("Use this Client ID Metadata Document URL as the client id.", valueName: "url"))
    public var clientMetadataURL: String?

    @Option(help: ArgumentHelp("authorization-code (a person signs in; the default), client-credentials, jwt-bearer or id-jag.", valueName: "grant"))
    public var grant: String = "authorization-code"

    @Option(name: .customLong("private-key-file"), help: ArgumentHelp("client-credentials with private_key_jwt: the client's private key (PEM, P-256 or RSA); sealed, the file is only read. Without it and without a secret, the key `mcp-vault keygen` made.", valueName: "file"))
    public var privateKeyFile: String?

    @Option(name: .customLong("signing-alg"), help: ArgumentHelp("private_key_jwt's algorithm: ES256 (a P-256 key) or RS256 (an RSA key); default: the key's.", valueName: "alg"))
    public var signingAlgorithm: String?

    @Option(name: .customLong("assertion-file"), help: ArgumentHelp("jwt-bearer: the file holding the workload's assertion (a JWT), read afresh at every token request.", valueName: "file"))
    public var assertionFile: String?

    @Option(name: .customLong("assertion-command"), help: ArgumentHelp("jwt-bearer: a command (run by /bin/sh) whose output is the assertion, run at every token request.", valueName: "command"))
    public var assertionCommand: String?

    @Option(name: .customLong("idp-issuer"), help: ArgumentHelp("id-jag: the enterprise IdP's issuer.", valueName: "url"))
    public var idpIssuer: String?

    @Option(name: .customLong("idp-client-id"), help: ArgumentHelp("id-jag: mcp-vault's client id at the IdP.", valueName: "id"))
    public var idpClientID: String?

    @Option(name: .customLong("idp-id-token-file"), help: ArgumentHelp("id-jag: an ID token from the IdP (sealed, and used for every server that trusts the IdP).", valueName: "file"))
    public var idpIDTokenFile: String?

    @Option(name: .customLong("idp-token-endpoint"), help: ArgumentHelp("id-jag: the IdP's token endpoint (default: from its OpenID configuration).", valueName: "url"))
    public var idpTokenEndpoint: String?

    @Flag(name: .customLong("no-dpop"), help: "Do not bind the tokens to a DPoP key, even when the server offers it (then `token` can print them; bound tokens only work through `proxy`).")
    public var noDPoP = false

    @Flag(name: .customLong("no-resource"), help: "Do not send the RFC 8707 resource parameter (for servers that reject it); remembered for refreshes.")
    public var noResource = false

    @Flag(name: .customLong("allow-unadvertised-pkce"), help: "Proceed when the server does not list code_challenge_methods_supported (PKCE S256 is still used).")
    public var allowUnadvertisedPKCE = false

    @Option(name: .customLong("callback-port"), help: ArgumentHelp("Listen for the redirect on this port of 127.0.0.1 (default: a free port).", valueName: "port"))
    public var callbackPort: Int?

    @Option(help: ArgumentHelp("Seconds to wait for the sign-in in the browser.", valueName: "seconds"))
    public var timeout: Int = 300

    @Flag(name: .customLong("no-browser"), help: "Only print the authorization URL; do not open a browser.")
    public var noBrowser = false

    @Flag(help: "Sign in with a device code (RFC 8628), on any other device. The default when there is no display and no $BROWSER and the server offers it.")
    public var device = false

    @Flag(help: "Print the authorization URL and read the address the browser ends on from standard input (for servers without device codes).")
    public var paste = false

    public func validate() throws {
        do { try ServerReference.validate(serverURL) } catch { throw ValidationError(error.description) }
        if clientSecretFile != nil && clientID == nil { throw ValidationError("--client-secret-file goes with --client-id") }
        if let method = clientAuthMethod, method == "private_key_jwt", grant != "client-credentials" {
            throw ValidationError("--client-auth-method private_key_jwt goes with --grant client-credentials")
        }
        switch grant {
        case "authorization-code":
            if privateKeyFile != nil || assertionFile != nil || assertionCommand != nil || idpIssuer != nil {
                throw ValidationError("--private-key-file, --assertion-file, --assertion-command and --idp-* go with --grant client-credentials, jwt-bearer or id-jag")
            }
        case "client-credentials":
            guard clientID != nil else { throw ValidationError("--grant client-credentials needs --client-id") }
            if clientSecretFile != nil && privateKeyFile != nil { throw ValidationError("give --client-secret-file or --private-key-file, not both") }
        case "jwt-bearer":
            guard clientID != nil else { throw ValidationError("--grant jwt-bearer needs --client-id") }
            guard (assertionFile == nil) != (assertionCommand == nil) else { throw ValidationError("--grant jwt-bearer needs --assertion-file or --assertion-command (one)") }
        case "id-jag":
            guard clientID != nil, clientSecretFile != nil else { throw ValidationError("--grant id-jag needs --client-id and --client-secret-file (the client at the MCP server's authorization server)") }
            guard idpIssuer != nil, idpClientID != nil else { throw ValidationError("--grant id-jag needs --idp-issuer and --idp-client-id") }
        default:
            throw ValidationError("--grant takes authorization-code, client-credentials, jwt-bearer or id-jag")
        }
        if let method = clientAuthMethod, !["none", "client_secret_post", "client_secret_basic", "private_key_jwt"].contains(method) {
            throw ValidationError("--client-auth-method takes none, client_secret_post, client_secret_basic or private_key_jwt")
        }
        if let algorithm = signingAlgorithm, !["ES256", "RS256"].contains(algorithm) { throw ValidationError("--signing-alg takes ES256 or RS256") }
        if let port = callbackPort, !(1...65535).contains(port) { throw ValidationError("--callback-port takes 1 to 65535") }
        if !(1...86_400).contains(timeout) { throw ValidationError("--timeout takes 1 to 86400 seconds") }
        if device && paste { throw ValidationError("Give --device or --paste, not both.") }
        do { _ = try ServerURL.account(account) } catch { throw ValidationError("--account: \(error)") }
        if let name, !ServerReference.isValidName(name) {
            throw ValidationError("--name takes 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")
        }
    }
}
