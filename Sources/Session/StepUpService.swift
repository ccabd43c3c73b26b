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

/// Why a step-up asks nobody to authorize.
public enum StepUpError: Error, Sendable, CustomStringConvertible {
    /// The stored grant already holds every scope the challenge names.
    case alreadyGranted(server: String, scope: String)
    /// The authorizations allowed for this scope have been started already.
    case limitReached(server: String, scope: String, attempts: Int, retryAfterMinutes: Int64)

    public var description: String {
        switch self {
        case .alreadyGranted(let server, let scope):
            "the grant stored for \(server) already holds \(scope); the server refused the token for another reason, so no new authorization was started"
        case .limitReached(let server, let scope, let attempts, let minutes):
            "\(attempts) authorizations for \(scope) at \(server) have been started already; no more for \(minutes) min, so that a client retrying in a loop cannot keep opening the browser"
        }
    }
}

/// Step-up authorization (MCP authorization, 403 insufficient_scope): authorize again for the
/// granted scopes plus the challenged ones. The authorizations started for one scope are counted
/// in the record, under its lock, so that every process shares the limit.
public struct StepUpService: Sendable {
    public let logger: Logger
    public let httpTimeout: Int64

    /// Authorizations one challenged scope may start within `window` seconds.
    public static let attemptLimit = 2
    public static let window: Int64 = 3600

    public init(logger: Logger, httpTimeout: Int64 = 20) {
        self.logger = logger
        self.httpTimeout = httpTimeout
    }

    /// Returns an access token that holds `wanted` (space-separated scopes).
    public func stepUp(server: ServerURL, vault: Vault, wanted: String, request template: LoginRequest,
                       present: @Sendable (LoginFlow.Prompt) async -> Void,
                       readPasted: @Sendable () async throws -> String = { throw OAuthError.cancelled }) async throws -> String {
        guard let record = try VaultAccess.credential(for: server, in: vault) else {
            throw TokenServiceError.noCredential(server.canonical)
        }
        let granted = record.tokens?.scope
        if !record.needsLogin, LoginService.covers(granted, wanted) {
            throw StepUpError.alreadyGranted(server: server.canonical, scope: wanted)
        }
        var request = template
        request.scopes = LoginService.union(granted, wanted)
        request.sendResource = record.sendResource
        let key = LoginService.union(wanted, nil).sorted().joined(separator: " ")
        let updated = try await LoginService(logger: logger, httpTimeout: httpTimeout).login(
            request, server: server, vault: vault,
            beforeAuthorization: { try Self.reserveAttempt(for: key, server: server, vault: vault) },
            present: present, readPasted: readPasted)
        guard let tokens = updated.tokens, LoginService.covers(tokens.scope, wanted) else {
            logger.debug("the authorization server granted \(updated.tokens?.scope ?? "no scope"), not all of \(wanted)")
            throw OAuthError.insufficientScope(wanted: wanted)
        }
        return tokens.accessToken
    }

    /// Counts one more authorization for `scope` in the record, or throws when the limit is reached.
    static func reserveAttempt(for scope: String, server: ServerURL, vault: Vault, now: Int64 = Int64(Date().timeIntervalSince1970)) throws {
        try vault.update(server.recordName) { current in
            guard let current else { throw TokenServiceError.noCredential(server.canonical) }
            var record = try CredentialRecord.decode(current.payload, id: current.id)
            var stepUp = record.stepUp ?? .init(scope: scope, attempts: 0, since: now)
            if stepUp.scope != scope || now - stepUp.since >= window || now < stepUp.since {
                stepUp = .init(scope: scope, attempts: 0, since: now)
            }
            guard stepUp.attempts < attemptLimit else {
                throw StepUpError.limitReached(server: server.canonical, scope: scope, attempts: stepUp.attempts,
                                               retryAfterMinutes: (stepUp.since + window - now + 59) / 60)
            }
            stepUp.attempts += 1
            record.stepUp = stepUp
            return .write(record.encoded())
        }
    }
}
