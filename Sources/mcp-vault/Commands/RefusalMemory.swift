import CommandSupport
import Credentials
import LegacyImport
import Vault
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The files and entries an earlier `migrate` refused, so that a run finding nothing but those,
/// unchanged, says so and succeeds instead of failing again. Kept in
/// `${XDG_STATE_HOME:-~/.local/state}/mcp-vault/migrate-refused`, one line per refusal: where it is
/// and the SHA-256 of what was read (or why it could not be read); never a token.
struct RefusalMemory {
    let path: String

    init(environment: [String: String]) {
        let home = environment["HOME"] ?? ""
        let state = environment["XDG_STATE_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? home + "/.local/state"
        path = state + "/mcp-vault/migrate-refused"
    }

    /// What identifies one refusal: the same file with the same bytes is the same refusal.
    static func key(_ item: LegacyItem, _ line: MigrationLine) -> String? {
        guard case .failed(let reason) = line.outcome else { return nil }
        return item.origin.description + "\t" + (item.fingerprint ?? reason)
    }

    func load() -> Set<String> {
        guard let bytes = try? PlainFiles.read(path, limit: 1 << 20) else { return [] }
        return Set(String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init))
    }

    func save(_ keys: Set<String>) {
        let directory = String(path[..<path.lastIndex(of: "/")!])
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if keys.isEmpty {
            try? FileManager.default.removeItem(atPath: path)
        } else {
            try? PlainFiles.replace(path, with: Array(keys.sorted().joined(separator: "\n").utf8))
        }
    }
}
