import AuthorizationServer
import Foundation
import Testing
import TestSupport

/// A passphrase vault and a login command whose "browser" follows the authorization redirect.
private struct Login {
    let fixture: VaultFixture

    init() throws {
        fixture = try VaultFixture()
        try fixture.createPassphraseVault()
    }

    func run(_ url: String, _ extra: [String] = [], browser: String = "/usr/bin/curl -sL",
             environment: [String: String] = [:]) async throws -> ProcessResult {
        try await runAsync(Binaries.mcpVault, ["login", url, "--passphrase-file", fixture.passphraseFile, "--timeout", "20"] + extra,
                           environment: fixture.environment.merging(["BROWSER": browser, "MCP_VAULT_HTTP_TIMEOUT": "5"]) { $1 }
                               .merging(environment) { $1 })
    }

    func token(_ url: String) throws -> ProcessResult {
        try fixture.mcpVault(["token", url, "--passphrase-file", fixture.passphraseFile])
    }

    func status(_ url: String) throws -> ProcessResult {
        try fixture.mcpVault(["status", url, "--passphrase-file", fixture.passphraseFile])
    }
}

@Suite("Login against the bundled authorization server")
struct LoginTests {
    enum Variant: String, CaseIterable, CustomTestStringConvertible {
        case standard, resourceMetadataOnlyAtRoot, resourceMetadataOnlyViaHeader, issuerWithPath, openIDConnectOnly
        case openIDConnectOnlyWithPath, noResourceMetadata
        var testDescription: String { rawValue }

        func configure(_ options: inout ServerOptions) {
            switch self {
            case .standard: break
            case .resourceMetadataOnlyAtRoot: options.resourceMetadata = .rootOnly
            case .resourceMetadataOnlyViaHeader: options.resourceMetadata = .headerOnly
            case .issuerWithPath: options.issuerPath = "/tenant"
            case .openIDConnectOnly: options.oauthMetadata = false
            case .openIDConnectOnlyWithPath:
                options.oauthMetadata = false
                options.issuerPath = "/tenant"
            case .noResourceMetadata: options.resourceMetadata = .nowhere
            }
        }
    }

    @Test(arguments: Variant.allCases)
    func loginWorksForEveryDiscoveryVariant(_ variant: Variant) async throws {
        let server = try await TestAuthorizationServer { variant.configure(&$0) }
        let login = try Login()
        let result = try await login.run(server.mcpURL)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("Signed in to \(server.mcpURL)"))
        let issuer = variant == .issuerWithPath || variant == .openIDConnectOnlyWithPath ? server.origin + "/tenant" : server.origin
        #expect(result.stdout.contains("issuer     \(issuer)\n"), "\(result)")
        let token = try login.token(server.mcpURL)
        #expect(token.status == 0)
        #expect(try await server.accepts(token.stdout.trimmingCharacters(in: .newlines)))
    }

    @Test(arguments: ["none", "client_secret_post", "client_secret_basic"])
    func preregisteredClientsAuthenticateAsRegistered(_ method: String) async throws {
        let secret = method == "none" ? nil : "s3cret-for-\(method)"
        let server = try await TestAuthorizationServer {
            $0.dynamicRegistration = false
            $0.preregisteredClients = [RegisteredClient(id: "pre-\(method)", secret: secret, authMethod: method)]
        }
        let login = try Login()
        var arguments = ["--client-id", "pre-\(method)", "--client-auth-method", method]
        if let secret {
            try (secret + "\n").write(toFile: login.fixture.home.file("client-secret"), atomically: true, encoding: .utf8)
            arguments += ["--client-secret-file", login.fixture.home.file("client-secret")]
        }
        let result = try await login.run(server.mcpURL, arguments)
        #expect(result.status == 0, "\(result)")
        #expect(try login.status(server.mcpURL).stdout.contains("client id  pre-\(method)"))
        if let secret { #expect(!result.output.contains(secret)) }
    }

    @Test func aClientIDMetadataDocumentIsUsedAsTheClientID() async throws {
        let server = try await TestAuthorizationServer {
            $0.dynamicRegistration = false
            $0.clientIDMetadataDocuments = true
        }
        let login = try Login()
        let result = try await login.run(server.mcpURL, ["--client-metadata-url", "https://client.example.com/mcp-vault.json"])
        #expect(result.status == 0, "\(result)")
        #expect(try login.status(server.mcpURL).stdout.contains("client id  https://client.example.com/mcp-vault.json"))
    }

    @Test func aDynamicRegistrationIsReusedOnTheNextLogin() async throws {
        let server = try await TestAuthorizationServer()
        let login = try Login()
        #expect(try await login.run(server.mcpURL).status == 0)
        let first = try login.status(server.mcpURL).stdout
        let again = try await login.run(server.mcpURL, ["--verbose"])
        #expect(again.status == 0, "\(again)")
        let second = try login.status(server.mcpURL).stdout
        let clientLine = { (text: String) in text.split(separator: "\n").first { $0.contains("client id") } }
        #expect(clientLine(first) != nil)
        // The registration names its callback port; on a busy machine another program may hold
        // that port by the second login, and then (only then) a new registration is right.
        if !again.stderr.contains("which the kept client registration names, is in use") {
            #expect(clientLine(first) == clientLine(second), "\(first)\n\(second)")
        } else {
            #expect(clientLine(first) != clientLine(second))
        }
    }

    @Test func noDynamicRegistrationAndNoClientIDIsAClearError() async throws {
        let server = try await TestAuthorizationServer { $0.dynamicRegistration = false }
        let result = try await Login().run(server.mcpURL)
        #expect(result.status == 4, "\(result)")
        #expect(result.stderr.contains("pass --client-id"))
    }
}

