import AsyncHTTPClient
import OAuth
import ServerAddress
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as curl reads them (lowercase first).
enum OutboundProxy {
    /// Never for a plain-http server (the token would cross the outbound proxy in clear text) nor
    /// for a loopback or link-local one in any spelling (the proxy would see a token meant for
    /// this machine).
    static func forServer(_ server: String, environment: [String: String]) -> HTTPClient.Configuration.Proxy? {
        guard let url = URL(string: server), let host = url.host?.lowercased(), url.scheme == "https",
              !LoopbackHost.isLocal(host) else { return nil }
        let names = url.scheme == "https" ? ["https_proxy", "HTTPS_PROXY"] : ["http_proxy", "HTTP_PROXY"]
        guard let value = names.lazy.compactMap({ environment[$0] }).first(where: { !$0.isEmpty }) else { return nil }
        let exclusions = (environment["no_proxy"] ?? environment["NO_PROXY"] ?? "").split(separator: ",")
            .map { $0.trimmingWhitespace().lowercased() }
        for exclusion in exclusions where !exclusion.isEmpty {
            if exclusion == "*" { return nil }
            let suffix = exclusion.hasPrefix(".") ? String(exclusion.dropFirst()) : exclusion
            if host == suffix || host.hasSuffix("." + suffix) { return nil }
        }
        guard let proxy = URL(string: value.contains("://") ? value : "http://" + value), let proxyHost = proxy.host else { return nil }
        return .server(host: proxyHost, port: proxy.port ?? 8080)
    }
}
