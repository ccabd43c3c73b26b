import AsyncHTTPClient
import Foundation
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
            if String(reflecting: type(of: error)).contains("NIOSSL") { return "the TLS handshake failed (\(text)); check the server's certificate" }
            return "the connection failed (\(text))"
        }
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
        String(describing: self).replacingOccurrences(of: "HTTPClientError.", with: "")
    }
}
