import Credentials
import Logging
import OAuth
import Vault
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Login: runs the OAuth flow, checks the token against the MCP server, and only then seals the
/// result. A failed or cancelled login never touches the record already stored.
public struct LoginService: Sendable {
    public let logger: Logger
    /// Connect and read timeout of each HTTP request, in seconds.
    public let httpTimeout: Int64

    public init(logger: Logger, httpTimeout: Int64 = 20) {
        self.logger = logger
        self.httpTimeout = httpTimeout
    }

    /// How many authorizations one login (or one step-up) may make before it gives up.
    public static let stepUpLimit = 2

    /// The granted scopes plus the challenged ones, in order, without repeats.
    public static func union(_ granted: String?, _ wanted: String?) -> [String] {
        var seen = Set<String>()
        return ((granted ?? "") + " " + (wanted ?? "")).split(separator: " ").map(String.init).filter { seen.insert($0).inserted }
    }

    public func login(_ request: LoginRequest, server: ServerURL, vault: Vault, present: @Sendable (LoginFlow.Prompt) async -> Void,
                      readPasted: @Sendable () async throws -> String = { throw OAuthError.cancelled }) async throws -> CredentialRecord {
        var request = request
        let existing = try VaultAccess.credential(for: server, in: vault)
        if let existing, let issuer = existing.issuer, let client = existing.client {
            request.previousRegistration = (issuer, client.credentials)
        }
        let http = HTTPTransport(timeoutSeconds: httpTimeout)
        do {
            let flow = LoginFlow(http: http, logger: logger)
            var result = try await flow.run(request, present: present, readPasted: readPasted)
            // Step-up: a 403 insufficient_scope on the check asks again with the union of scopes.
            var attempts = 1
            while case .needsScope(let wanted) = try await flow.verify(serverURL: server.canonical, accessToken: result.tokens.accessToken) {
                guard attempts < Self.stepUpLimit else { throw OAuthError.insufficientScope(wanted: wanted) }
                attempts += 1
                request.scopes = Self.union(result.tokens.scope ?? result.requestedScope, wanted)
                logger.debug("the MCP server wants more scope; authorizing again for: \(request.scopes.joined(separator: " "))")
                result = try await flow.run(request, present: present, readPasted: readPasted)
            }
            await http.shutdown()
            let now = Int64(Date().timeIntervalSince1970)
            var record = existing ?? CredentialRecord(server: server, now: now)
            record.issuer = result.discovery.server.issuer
            record.endpoints = .init(authorization: result.discovery.server.authorizationEndpoint,
                                     token: result.discovery.server.tokenEndpoint,
                                     revocation: result.discovery.server.revocationEndpoint)
            record.client = .init(clientID: result.client.clientID, clientSecret: result.client.clientSecret,
                                  source: result.client.source, authMethod: result.client.authMethod, redirectURI: result.client.redirectURI)
            record.tokens = .init(accessToken: result.tokens.accessToken, refreshToken: result.tokens.refreshToken,
                                  tokenType: "Bearer", scope: result.tokens.scope ?? result.requestedScope,
                                  expiresAt: result.tokens.expiresIn.map { result.obtainedAt + Int64($0) },
                                  refreshExpiresAt: result.tokens.refreshExpiresIn.map { result.obtainedAt + Int64($0) })
            record.sendResource = request.sendResource
            record.needsLogin = false
            record.updatedAt = now
            try VaultAccess.store(record, in: vault)
            return record
        } catch {
            await http.shutdown()
            throw error
        }
    }
}
