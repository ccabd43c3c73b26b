#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Vault

/// Removes plaintext that has been sealed and verified. Each change is atomic, so a kill leaves
/// either the old file or the new one.
public enum LegacyCleanup {
    /// Overwrites and unlinks one per-server file.
    public static func removeFile(_ path: String) throws(PlainFiles.Failure) {
        try PlainFiles.shred(path)
    }

    /// Drops `keys` from a multi-entry file (re-read now, so entries added meanwhile survive);
    /// the file goes when nothing is left in it.
    public static func removeEntries(_ keys: Set<String>, from path: String) throws {
        let bytes = try PlainFiles.read(path, limit: LegacyScanner.indexLimit)
        var object = try JSONDecoder().decode([String: JSONValue].self, from: Data(bytes))
        for key in keys { object[key] = nil }
        if object.isEmpty {
            try PlainFiles.shred(path)
        } else {
            try PlainFiles.replace(path, with: try encode(object))
        }
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
            try PlainFiles.replace(path, with: try encode(kept))
        }
    }

    private static func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return [UInt8](try encoder.encode(value))
    }
}
