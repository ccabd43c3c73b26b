import ArgumentParser
import CommandSupport
import Credentials
import OAuth
import Session
import Vault
#if canImport(Glibc)
import Glibc
#endif

/// `mcp-vault login`.
extension LoginArguments: RunnableArguments {
    func run() async throws {
        let server: ServerURL
        let vault: Vault
        var request: LoginRequest
        do {
            do {
                vault = try unlock.access(global).unlock()
            } catch VaultError.noVault {
                vault = try VaultCreation.createOnFirstUse(global: global, unlock: unlock)
            }
            server = try ServerReference.resolve(serverURL, account: account, in: vault)
            if let name, let holder = try? ServerReference.resolve(name, in: vault), holder != server {
                throw CredentialsError.invalidServerURL(name, reason: "the name is already given to \(holder); choose another")
            }
            if grant != "authorization-code" {
                try await machineLogin(server: server, vault: vault)
                return
            }
            request = LoginRequest(serverURL: server.canonical)
            request.scopes = scopes.flatMap { $0.split(separator: " ").map(String.init) }
            request.sendResource = !noResource
            request.clientMetadataURL = clientMetadataURL
            request.allowUnadvertisedPKCE = allowUnadvertisedPKCE
            request.dpop = !noDPoP
            request.callbackPort = callbackPort
            request.timeoutSeconds = timeout
            request.mode = device ? .device : paste ? .paste : noBrowser ? .browser : .automatic
            let environment = global.environment
            request.canOpenBrowser = DesktopSession.canOpenBrowser(environment)
            if let clientID {
                let secret = try clientSecretFile.map { path in
                    try PassphraseInput.read(file: path).withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
                }
                request.preregistered = ClientCredentials(
                    clientID: clientID, clientSecret: secret,
                    authMethod: clientAuthMethod ?? (secret == nil ? "none" : "client_secret_basic"), source: "preregistered")
            }
        } catch {
            throw ExitCode(Console.report(error).rawValue)
        }
        let openBrowser = !noBrowser
        let environment = global.environment
        let waitSeconds = request.timeoutSeconds
        let loginRequest = request
        defer { Browser.removeRedirectFiles() }
        do {
            let httpTimeout = OAuthCommand.httpTimeout(global)
            let record = try await LoginService(logger: global.logger, httpTimeout: httpTimeout).login(
                loginRequest, server: server, vault: vault, name: name,
                present: Authorization.presenter(openBrowser: openBrowser, environment: environment, waitSeconds: waitSeconds),
                readPasted: Authorization.readPasted)
            let summary = CredentialSummary(record, now: record.updatedAt)
            Console.out("Signed in to \(server)")
            Console.out("  issuer     \(record.issuer ?? "-")")
            Console.out("  scopes     \(summary.scopes.isEmpty ? "-" : summary.scopes.joined(separator: " "))")
            Console.out("  token      \(summary.expiryText)")
        } catch {
            throw ExitCode(Console.report(error).rawValue)
        }
    }
    }

