import AsyncHTTPClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore
import NIOPosix

/// What went wrong on the way to a server, as a phrase for "cannot reach URL: …": never a
/// library's type names or nested descriptions.
public enum NetworkFailure {
    public static func reason(_ error: any Error) -> String {
        switch error {
        case let error as NIOConnectionError:
            if error.connectionErrors.isEmpty, error.dnsAError != nil || error.dnsAAAAError != nil {
                return "no such host (\(error.host)); check the spelling and your DNS"
            }
            if let first = error.connectionErrors.first { return reason(first.error) }
            return "the connection could not be made"
        case let error as IOError:
            return describe(errno: error.errnoCode)
        case let error as HTTPClientError:
            switch error {
            case .remoteConnectionClosed: return "the server closed the connection before it answered"
            case .cancelled: return "the request was cancelled"
            default: return "the HTTP exchange failed (\(error.shortDescription))"
            }
        default:
            let text = String(describing: error)
            if text.contains("UnknownHost") || text.contains("unknownHost") { return "no such host; check the spelling and your DNS" }
            if String(reflecting: type(of: error)).contains("NIOSSL") { return "the TLS handshake failed: " + tlsReason(text) }
            return "the connection failed (\(text))"
        }
    }

    /// The reason inside a TLS library error, in words.
    static func tlsReason(_ text: String) -> String {
        if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("unableToValidateCertificate") {
            return "the server's certificate is not trusted (self-signed, expired, or from a CA this machine does not trust)"
        }
        if text.contains("failedToValidateHostname") || text.contains("hostname") {
            return "the server's certificate is for another host name"
        }
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("PACKET_LENGTH_TOO_LONG") || text.contains("HTTP_REQUEST") {
            return "the server does not speak TLS on that port (is it plain http?)"
        }
        if text.contains("uncleanShutdown") { return "the server closed the connection during the handshake" }
        let detail = text.split(whereSeparator: { ":()[],".contains($0) }).last { $0.allSatisfy { $0.isUppercase || $0 == "_" } && $0.count > 3 }
        return detail.map { "the TLS library says \($0)" } ?? "the server's TLS could not be negotiated"
    }

    static func describe(errno code: Int32) -> String {
        switch code {
        case ECONNREFUSED: "the connection was refused; is the server running, on that port?"
        case ECONNRESET: "the server reset the connection"
        case EHOSTUNREACH, ENETUNREACH: "the host cannot be reached from this network"
        case ETIMEDOUT: "connecting timed out"
        default: String(cString: strerror(code)).lowercased()
        }
    }
}

extension HTTPClientError {
    /// The case name, without the library's decorations.
    var shortDescription: String {
        String(describing: self).replacing("HTTPClientError.", with: "")
    }
}
