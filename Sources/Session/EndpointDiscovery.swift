import Credentials
import Logging
import OAuth

/// Endpoints for a record that has none (imported from an older tool's plaintext file):
/// protected-resource and authorization-server discovery from its server URL, with every check
/// `login` makes (resource, issuer, https, no local endpoints for a remote server).
struct EndpointDiscovery {
    let logger: Logger
    let httpTimeout: Int64

    func complete(_ record: inout CredentialRecord) async throws {
        logger.debug("no endpoints stored for \(record.serverURL) (an imported record): discovering them")
        let http = HTTPTransport(timeoutSeconds: httpTimeout)
        let discovered: DiscoveryResult
        do {
            discovered = try await Discovery(http: http, logger: logger).discover(record.serverURL)
            await http.shutdown()
        } catch {
            await http.shutdown()
            throw error
        }
        record.adopt(discovered)
    }
}