extension LoginArguments {
    /// `login --grant client-credentials | jwt-bearer | id-jag`: a machine identity, no person.
    func machineLogin(server: ServerURL, vault: Vault) async throws {
        func read(_ path: String) throws -> String {
            try PassphraseInput.read(file: path).withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        }
        let type = grant == "client-credentials" ? CredentialRecord.Grant.clientCredentials
            : grant == "jwt-bearer" ? CredentialRecord.Grant.jwtBearer : CredentialRecord.Grant.idJAG
        let secret = try clientSecretFile.map(read)
        var privateKey: String?
        if let privateKeyFile {
            let pem = String(decoding: try PlainFiles.read(privateKeyFile, limit: 64 * 1024), as: UTF8.self)
            do { privateKey = try SigningKey(pem: pem).pem } catch { throw ValidationError("--private-key-file \(privateKeyFile): \(error)") }
        } else if type == CredentialRecord.Grant.clientCredentials && secret == nil {
            // The key `mcp-vault keygen` made for this server.
            privateKey = try VaultAccess.credential(for: server, in: vault)?.grant?.privateKey
            guard privateKey != nil else {
                throw ValidationError("--grant client-credentials needs --client-secret-file or --private-key-file, or a key made by `mcp-vault keygen \(server.commandReference)`")
            }
        }
        if let privateKey, let signingAlgorithm, (try? SigningKey(pem: privateKey))?.algorithm != signingAlgorithm {
            throw ValidationError("--signing-alg \(signingAlgorithm) does not match the key (\((try? SigningKey(pem: privateKey))?.algorithm ?? "?"))")
        }
        let method = clientAuthMethod ?? (privateKey != nil ? "private_key_jwt" : secret != nil ? "client_secret_basic" : "none")
        var request = MachineLoginRequest(serverURL: server.canonical, grant: type, clientID: clientID ?? "", authMethod: method)
        request.clientSecret = secret
        request.privateKey = privateKey
        request.assertionFile = assertionFile.map { path in
            // Kept as an absolute path: later token requests run in any directory.
            guard !path.hasPrefix("/"), let directory = getcwd(nil, 0) else { return path }
            defer { free(directory) }
            return String(cString: directory) + "/" + path
        }
        request.assertionCommand = assertionCommand
        request.scope = scopes.isEmpty ? nil : scopes.flatMap { $0.split(separator: " ").map(String.init) }.joined(separator: " ")
        request.sendResource = !noResource
        request.dpop = !noDPoP
        let httpTimeout = OAuthCommand.httpTimeout(global)
        if type == CredentialRecord.Grant.idJAG, let idpIssuer, let idpClientID {
            let endpoint: String
            if let idpTokenEndpoint {
                endpoint = idpTokenEndpoint
            } else {
                endpoint = try await MachineGrants.idpTokenEndpoint(issuer: idpIssuer, httpTimeout: httpTimeout)
            }
            request.idp = .init(issuer: idpIssuer, clientID: idpClientID, tokenEndpoint: endpoint)
            request.idpIDToken = try idpIDTokenFile.map(read)
        }
        let record = try await MachineGrants(logger: global.logger, httpTimeout: httpTimeout).login(request, server: server, vault: vault, name: name)
        let summary = CredentialSummary(record, now: record.updatedAt)
        Console.out("Signed in to \(server) as \(request.clientID)")
        Console.out("  grant      \(record.grant?.displayName ?? "-")")
        Console.out("  issuer     \(record.issuer ?? "-")")
        Console.out("  token      \(summary.expiryText)\(record.dpopKey != nil ? ", bound to a DPoP key (only `mcp-vault proxy` can use it)" : "")")
    }
}

extension OAuthError: ExitStatusProviding {
    public var exitStatus: ExitStatus {
    switch self {
    case .timeout, .timedOutWaitingForBrowser: .temporaryFailure
    case .network, .callbackPortBusy: .unavailable
    case .cancelled: .failure
    default: .oauthRefused
    }
    }

    public var hint: String? {
    switch self {
    case .callbackPortBusy: "leave out --callback-port to use any free port"
    case .needsSomeone(let server, let scope): "run `mcp-vault login \(server) --scope '\(scope)'` in a terminal"
    case .timedOutWaitingForBrowser:
        "without a browser on this machine, sign in with --device (on any device, when the server offers it) or --paste (in any browser, then paste the address it ends on); --timeout gives more time"
    case .pkceNotAdvertised: "if you trust this server, retry with --allow-unadvertised-pkce"
    case .noRegistration: "ask the server's operator for a client id, then pass --client-id (and --client-secret-file)"
    default: nil
    }
    }
}

/// Showing the user what to do: open a URL (in the browser, or anywhere, then paste), or enter a
/// device code.
enum Authorization {
    static func presenter(openBrowser: Bool, environment: [String: String], waitSeconds: Int) -> @Sendable (LoginFlow.Prompt) async -> Void {
        { prompt in
            switch prompt {
            case .browser(let url, let port):
                Console.note("Open this URL to sign in:\n\n  \(url)\n")
                if openBrowser && !Browser.open(url, environment: environment) {
                    Console.note("(no browser could be started; open the URL yourself)")
                }
                if environment["SSH_CONNECTION"] != nil {
                    Console.note("Over SSH, with the browser on your own machine: forward the callback port first, with\n  ssh -L \(port):127.0.0.1:\(port) <this host>\nor sign in with --device or --paste instead.")
                }
                Console.note("Waiting for the authorization response on 127.0.0.1:\(port) (up to \(waitSeconds) s); press Ctrl-C to cancel.")
            case .paste(let url):
                Console.note("Open this URL in a browser on any machine and sign in:\n\n  \(url)\n")
                Console.note("The browser then ends on an address starting with http://127.0.0.1 that does not load. Paste that whole address here and press Enter:")
            case .device(let uri, let complete, let userCode, let expiresIn):
                Console.note("On any device, open \(uri) and enter the code\n\n  \(userCode)\n")
                if let complete { Console.note("(or open \(complete), which carries the code)") }
                Console.note("Waiting for the approval (the code expires in \(expiresIn / 60) min); press Ctrl-C to cancel.")
            }
        }
    }

    /// Reads the pasted address from standard input.
    static let readPasted: @Sendable () async throws -> String = {
        guard let line = readLine() else { throw OAuthError.cancelled }
        return line
    }
}
