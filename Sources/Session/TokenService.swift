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

/// Why no token can be handed out.
public enum TokenServiceError: Error, Sendable, CustomStringConvertible {
    case noCredential(String)
    case needsLogin(String, reason: String)
    case cannotRefresh(String, reason: String)

    public var description: String {
        switch self {
        case .noCredential(let server): "the vault holds no credentials for \(server)"
        case .needsLogin(let server, let reason): "\(server) needs a new login: \(reason)"
        case .cannotRefresh(let server, let reason): "no valid token for \(server): \(reason)"
        }
    }
}

/// Hands out a token valid for at least `minimumTTL` seconds, refreshing under the record's lock
/// so that concurrent callers make one refresh between them and a rotated refresh token is never lost.
public struct TokenService: Sendable {
    public let logger: Logger
    public let httpTimeout: Int64

    public init(logger: Logger, httpTimeout: Int64 = 20) {
        self.logger = logger
        self.httpTimeout = httpTimeout
    }

    /// Whether `record`'s access token is good for `minimumTTL` more seconds at `now`.
    public static func isFresh(_ record: CredentialRecord, minimumTTL: Int64, now: Int64) -> Bool {
        guard let tokens = record.tokens, !record.needsLogin else { return false }
        guard let expiry = tokens.expiresAt else { return true }
        return expiry - now >= minimumTTL
    }

    /// The SHA-256 (hex) of a token, to name one a server refused without passing it around.
    public static func fingerprint(_ token: String) -> String {
        PlainFiles.sha256Hex(token)
    }

    /// `rejectedFingerprint`: the fingerprint of a token a server has just refused (401). If the
    /// record still holds it, it is refreshed whatever its expiry; if another process has
    /// replaced it meanwhile, the new one is handed out.
    public func token(for server: ServerURL, in vault: Vault, minimumTTL: Int64, rejectedFingerprint: String? = nil) async throws -> String {
        try await vault.withLockedRecord(server.recordName) { locked in
            guard let stored = locked.current else { throw TokenServiceError.noCredential(server.canonical) }
            var record = try CredentialRecord.decode(stored.payload, id: stored.id)
            let now = Int64(Date().timeIntervalSince1970)
            // Another process may have refreshed while this one waited for the lock.
            let rejected = rejectedFingerprint.map { $0 == record.tokens.map { Self.fingerprint($0.accessToken) } } ?? false
            if !rejected, Self.isFresh(record, minimumTTL: minimumTTL, now: now), let tokens = record.tokens {
                logger.debug("the stored token is fresh")
                return tokens.accessToken
            }
            if record.grant != nil {
                return try await renewMachineGrant(record, server: server, locked: locked, vault: vault, now: now)
            }
            if record.needsLogin { throw TokenServiceError.needsLogin(server.canonical, reason: "the server refused the refresh token earlier") }
            guard let tokens = record.tokens, let refreshToken = tokens.refreshToken, let client = record.client else {
                throw TokenServiceError.cannotRefresh(server.canonical, reason: "the token has expired and there is no refresh token")
            }
            // An imported record has no endpoints: they are discovered now, with every check login
            // makes, and stored with the refreshed tokens.
            if record.endpoints.token == nil {
                do {
                    try await EndpointDiscovery(logger: logger, httpTimeout: httpTimeout).complete(&record)
                } catch {
                    if let expiry = tokens.expiresAt, expiry > now {
                        logger.warning("the token endpoint could not be discovered (\(error)); handing out the current token, valid for \(expiry - now) s more")
                        return tokens.accessToken
                    }
                    throw TokenServiceError.cannotRefresh(server.canonical, reason: "the token endpoint could not be discovered: \(error)")
                }
            }
            guard let endpoint = record.endpoints.token else {
                throw TokenServiceError.cannotRefresh(server.canonical, reason: "the authorization server names no token endpoint")
            }
            let credentials = client.credentials
            // The space for the new record is set aside before the server is asked: once it has
            // rotated the refresh token, nothing but a crash may stop the answer reaching the disk.
            let reservation: Vault.Reservation
            do {
                reservation = try locked.reserve()
            } catch {
                if let expiry = tokens.expiresAt, expiry > now {
                    logger.warning("no room to store a refreshed token (\(error)); handing out the current token, valid for \(expiry - now) s more")
                    return tokens.accessToken
                }
                throw TokenServiceError.cannotRefresh(server.canonical, reason: "there is no room to store a refreshed token, so none was asked for (\(error))")
            }
            let http = HTTPTransport(timeoutSeconds: httpTimeout)
            let response: TokenResponse
            do {
                logger.debug("refreshing at \(endpoint)")
                response = try await TokenClient(http: http).refresh(refreshToken, client: credentials, endpoint: endpoint,
                                                                     resource: record.sendResource ? (record.resource ?? record.serverURL) : nil,
                                                                     dpop: try record.dpopKey.map { try SigningKey(pem: $0) })
                await http.shutdown()
            } catch OAuthError.server(_, "invalid_grant", let description) {
                await http.shutdown()
                // The grant is gone: say so in the record (its registration stays for the next login).
                record.needsLogin = true
                record.updatedAt = now
                try locked.write(record.encoded())
                throw TokenServiceError.needsLogin(server.canonical, reason: "the server refused the refresh token (invalid_grant" + (description.map { ": \($0)" } ?? "") + ")")
            } catch {
                await http.shutdown()
                // Network trouble: the current token still serves if it has not expired.
                if let expiry = tokens.expiresAt, expiry > now {
                    logger.warning("refresh failed (\(error)); handing out the current token, valid for \(expiry - now) s more")
                    return tokens.accessToken
                }
                throw error
            }
            record.tokens = CredentialRecord.Tokens(
                accessToken: response.accessToken,
                refreshToken: response.refreshToken ?? refreshToken,  // keep the old one only when the server sent none
                tokenType: record.dpopKey != nil ? "DPoP" : "Bearer", scope: response.scope ?? tokens.scope,
                expiresAt: response.expiresIn.map { now + Int64($0) },
                refreshExpiresAt: response.refreshExpiresIn.map { now + Int64($0) } ?? (response.refreshToken == nil ? tokens.refreshExpiresAt : nil))
            record.updatedAt = now
            // Tokens that live shorter than the caller needs make every call refresh: say so once.
            if let lifetime = response.expiresIn, Int64(lifetime) < minimumTTL {
                if record.shortLivedWarned != true {
                    logger.warning("\(server.canonical) issues tokens that live \(lifetime) s, less than the \(minimumTTL) s asked for (--min-ttl), so every call refreshes; ask for less, e.g. --min-ttl \(max(0, Int64(lifetime) / 2))")
                    record.shortLivedWarned = true
                }
            } else {
                record.shortLivedWarned = nil
            }
            let answered = ContinuousClock.now
            try reservation.write(record.encodedForStorage())  // on disk before it is handed out
            logger.debug("the refreshed tokens were sealed and durable \((ContinuousClock.now - answered).milliseconds) ms after the answer arrived")
            return response.accessToken
        }
    }
}

