/// What `status` shows of one stored credential: never a token.
public struct CredentialSummary: Sendable, Encodable {
    public enum Expiry: Sendable, Equatable {
        case noToken
        case noExpiry
        case expiresIn(seconds: Int64)
        case expired(secondsAgo: Int64)
    }

    public let serverURL: String
    /// The named account, nil for the default one.
    public let account: String?
    /// How tokens are renewed: "refresh token", or a machine grant's name.
    public let grant: String
    /// The tokens are bound to a DPoP key (only `proxy` can present them).
    public let dpopBound: Bool
    public let name: String?
    public let issuer: String?
    public let clientID: String?
    public let scopes: [String]
    public let expiry: Expiry
    public let expiresAt: Int64?
    public let canRefresh: Bool
    /// An imported record: the token endpoint is discovered from the server URL when first needed.
    public let discoversEndpoints: Bool
    public let needsLogin: Bool
    public let refreshExpiresAt: Int64?
    private let now: Int64

    /// How a command line names this record: `URL`, or `URL --account NAME`.
    public var commandReference: String { account.map { "\(serverURL) --account \($0)" } ?? serverURL }

    public init(_ record: CredentialRecord, now: Int64) {
        serverURL = record.serverURL
        account = record.account
        grant = record.grant?.displayName ?? "refresh token"
        dpopBound = record.dpopKey != nil
        name = record.name
        issuer = record.issuer
        clientID = record.client?.clientID
        scopes = (record.tokens?.scope ?? "").split(separator: " ").map(String.init)
        expiresAt = record.tokens?.expiresAt
        // A refresh token past its own expiry is no way to refresh.
        // A machine grant renews itself with the same grant.
        canRefresh = record.grant != nil || record.tokens?.refreshToken != nil && (record.tokens?.refreshExpiresAt.map { $0 > now } ?? true)
        discoversEndpoints = record.endpoints.token == nil
        needsLogin = record.needsLogin
        refreshExpiresAt = record.tokens?.refreshExpiresAt
        self.now = now
        switch (record.tokens, record.tokens?.expiresAt) {
        case (nil, _): expiry = .noToken
        case (_, nil): expiry = .noExpiry
        case (_, let at?): expiry = at > now ? .expiresIn(seconds: at - now) : .expired(secondsAgo: now - at)
        }
    }

    /// "valid (no expiry)", "expires in 42 min", "expired 3 h ago", "no token".
    public var expiryText: String {
        switch expiry {
        case .noToken: "no token"
        case .noExpiry: "valid (no expiry given)"
        case .expiresIn(let seconds): "valid, expires in \(Self.duration(seconds))"
        case .expired(let seconds): "expired \(Self.duration(seconds)) ago"
        }
    }

    public var state: String {
        switch expiry {
        case .noToken: "no-token"
        case .noExpiry, .expiresIn: "valid"
        case .expired: "expired"
        }
    }

    /// "in 3 days" or "3 days ago", relative to the summary's time.
    public func relative(_ time: Int64) -> String {
        time > now ? "in " + Self.duration(time - now) : Self.duration(now - time) + " ago"
    }

    public static func duration(_ seconds: Int64) -> String {
        switch seconds {
        case ..<60: "\(seconds) s"
        case ..<3600: "\(seconds / 60) min"
        case ..<172_800: "\(seconds / 3600) h \(seconds % 3600 / 60) min"
        default: "\(seconds / 86400) days"
        }
    }

    enum CodingKeys: String, CodingKey {
        case serverURL = "server_url", account, grant, dpopBound = "dpop_bound", name, issuer, clientID = "client_id", scopes, state, expiresAt = "expires_at"
        case canRefresh = "can_refresh", needsLogin = "needs_login", refreshExpiresAt = "refresh_expires_at", expiresIn = "expires_in"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(serverURL, forKey: .serverURL)
        try container.encode(account ?? "default", forKey: .account)
        try container.encode(grant, forKey: .grant)
        try container.encode(dpopBound, forKey: .dpopBound)
        try container.encode(name, forKey: .name)
        try container.encode(issuer, forKey: .issuer)
        try container.encode(clientID, forKey: .clientID)
        try container.encode(scopes, forKey: .scopes)
        try container.encode(state, forKey: .state)
        try container.encode(expiresAt, forKey: .expiresAt)
        // Seconds from the summary's time to expiry: negative once expired, null when unknown.
        try container.encode(expiresAt.map { $0 - now }, forKey: .expiresIn)
        try container.encode(canRefresh, forKey: .canRefresh)
        try container.encode(needsLogin, forKey: .needsLogin)
        try container.encode(refreshExpiresAt, forKey: .refreshExpiresAt)
    }
}
