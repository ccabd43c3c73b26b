/// Where older tools left plaintext OAuth tokens, so that `doctor` and `status` can point at
/// them and `migrate` can import them.
public struct LegacyTokenFiles: Sendable {
    /// `$OPENCODE_CONFIG_DIR`, else `${XDG_CONFIG_HOME:-~/.config}/opencode`.
    public let configDirectory: String
    /// `${XDG_DATA_HOME:-~/.local/share}/opencode`.
    public let dataDirectory: String

    public init(environment: [String: String]) {
        let home = environment["HOME"] ?? ""
        if let explicit = environment["OPENCODE_CONFIG_DIR"], !explicit.isEmpty {
            configDirectory = explicit
        } else {
            let config = environment["XDG_CONFIG_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? home + "/.config"
            configDirectory = config + "/opencode"
        }
        let data = environment["XDG_DATA_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? home + "/.local/share"
        dataDirectory = data + "/opencode"
    }

    /// Every directory where these files live, whether or not they exist now: where a killed
    /// migrate may have left files half removed.
    public var directories: [String] { [perServerDirectory, configDirectory, dataDirectory] }

    public var perServerDirectory: String { configDirectory + "/mcp-oauth" }
    public var singleFile: String { configDirectory + "/mcp-oauth.json" }
    public var opencodeAuthFile: String { dataDirectory + "/mcp-auth.json" }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension LegacyTokenFiles {
    /// The plaintext token files that exist now (per-server JSON files, the single file, opencode's
    /// own auth file).
    public func present() -> [String] {
        let manager = FileManager.default
        var found: [String] = []
        if let names = try? manager.contentsOfDirectory(atPath: perServerDirectory) {
            found += names.filter { $0.hasSuffix(".json") && $0 != "index.json" && !$0.hasPrefix(".") }.sorted().map { perServerDirectory + "/" + $0 }
        }
        for file in [singleFile, opencodeAuthFile] where manager.fileExists(atPath: file) {
            found.append(file)
        }
        return found
    }
}
