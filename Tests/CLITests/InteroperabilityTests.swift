import AuthorizationServer
import Credentials
import Foundation
import Testing
import TestSupport

@Suite("Interoperability: servers that behave like ones we did not write")
struct InteroperabilityTests {
    /// The MCP Python SDK's metadata lists only secret-based methods, yet registers public clients.
    @Test func metadataWithoutNoneStillGetsAPublicClient() async throws {
        let session = try ServerSession(try await TestAuthorizationServer {
            $0.omitNoneAuthMethod = true
            $0.requireClientIDInForm = true
        })
        let login = try await session.login()
        #expect(login.status == 0, "\(login)")
        let client = try #require(try session.record().client)
        #expect(client.authMethod == "none" && client.clientSecret == nil, "\(client.authMethod)")
        try session.expireAccessToken()
        let refreshed = try await session.token()
        #expect(refreshed.status == 0, "\(refreshed)")
        #expect(try await session.server.stats()["refresh_requests"] == 1)
    }

    /// With Basic, client_id goes in the form too: the Python SDK's token endpoint wants it there.
    @Test func aBasicClientAlsoSendsItsIDInTheForm() async throws {
        let session = try ServerSession(try await TestAuthorizationServer {
            $0.dynamicRegistration = false
            $0.requireClientIDInForm = true
            $0.preregisteredClients = [RegisteredClient(id: "pre-basic", secret: "basic-secret", authMethod: "client_secret_basic")]
        })
        try "basic-secret\n".write(toFile: session.fixture.home.file("secret"), atomically: true, encoding: .utf8)
        let login = try await session.login(["--client-id", "pre-basic", "--client-secret-file", session.fixture.home.file("secret")])
        #expect(login.status == 0, "\(login)")
        try session.expireAccessToken()
        #expect(try await session.token().status == 0, "the refresh authenticates the same way")
        #expect(try await session.server.stats()["refresh_requests"] == 1)
    }

    /// A server whose dynamic registration refuses public clients gets the secret-based method it lists.
    @Test func aRegistrationRefusedForNoneFallsBackToTheListedMethod() async throws {
        let session = try ServerSession(try await TestAuthorizationServer {
            $0.omitNoneAuthMethod = true
            $0.refusePublicRegistration = true
        })
        let login = try await session.login()
        #expect(login.status == 0, "\(login)")
        #expect(try session.record().client?.authMethod == "client_secret_post")
        #expect(try await session.server.stats()["registrations"] == 1)
    }

    /// RFC 9728 section 3.3: the metadata at the origin's root may name the origin as the resource.
    @Test func resourceMetadataAtTheRootNamingTheOriginIsAccepted() async throws {
        let session = try ServerSession(try await TestAuthorizationServer { $0.resourceMetadata = .rootOnlyOriginResource })
        let login = try await session.login()
        #expect(login.status == 0, "\(login)")
        let record = try session.record()
        #expect(record.resource == session.server.origin, "the origin is the RFC 8707 resource from then on")
        try session.expireAccessToken()
        #expect(try await session.token().status == 0)
    }

    @Test func loginInAFreshHomeCreatesTheVault() async throws {
        let session = try ServerSession(try await TestAuthorizationServer(), createVault: false)
        #expect(!FileManager.default.fileExists(atPath: session.fixture.vaultPath))
        let login = try await session.login()
        #expect(login.status == 0, "\(login)")
        #expect(login.stderr.contains("There is no vault at \(session.fixture.vaultPath) yet; creating one."), "\(login)")
        let token = try await session.token()
        #expect(token.status == 0, "\(token)")
        #expect(try await session.server.accepts(token.stdout.trimmingCharacters(in: .newlines)))
    }
}
