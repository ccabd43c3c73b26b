import Credentials
import Logging
import OAuth
import Vault
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
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

    /// Whether the scopes `granted` include every one of `wanted`.
    public static func covers(_ granted: String?, _ wanted: String) -> Bool {
        Set(union(granted, nil)).isSuperset(of: union(wanted, nil))
    }

    /// Signs in and seals the result. A step-up passes `beforeAuthorization`, which runs before
    /// each authorization the user is asked for (it counts them across processes, and throws to
    /// stop); any other login ends a step-up count.
    public func login(_ request: LoginRequest, server: ServerURL, vault: Vault, name: String? = nil,
                      beforeAuthorization: (@Sendable () throws -> Void)? = nil,
                      present: @Sendable (LoginFlow.Prompt) async -> Void,
                      readPasted: @Sendable () async throws -> String = { throw OAuthError.cancelled }) async throws -> CredentialRecord {
        var request = request
        do {
            if let existing = try VaultAccess.credential(for: server, in: vault), let issuer = existing.issuer, let client = existing.client {
                request.previousRegistration = (issuer, client.credentials)
            }
        } catch let error as VaultError where error.isDamagedRecord {
            logger.warning("the record stored for \(server.canonical) cannot be read (\(error)); this login replaces it")
        } catch is CredentialsError {
            logger.warning("the record stored for \(server.canonical) is not a credential; this login replaces it")
        }
        // Nothing is sent to any server before it is certain that the answer can be stored.
        try vault.checkWritable(server.recordName)
        let http = HTTPTransport(timeoutSeconds: httpTimeout)
        do {
            let flow = LoginFlow(http: http, logger: logger)
            try await flow.checkUnattended(request)
            try beforeAuthorization?()
            var result = try await flow.run(request, present: present, readPasted: readPasted)
            // Step-up: a 403 insufficient_scope on the check asks again with the union of scopes.
            var attempts = 1
            while case .needsScope(let wanted) = try await flow.verify(serverURL: server.canonical, accessToken: result.tokens.accessToken,
                                                                       dpop: result.dpopKey) {
                guard attempts < Self.stepUpLimit else { throw OAuthError.insufficientScope(wanted: wanted) }
                attempts += 1
                request.scopes = Self.union(result.tokens.scope ?? result.requestedScope, wanted)
                logger.debug("the MCP server wants more scope; authorizing again for: \(request.scopes.joined(separator: " "))")
                try beforeAuthorization?()
                result = try await flow.run(request, present: present, readPasted: readPasted)
            }
            await http.shutdown()
            return try store(result, request: request, server: server, vault: vault, name: name, isStepUp: beforeAuthorization != nil)
        } catch {
            await http.shutdown()
            throw error
        }
    }

    /// Seals a login's result over whatever the record holds now (another process may have
    /// changed it while the user was signing in).
    private func store(_ result: LoginResult, request: LoginRequest, server: ServerURL, vault: Vault, name: String?,
                       isStepUp: Bool) throws -> CredentialRecord {
        let now = Int64(Date().timeIntervalSince1970)
        var stored = CredentialRecord(server: server, now: now)
        try vault.update(server.recordName, replacingDamaged: true) { current in
            var record = current.flatMap { try? CredentialRecord.decode($0.payload, id: $0.id) } ?? CredentialRecord(server: server, now: now)
            record.adopt(result.discovery)
            record.client = .init(clientID: result.client.clientID, clientSecret: result.client.clientSecret,
                                  source: result.client.source, authMethod: result.client.authMethod, redirectURI: result.client.redirectURI)
            let tokens = result.tokens
            record.dpopKey = result.dpopKey?.pem
            record.grant = nil
            record.tokens = .init(accessToken: tokens.accessToken, refreshToken: tokens.refreshToken,
                                  tokenType: result.dpopKey == nil ? "Bearer" : "DPoP", scope: tokens.scope ?? result.requestedScope,
                                  expiresAt: tokens.expiresIn.map { result.obtainedAt + Int64($0) },
                                  refreshExpiresAt: tokens.refreshExpiresIn.map { result.obtainedAt + Int64($0) })
            // A step-up's count ends with a login, or once the grant holds what it was for.
            if let stepUp = record.stepUp, !isStepUp || Self.covers(record.tokens?.scope, stepUp.scope) {
                record.stepUp = nil
            }
            if let name { record.name = name }
            record.sendResource = request.sendResource
            record.needsLogin = false
            record.updatedAt = now
            stored = record
            return .write(try record.encodedForStorage())
        }
        return stored
    }
}
