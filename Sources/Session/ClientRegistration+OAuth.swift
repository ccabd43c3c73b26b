import Credentials
import OAuth

extension CredentialRecord {
    /// Takes what discovery found: the issuer, its endpoints, and the RFC 8707 resource when it is
    /// not the server URL itself.
    mutating func adopt(_ discovered: DiscoveryResult) {
        issuer = discovered.server.issuer
        endpoints = .init(authorization: discovered.server.authorizationEndpoint, token: discovered.server.tokenEndpoint,
                          revocation: discovered.server.revocationEndpoint)
        resource = discovered.resource == serverURL ? nil : discovered.resource
    }
}

extension CredentialRecord.ClientRegistration {
    /// The stored registration as the OAuth engine takes it.
    var credentials: ClientCredentials {
        ClientCredentials(clientID: clientID, clientSecret: clientSecret, authMethod: authMethod, source: source, redirectURI: redirectURI)
    }
}