extension TokenService {
    /// A machine identity's next token: the same grant again (there is no refresh token). The
    /// server's refusal is reported as it is and nothing is retried; the record is left as it
    /// was, so that a rotated assertion file or a fixed secret works at the next call.
    func renewMachineGrant(_ record: CredentialRecord, server: ServerURL, locked: Vault.LockedRecord, vault: Vault, now: Int64) async throws -> String {
        var record = record
        let reservation = try locked.reserve()
        let http = HTTPTransport(timeoutSeconds: httpTimeout)
        let response: TokenResponse
        do {
            logger.debug("asking for a new token with the \(record.grant?.type ?? "") grant")
            response = try await MachineGrants(logger: logger, httpTimeout: httpTimeout).obtain(for: record, http: http, vault: vault)
            await http.shutdown()
        } catch {
            await http.shutdown()
            throw error
        }
        record.tokens = MachineGrants.tokens(response, now: now)
        record.needsLogin = false
        record.updatedAt = now
        try reservation.write(record.encodedForStorage())
        return response.accessToken
    }
}

/// Logout: revoke at the server (RFC 7009), then delete.
public struct LogoutService: Sendable {
    public let logger: Logger
    public let httpTimeout: Int64

    public init(logger: Logger, httpTimeout: Int64 = 20) {
        self.logger = logger
        self.httpTimeout = httpTimeout
    }

    public enum Outcome: Sendable {
        case revokedAndDeleted
        /// Deleted locally; the grant may live on at the server (the reason says why).
        case deletedOnly(reason: String)
    }

    /// A record that cannot be opened is removed too (nothing in it can be revoked).
    public func logout(_ name: String, in vault: Vault, revoke: Bool) async throws -> Outcome {
        try await vault.withLockedRecord(name, tolerateDamage: true) { locked in
            if let damage = locked.damage {
                try locked.delete()
                return .deletedOnly(reason: "the record could not be read: \(damage)")
            }
            guard let stored = locked.current else { throw TokenServiceError.noCredential(name) }
            var record = try? CredentialRecord.decode(stored.payload, id: stored.id)
            if revoke, var imported = record, imported.endpoints.token == nil, imported.endpoints.revocation == nil {
                // An imported record: find its revocation endpoint now (nothing is stored: it goes).
                if (try? await EndpointDiscovery(logger: logger, httpTimeout: httpTimeout).complete(&imported)) != nil { record = imported }
            }
            var outcome = Outcome.revokedAndDeleted
            if !revoke {
                outcome = .deletedOnly(reason: "--local-only")
            } else if let record, let endpoint = record.endpoints.revocation, let client = record.client, let tokens = record.tokens {
                var credentials = client.credentials
                if credentials.authMethod == "private_key_jwt", let pem = record.grant?.privateKey {
                    credentials.assertionKey = try? SigningKey(pem: pem)
                    credentials.assertionAudience = record.issuer
                }
                let http = HTTPTransport(timeoutSeconds: httpTimeout)
                do {
                    let revocation = RevocationClient(http: http)
                    if let refresh = tokens.refreshToken {
                        try await revocation.revoke(refresh, hint: "refresh_token", client: credentials, endpoint: endpoint)
                    }
                    try await revocation.revoke(tokens.accessToken, hint: "access_token", client: credentials, endpoint: endpoint)
                } catch {
                    outcome = .deletedOnly(reason: "revocation failed: \(error)")
                }
                await http.shutdown()
            } else {
                outcome = .deletedOnly(reason: record == nil ? "the record cannot be read" : "the server has no revocation endpoint")
            }
            try locked.delete()
            return outcome
        }
    }
}
