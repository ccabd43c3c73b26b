import Credentials
import Logging
import OAuth
import Processes
import Vault
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What `login --grant …` asks for: a machine identity at a server, with no person.
public struct MachineLoginRequest: Sendable {
    public var serverURL: String
    /// client_credentials, jwt_bearer or id_jag (`CredentialRecord.Grant`).
    public var grant: String
    public var clientID: String
    public var clientSecret: String?
    /// client_secret_basic, client_secret_post, private_key_jwt or none.
    public var authMethod: String
    /// private_key_jwt's key (PEM), from --private-key-file or `keygen`.
    public var privateKey: String?
    public var assertionFile: String?
    public var assertionCommand: String?
    public var scope: String?
    public var sendResource = true
    /// Bind the tokens to a DPoP key when the server offers it (`--no-dpop` turns it off).
    public var dpop = true
    public var idp: CredentialRecord.Grant.IdentityProvider?
    /// ID-JAG: the IdP's ID token (from --idp-id-token-file), sealed with the record.
    public var idpIDToken: String?

    public init(serverURL: String, grant: String, clientID: String, authMethod: String) {
        self.serverURL = serverURL
        self.grant = grant
        self.clientID = clientID
        self.authMethod = authMethod
    }
}

/// Why a machine grant got no token. The server's own error is said as it is: no retry with the
/// same assertion, no fall-back to another grant.
public enum MachineGrantError: Error, Sendable, CustomStringConvertible {
    case refused(server: String, error: String, description: String?)
    case assertionUnavailable(String)
    case notOffered(String)

    public var description: String {
        switch self {
        case .refused(let server, let error, let description):
            "the authorization server of \(server) refused the grant: \(error)" + (description.map { " (\($0))" } ?? "")
        case .assertionUnavailable(let reason): "no assertion: \(reason)"
        case .notOffered(let reason): reason
        }
    }
}

/// Tokens for machine identities: the first ones at `login`, the next ones with the same grant
/// (there is no refresh token).
public struct MachineGrants: Sendable {
    public let logger: Logger
    public let httpTimeout: Int64

    public init(logger: Logger, httpTimeout: Int64 = 20) {
        self.logger = logger
        self.httpTimeout = httpTimeout
    }

    /// Discovers the server, asks for a token with the grant, checks it against the MCP server
    /// (without DPoP), and seals the record.
    public func login(_ request: MachineLoginRequest, server: ServerURL, vault: Vault, name: String?) async throws -> CredentialRecord {
        try vault.checkWritable(server.recordName)
        let http = HTTPTransport(timeoutSeconds: httpTimeout)
        defer { Task { await http.shutdown() } }
        let discovery = try await Discovery(http: http, logger: logger).discover(request.serverURL)
        let now = Int64(Date().timeIntervalSince1970)
        var record = (try? VaultAccess.credential(for: server, in: vault)) ?? nil ?? CredentialRecord(server: server, now: now)
        record.adopt(discovery)
        record.sendResource = request.sendResource
        var grant = CredentialRecord.Grant(type: request.grant)
        grant.privateKey = request.privateKey
        grant.assertionFile = request.assertionFile
        grant.assertionCommand = request.assertionCommand
        grant.scope = request.scope
        grant.idp = request.idp
        record.grant = grant
        record.client = .init(clientID: request.clientID, clientSecret: request.clientSecret, source: "preregistered", authMethod: request.authMethod)
        if request.grant == CredentialRecord.Grant.idJAG, let idp = request.idp {
            // One corporate sign-in serves every server that trusts the IdP: kept once, as a secret.
            if let idToken = request.idpIDToken {
                try StoredRecord.storeSecret(Self.idpSecretName(idp), value: idToken, in: vault)
            } else if (try? StoredRecord.secret(Self.idpSecretName(idp), in: vault)) == nil {
                throw MachineGrantError.notOffered("no sign-in at \(idp.issuer) is stored yet: give --idp-id-token-file FILE")
            }
        }
        let offered = discovery.server.dpopSigningAlgValuesSupported ?? []
        record.dpopKey = request.dpop && offered.contains("ES256") ? SigningKey.generateP256().pem : nil
        if let types = discovery.server.grantTypesSupported, !types.contains(Self.grantTypeValue(request.grant)) {
            logger.warning("the authorization server does not list \(Self.grantTypeValue(request.grant)) in grant_types_supported; asking anyway")
        }
        let response = try await obtain(for: record, http: http, vault: vault)
        record.tokens = Self.tokens(response, now: now)
        record.needsLogin = false
        if let name { record.name = name }
        record.updatedAt = now
        let stored = record
        try vault.update(server.recordName, replacingDamaged: true) { _ in .write(try stored.encodedForStorage()) }
        return stored
    }

    /// The IdP's token endpoint, from its OpenID Connect discovery document.
    public static func idpTokenEndpoint(issuer: String, httpTimeout: Int64) async throws -> String {
        let http = HTTPTransport(timeoutSeconds: httpTimeout)
        defer { Task { await http.shutdown() } }
        let url = (issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer) + "/.well-known/openid-configuration"
        let response = try await http.get(url)
        struct Configuration: Decodable { var issuer: String; var token_endpoint: String? }
        let configuration = try response.decode(Configuration.self, from: url, acceptedStatuses: [200])
        guard let endpoint = configuration.token_endpoint else {
            throw MachineGrantError.notOffered("the IdP's configuration (\(url)) names no token endpoint; give --idp-token-endpoint")
        }
        return endpoint
    }

