#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging

/// RFC 8628 device authorization: show a code, poll the token endpoint at the given interval.
struct DeviceFlow {
    let http: HTTPTransport
    let logger: Logger

    private struct Authorization: Decodable {
        var device_code: String
        var user_code: String
        var verification_uri: String
        var verification_uri_complete: String?
        var expires_in: Int
        var interval: Int?
    }

    func run(_ request: LoginRequest, discovery: DiscoveryResult, present: @Sendable (LoginFlow.Prompt) async -> Void) async throws -> LoginResult {
        let server = discovery.server
        guard let endpoint = server.deviceAuthorizationEndpoint, let tokenEndpoint = server.tokenEndpoint else {
            throw OAuthError.noRegistration("the server offers no device authorization; use the browser or --paste")
        }
        let flow = LoginFlow(http: http, logger: logger)
        // A kept dynamic registration is for the authorization-code grant: register for the device
        // grant. A pre-registered client is the same client whatever the grant.
        let kept = LoginFlow.reusableClient(request, issuer: server.issuer).flatMap { $0.source == "dynamic" ? nil : $0 }
        let client = try await flow.client(for: request, server: server, redirectURI: nil, reusable: kept)
        let scope = LoginFlow.scope(request: request, discovery: discovery)
        let authentication = client.authentication()
        var fields = authentication.fields
        if let scope { fields.append(("scope", scope)) }
        if request.sendResource { fields.append(("resource", discovery.resource)) }
        let response = try await http.postForm(endpoint, fields: fields, headers: authentication.headers)
        let authorization = try response.decode(Authorization.self, from: endpoint)
        // The page the user is sent to must be https (or on this machine), like every endpoint;
        // numbers are clamped before any arithmetic.
        _ = try HTTPTransport.checkSecure(authorization.verification_uri)
        let complete = try authorization.verification_uri_complete.map { uri throws(OAuthError) in
            _ = try HTTPTransport.checkSecure(uri)
            return uri
        }
        let expiresIn = min(max(authorization.expires_in, 1), 3600)
        await present(.device(uri: authorization.verification_uri, complete: complete,
                              userCode: authorization.user_code, expiresIn: expiresIn))

        var interval = min(max(authorization.interval ?? 5, 1), 60)
        let deadline = Date().addingTimeInterval(Double(min(expiresIn, request.timeoutSeconds)))
        var tokenFields = [("grant_type", DynamicRegistration.deviceGrant), ("device_code", authorization.device_code)]
            + authentication.fields
        if request.sendResource { tokenFields.append(("resource", discovery.resource)) }
        while Date() < deadline {
            try await Task.sleep(for: .seconds(interval))
            let answer = try await http.postForm(tokenEndpoint, fields: tokenFields, headers: authentication.headers)
            if answer.status == 200 {
                let tokens = try TokenResponse.checked(answer, from: tokenEndpoint)
                return LoginResult(discovery: discovery, client: client, tokens: tokens, obtainedAt: Int64(Date().timeIntervalSince1970),
                                   requestedScope: scope)
            }
            let error = (try? JSONDecoder().decode(ErrorResponse.self, from: answer.body))
            switch error?.error {
            case "authorization_pending": continue
            case "slow_down":
                interval = min(interval + 5, 60)
                logger.debug("slow_down: polling every \(interval) s")
            case "expired_token": throw OAuthError.deviceCodeExpired
            case "access_denied": throw OAuthError.authorizationDenied(error: "access_denied", description: error?.errorDescription)
            default:
                throw OAuthError.server(url: tokenEndpoint, error: error?.error ?? "HTTP \(answer.status)", description: error?.errorDescription)
            }
        }
        throw OAuthError.deviceCodeExpired
    }
}