@Suite("Login refusals")
struct LoginRefusalTests {
    /// Runs a login that must fail with `message`, over a record already stored for that server,
    /// which must survive.
    private func expectRefusal(_ configure: @escaping (inout ServerOptions) -> Void, arguments: [String] = [], browser: String? = nil,
                               message: String, authorizationRequestsAllowed: Bool = true,
                               sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let server = try await TestAuthorizationServer(configure)
        let login = try Login()
        try storeCredential(login.fixture, url: server.mcpURL, token: "the-earlier-token", expiresIn: 3600)
        let failed = try await login.run(server.mcpURL, arguments, browser: browser ?? "/usr/bin/curl -sL")
        #expect(failed.status != 0, "\(failed)", sourceLocation: sourceLocation)
        #expect(failed.stderr.contains(message), "\(failed)", sourceLocation: sourceLocation)
        #expect(try login.token(server.mcpURL).stdout == "the-earlier-token\n", "the earlier record survives", sourceLocation: sourceLocation)
        if !authorizationRequestsAllowed {
            #expect(try await server.stats()["authorization_requests"] == 0, "no request past the refusal", sourceLocation: sourceLocation)
        }
    }

    @Test func anIssWithATrailingSlashIsRefused() async throws {
        // RFC 9207: a simple string comparison; "http://127.0.0.1:PORT/" is not the issuer.
        try await expectRefusal({ $0.issParameter = .trailingSlash }, message: "/, not http://127.0.0.1:")
    }

    @Test func aMissingIssIsRefusedWhenTheServerAdvertisesIt() async throws {
        try await expectRefusal({ $0.issParameter = .absentButAdvertised }, message: "lacks the iss parameter")
    }

    @Test func aResourceMismatchStopsBeforeAnyAuthorizationRequest() async throws {
        try await expectRefusal({ $0.resourceOverride = "https://other.example.com/mcp" }, message: "is for https://other.example.com/mcp",
                                authorizationRequestsAllowed: false)
    }

    @Test func missingS256IsRefused() async throws {
        try await expectRefusal({ $0.codeChallengeMethods = ["plain"] }, message: "does not support PKCE with S256",
                                authorizationRequestsAllowed: false)
    }

    @Test func unadvertisedPKCEIsRefusedUnlessAllowed() async throws {
        try await expectRefusal({ $0.codeChallengeMethods = nil }, message: "code_challenge_methods_supported is missing",
                                authorizationRequestsAllowed: false)
        let server = try await TestAuthorizationServer { $0.codeChallengeMethods = nil }
        let allowed = try await Login().run(server.mcpURL, ["--allow-unadvertised-pkce"])
        #expect(allowed.status == 0, "\(allowed)")
    }

    @Test func aPlainHTTPEndpointOnAnotherHostIsRefused() async throws {
        try await expectRefusal({ $0.insecureTokenEndpoint = true }, message: "http://auth.example.com/token is not https",
                                authorizationRequestsAllowed: false)
    }

    @Test func accessDeniedIsReportedWithTheServersText() async throws {
        try await expectRefusal({ $0.authorizationError = "access_denied" }, message: "authorization failed: access_denied (the server says: The user denied the request)")
    }

    @Test func invalidGrantOnTheTokenEndpointIsReported() async throws {
        try await expectRefusal({ $0.tokenError = "invalid_grant" }, message: "refused: invalid_grant")
    }

    @Test func malformedMetadataIsReported() async throws {
        try await expectRefusal({ $0.malformedMetadata = true }, message: "malformed", authorizationRequestsAllowed: false)
    }

    @Test func anOversizedResponseIsRefused() async throws {
        try await expectRefusal({ $0.oversizedMetadata = true }, message: "larger than 1048576 bytes", authorizationRequestsAllowed: false)
    }

    @Test func aServerThatNeverAnswersTimesOut() async throws {
        try await expectRefusal({ $0.metadataDelay = 30 }, arguments: [], message: "did not answer in time", authorizationRequestsAllowed: false)
    }

    @Test func aBusyCallbackPortIsNamed() async throws {
        let blocker = try await TestAuthorizationServer()
        try await expectRefusal({ _ in }, arguments: ["--callback-port", String(blocker.port)], message: "port \(blocker.port) on 127.0.0.1 is in use")
    }
}

@Suite("Login: registration lifecycle")
struct LoginRegistrationTests {
    @Test func aRegistrationTheServerForgotIsReplaced() async throws {
        let server = try await TestAuthorizationServer()
        let login = try Login()
        #expect(try await login.run(server.mcpURL).status == 0)
        let first = try login.status(server.mcpURL).stdout
        _ = try await runAsync("/usr/bin/curl", ["-s", "-X", "POST", server.origin + "/test/expire-clients"], environment: [:])
        let again = try await login.run(server.mcpURL, ["--verbose"])
        #expect(again.status == 0, "\(again)")
        #expect(again.stderr.contains("registering again"), "\(again)")
        let second = try login.status(server.mcpURL).stdout
        let clientLine = { (text: String) in text.split(separator: "\n").first { $0.contains("client id") } }
        #expect(clientLine(first) != clientLine(second))
    }
}
