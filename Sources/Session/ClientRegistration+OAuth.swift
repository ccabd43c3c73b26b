import Credentials
import OAuth

extension CredentialRecord.ClientRegistration {
    /// The stored registration as the OAuth engine takes it.
    var credentials: ClientCredentials {
        ClientCredentials(clientID: clientID, clientSecret: clientSecret, authMethod: authMethod, source: source, redirectURI: redirectURI)
    }
}