    /// The secret the IdP's ID token is kept as: `idp/HOST/CLIENT-ID`.
    public static func idpSecretName(_ idp: CredentialRecord.Grant.IdentityProvider) -> String {
        let host = idp.issuer.split(separator: "/").dropFirst(1).first.map(String.init) ?? "idp"
        func clean(_ text: String) -> String {
            String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "-" }.prefix(60))
        }
        return "idp/" + clean(host) + "/" + clean(idp.clientID)
    }

    static func grantTypeValue(_ grant: String) -> String {
        grant == CredentialRecord.Grant.clientCredentials ? "client_credentials" : TokenClient.jwtBearerGrant
    }

    static func tokens(_ response: TokenResponse, now: Int64) -> CredentialRecord.Tokens {
        CredentialRecord.Tokens(accessToken: response.accessToken, refreshToken: nil, tokenType: response.tokenType.lowercased() == "dpop" ? "DPoP" : "Bearer",
                                scope: response.scope, expiresAt: response.expiresIn.map { now + Int64($0) })
    }

    /// A new token for `record` with its grant: client credentials, a fresh assertion (read now
    /// from its file or command), or an ID-JAG from the IdP exchanged for a token.
    public func obtain(for record: CredentialRecord, http: HTTPTransport, vault: Vault) async throws -> TokenResponse {
        guard let grant = record.grant, let registration = record.client else {
            throw MachineGrantError.notOffered("the record of \(record.serverURL) holds no machine grant")
        }
        guard let endpoint = record.endpoints.token else {
            throw MachineGrantError.notOffered("the authorization server of \(record.serverURL) names no token endpoint")
        }
        var client = registration.credentials
        if client.authMethod == "private_key_jwt" {
            guard let pem = grant.privateKey else { throw MachineGrantError.notOffered("private_key_jwt needs a key: --private-key-file, or `mcp-vault keygen` first") }
            client.assertionKey = try SigningKey(pem: pem)
            client.assertionAudience = record.issuer
        }
        let dpop = try record.dpopKey.map { try SigningKey(pem: $0) }
        let resource = record.sendResource ? (record.resource ?? record.serverURL) : nil
        let tokens = TokenClient(http: http)
        do {
            switch grant.type {
            case CredentialRecord.Grant.clientCredentials:
                return try await tokens.clientCredentials(client: client, endpoint: endpoint, scope: grant.scope, resource: resource, dpop: dpop)
            case CredentialRecord.Grant.jwtBearer:
                let assertion = try Self.assertion(grant)
                return try await tokens.jwtBearer(assertion: assertion, client: client, endpoint: endpoint, scope: grant.scope, resource: resource, dpop: dpop)
            case CredentialRecord.Grant.idJAG:
                guard let idp = grant.idp, let idToken = try? StoredRecord.secret(Self.idpSecretName(idp), in: vault).value else {
                    throw MachineGrantError.notOffered("the vault holds no sign-in at the IdP; run `mcp-vault login \(record.serverURL) --grant id-jag … --idp-id-token-file FILE` again")
                }
                let idpClient = ClientCredentials(clientID: idp.clientID, clientSecret: nil, authMethod: "none", source: "preregistered")
                let jag = try await tokens.identityAssertion(idToken: idToken, client: idpClient, endpoint: idp.tokenEndpoint,
                                                             audience: record.issuer ?? "", resource: record.resource ?? record.serverURL, scope: grant.scope)
                return try await tokens.jwtBearer(assertion: jag, client: client, endpoint: endpoint, scope: grant.scope, resource: resource, dpop: dpop)
            default:
                throw MachineGrantError.notOffered("unknown grant \(grant.type)")
            }
        } catch OAuthError.server(_, let error, let description) {
            throw MachineGrantError.refused(server: record.serverURL, error: error, description: description)
        }
    }

    /// The jwt-bearer assertion, read afresh: the file's content, or the command's standard output
    /// (its first line, whitespace trimmed).
    static func assertion(_ grant: CredentialRecord.Grant) throws -> String {
        let bytes: [UInt8]
        if let file = grant.assertionFile {
            do {
                bytes = try PlainFiles.read(file, limit: 64 * 1024)
            } catch {
                throw MachineGrantError.assertionUnavailable("cannot read \(file): \(error)")
            }
        } else if let command = grant.assertionCommand {
            let child: Subprocess.Detached
            do {
                child = try Subprocess.Detached(["/bin/sh", "-c", command], passing: -1, separateError: true)
            } catch {
                throw MachineGrantError.assertionUnavailable("cannot run `\(command)`: \(error)")
            }
            guard let (output, status) = child.finish(within: 30) else {
                kill(child.pid, SIGKILL)
                throw MachineGrantError.assertionUnavailable("`\(command)` took longer than 30 s")
            }
            guard status == 0 else { throw MachineGrantError.assertionUnavailable("`\(command)` exited with status \(status)") }
            bytes = output
        } else {
            throw MachineGrantError.assertionUnavailable("the record names neither an assertion file nor a command")
        }
        let text = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline).first.map { $0.trimmingWhitespace() } ?? ""
        guard !text.isEmpty else { throw MachineGrantError.assertionUnavailable("the assertion is empty") }
        return text
    }
}
