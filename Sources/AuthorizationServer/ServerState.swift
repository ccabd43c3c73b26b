import Foundation

/// Everything the server remembers: clients, pending codes, grants and their tokens.
actor ServerState {
    struct PendingCode {
        let clientID: String
        let redirectURI: String
        let challenge: String
        let scope: String
        let resource: String?
        let expires: Date
        /// Who signed in (the authorization request's login_hint; "alice" without one).
        var user = ServerState.defaultUser
    }

    static let defaultUser = "alice"

    /// One authorization: its current refresh token, and every refresh token it ever had (for
    /// reuse detection).
    final class Grant {
        let clientID: String
        var scope: String
        let resource: String?
        var refreshToken: String
        var retiredRefreshTokens: Set<String> = []
        var accessTokens: Set<String> = []
        var revoked = false
        let user: String
        /// The DPoP key the grant's tokens are bound to (a refresh must prove it too).
        var jkt: String?

        init(clientID: String, scope: String, resource: String?, refreshToken: String, user: String = ServerState.defaultUser) {
            self.user = user
            self.clientID = clientID
            self.scope = scope
            self.resource = resource
            self.refreshToken = refreshToken
        }
    }

    struct AccessToken {
        let grant: Grant
        let expires: Date
        /// The thumbprint of the DPoP key the token is bound to (RFC 9449), if any.
        var jkt: String? = nil
    }

    /// A machine identity's token (no refresh token), bound to a DPoP key when `jkt` is given.
    func issueMachineToken(user: String, scope: String, lifetime: Int, jkt: String?) -> String {
        let grant = Grant(clientID: user, scope: scope, resource: nil, refreshToken: ServerState.randomToken("rt"), user: user)
        grants.append(grant)
        let access = ServerState.randomToken("mt")
        accessTokens[access] = AccessToken(grant: grant, expires: Date().addingTimeInterval(Double(lifetime)), jkt: jkt)
        grant.accessTokens.insert(access)
        machineTokens += 1
        return access
    }

    var machineTokens = 0

    /// The DPoP key thumbprint a valid token is bound to (nil: a bearer token).
    func binding(of token: String) -> String? { accessTokens[token]?.jkt }

    struct DeviceAuthorization {
        let clientID: String
        let scope: String
        let resource: String?
        var polls = 0
        var lastPoll: Date?
        var interval: Double
    }
    var deviceCodes: [String: DeviceAuthorization] = [:]
    var devicePollsTooEarly = 0

    func storeDevice(_ code: String, _ authorization: DeviceAuthorization) { deviceCodes[code] = authorization }

    /// Records a poll; returns the authorization and whether it came sooner than the interval.
    func poll(_ code: String, slowDownBy: Double) -> (DeviceAuthorization, tooEarly: Bool)? {
        guard var entry = deviceCodes[code] else { return nil }
        let now = Date()
        let early = entry.lastPoll.map { now.timeIntervalSince($0) < entry.interval - 0.2 } ?? false
        if early { devicePollsTooEarly += 1 }
        entry.polls += 1
        entry.lastPoll = now
        entry.interval += slowDownBy
        deviceCodes[code] = entry
        return (entry, early)
    }

    func finishDevice(_ code: String) { deviceCodes[code] = nil }

    /// After slow_down, the client must wait `seconds` longer between polls.
    func slowDown(_ code: String, by seconds: Double) { deviceCodes[code]?.interval += seconds }

    var clients: [String: RegisteredClient] = [:]
    /// Clients the token endpoint now refuses with invalid_client (their registration expired).
    var expiredClients: Set<String> = []

    func expireAllClients() { expiredClients.formUnion(clients.keys) }
    func revokeAllGrants() { for grant in grants where !grant.revoked { revoke(grant) } }
    func isExpired(_ id: String) -> Bool { expiredClients.contains(id) }
    var codes: [String: PendingCode] = [:]
    var grants: [Grant] = []
    var accessTokens: [String: AccessToken] = [:]
    /// Counters the tests read back through /test/stats.
    var refreshRequests = 0
    var reuseDetections = 0
    var revocations = 0
    var authorizationRequests = 0
    var registrations = 0

    /// The token endpoint's misbehaviour set by /test/hostile/MODE (any other MODE: none).
    var hostileMode: ServerOptions.HostileAnswer?
    func setHostileMode(_ mode: ServerOptions.HostileAnswer?) { hostileMode = mode }

    func countAuthorization() { authorizationRequests += 1 }
    func countRegistration() { registrations += 1 }

    init(clients: [RegisteredClient]) {
        for client in clients { self.clients[client.id] = client }
    }

    func register(_ client: RegisteredClient) { clients[client.id] = client }
    func client(_ id: String) -> RegisteredClient? { clients[id] }

    func storeCode(_ code: String, _ pending: PendingCode) { codes[code] = pending }
    func takeCode(_ code: String) -> PendingCode? { codes.removeValue(forKey: code) }

    /// Tokens handed out by the token endpoint.
    struct IssuedTokens: Sendable {
        let access: String
        let refresh: String
        let scope: String
    }

    private func issue(_ grant: Grant, lifetime: Int) -> IssuedTokens {
        let access = ServerState.randomToken("at")
        accessTokens[access] = AccessToken(grant: grant, expires: Date().addingTimeInterval(Double(lifetime)), jkt: grant.jkt)
        grant.accessTokens.insert(access)
        return IssuedTokens(access: access, refresh: grant.refreshToken, scope: grant.scope)
    }

    /// A new grant (after an authorization code) and its first tokens.
    func issueNewGrant(clientID: String, scope: String, resource: String?, lifetime: Int, user: String = ServerState.defaultUser,
                       jkt: String? = nil) -> IssuedTokens {
        let grant = Grant(clientID: clientID, scope: scope, resource: resource, refreshToken: ServerState.randomToken("rt"), user: user)
        grant.jkt = jkt
        grants.append(grant)
        return issue(grant, lifetime: lifetime)
    }

    enum RefreshOutcome: Sendable { case issued(IssuedTokens), reused, unknown }

    /// Rotation with reuse detection: a retired refresh token revokes the whole grant.
    func refresh(_ token: String, clientID: String, lifetime: Int, jkt: String? = nil) -> RefreshOutcome {
        refreshRequests += 1
        if let grant = grants.first(where: { $0.refreshToken == token && !$0.revoked && $0.clientID == clientID }) {
            if grant.jkt != nil && grant.jkt != jkt { return .unknown }  // a bound refresh token needs its key's proof
            refreshesByUser[grant.user, default: 0] += 1
            grant.retiredRefreshTokens.insert(grant.refreshToken)
            grant.refreshToken = ServerState.randomToken("rt")
            return .issued(issue(grant, lifetime: lifetime))
        }
        if let grant = grants.first(where: { $0.retiredRefreshTokens.contains(token) }) {
            reuseDetections += 1
            revoke(grant)
            return .reused
        }
        return .unknown
    }

    func revokeToken(_ token: String) {
        revocations += 1
        if let grant = grants.first(where: { $0.refreshToken == token }) { revoke(grant) }
        if let access = accessTokens.removeValue(forKey: token) { access.grant.accessTokens.remove(token) }
    }

    private func revoke(_ grant: Grant) {
        grant.revoked = true
        for token in grant.accessTokens { accessTokens[token] = nil }
        grant.accessTokens = []
    }

    /// The scope of a valid access token; nil when the token is unknown, expired or revoked.
    func validate(_ token: String) -> String? {
        guard let access = accessTokens[token], access.expires > Date(), !access.grant.revoked else { return nil }
        return access.grant.scope
    }

    /// Who a valid access token was issued to.
    func user(of token: String) -> String? { accessTokens[token]?.grant.user }

    /// Refreshes counted per user.
    var refreshesByUser: [String: Int] = [:]

    func stats() -> [String: Int] {
        ["device_polls_too_early": devicePollsTooEarly, "authorization_requests": authorizationRequests, "refresh_requests": refreshRequests, "reuse_detections": reuseDetections, "revocations": revocations,
         "registrations": registrations, "machine_tokens": machineTokens,
         "live_grants": grants.filter { !$0.revoked }.count]
            .merging(refreshesByUser.map { ("refresh_requests_\($0.key)", $0.value) }) { $1 }
    }

    static func randomToken(_ prefix: String) -> String {
        var bytes = [UInt8](repeating: 0, count: 24)
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255) }
        return prefix + "_" + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
