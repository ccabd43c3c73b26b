#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Vault

/// Removes plaintext that has been sealed and verified. Each change is atomic, so a kill leaves
/// either the old file or the new one.
public enum LegacyCleanup {
    /// Why a plaintext file or entry was left in place although its token was sealed.
    public static let changedSinceRead = "it changed after it was read (another program wrote to it); it was left in place, run migrate again"

    /// Overwrites and unlinks per-server files, each only if it still holds what was read (its
    /// fingerprint), with one sync for all of them. Returns why each file that stayed stayed.
    public static func removeFiles(_ fingerprints: [(path: String, fingerprint: String?)]) -> [String: String] {
        var refusals: [String: String] = [:]
        var unchanged: [String] = []
        for (path, fingerprint) in fingerprints {
            do {
                let current = try PlainFiles.read(path, limit: LegacyScanner.fileLimit)
                if PlainFiles.fingerprint(current) == fingerprint { unchanged.append(path) } else { refusals[path] = changedSinceRead }
            } catch {
                refusals[path] = "\(error)"
            }
        }
        for (path, failure) in PlainFiles.shredAll(unchanged) { refusals[path] = failure.description }
        return refusals
    }

    /// Drops entries from a multi-entry file (re-read now, so entries added meanwhile survive),
    /// each only if it still holds what was read; the file goes when nothing is left in it.
    /// Returns the keys left in place because they changed.
    public static func removeEntries(_ fingerprints: [String: String?], from path: String) throws -> Set<String> {
        let bytes = try PlainFiles.read(path, limit: LegacyScanner.fileLimit)
        var object = try JSONDecoder().decode([String: JSONValue].self, from: Data(bytes))
        var changed: Set<String> = []
        for (key, fingerprint) in fingerprints {
            guard let value = object[key] else { continue }
            if PlainFiles.fingerprint([UInt8](try JSONValue.canonicalEncoder.encode(value))) == fingerprint {
                object[key] = nil
            } else {
                changed.insert(key)
            }
        }
        if object.isEmpty {
            try PlainFiles.shred(path)
        } else {
            try PlainFiles.replace(path, with: try encode(object), wipingOld: true)
        }
        return changed
    }

    public struct CleanupRefusal: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    /// Drops index entries whose file is gone; the index goes when it is empty. An unreadable
    /// index is left alone.
    public static func pruneIndex(in directory: String) throws {
        let path = directory + "/index.json"
        guard PlainFiles.exists(path) else { return }
        let bytes = try PlainFiles.read(path, limit: LegacyScanner.indexLimit)
        let index = try JSONDecoder().decode([String: String].self, from: Data(bytes))
        let kept = index.filter { PlainFiles.exists(directory + "/" + $0.key + ".json") }
        if kept.isEmpty {
            try PlainFiles.shred(path)
        } else if kept.count < index.count {
            try PlainFiles.replace(path, with: try encode(kept), wipingOld: true)
        }
    }

    private static func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return [UInt8](try encoder.encode(value))
    }
}
