import AuthorizationServer
import Foundation
import Testing
import TestSupport

/// The bundled server's "admin" tool answers 403 insufficient_scope without mcp:admin.
private let adminChallenge = #"Bearer error="insufficient_scope", scope="mcp:read mcp:admin""#

@Suite("Step-up limits across processes")
struct StepUpLimitTests {
    @Test func aStepUpAfterAPreregisteredLoginRegistersNothing() async throws {
        let session = try ServerSession(try await TestAuthorizationServer {
            $0.preregisteredClients = [RegisteredClient(id: "pre-public", secret: nil, authMethod: "none")]
        })
        #expect(try await session.login(["--client-id", "pre-public", "--scope", "mcp:read"]).status == 0)
        let stepUp = try await session.token(["--challenge", adminChallenge])
        #expect(stepUp.status == 0, "\(stepUp)")
        #expect(try session.record().client?.clientID == "pre-public")
        let stats = try await session.server.stats()
        #expect(stats["registrations"] == 0, "\(stats)")
        #expect(stats["authorization_requests"] == 2, "the login and one step-up: \(stats)")
    }

    @Test func challengesForAScopeTheGrantHoldsAuthorizeNothing() async throws {
        let session = try ServerSession(try await TestAuthorizationServer())
        #expect(try await session.login(["--scope", "mcp:read mcp:admin"]).status == 0)
        for _ in 0..<3 {
            let result = try await session.token(["--challenge", adminChallenge])
            #expect(result.status == 4, "\(result)")
            #expect(result.stderr.contains("already holds mcp:read mcp:admin; the server refused the token for another reason"), "\(result)")
        }
        #expect(try await session.server.stats()["authorization_requests"] == 1, "only the login")
    }

    @Test func challengesForAWithheldScopeStopAtTheLimitAcrossProcesses() async throws {
        let session = try ServerSession(try await TestAuthorizationServer { $0.withheldScopes = ["mcp:admin"] })
        #expect(try await session.login().status == 0)
        var outputs: [ProcessResult] = []
        for _ in 0..<3 {
            outputs.append(try await session.token(["--challenge", adminChallenge]))
        }
        #expect(outputs.allSatisfy { $0.status == 4 }, "\(outputs)")
        #expect(outputs[0].stderr.contains("wants more scope"), "\(outputs[0])")
        #expect(outputs[2].stderr.contains("2 authorizations for mcp:admin mcp:read"), "\(outputs[2])")
        #expect(outputs[2].stderr.contains("mcp-vault login \(session.url) --scope 'mcp:admin mcp:read'"), "\(outputs[2])")
        #expect(try await session.server.stats()["authorization_requests"] == 1 + StepUpLimit.attempts, "the login, then the limit")
        #expect(try session.record().stepUp?.attempts == StepUpLimit.attempts)
        // A login by the user ends the count.
        #expect(try await session.login().status == 0)
        #expect(try session.record().stepUp == nil)
    }
}

/// The documented limit (README, `token --challenge`).
private enum StepUpLimit {
    static let attempts = 2
}
