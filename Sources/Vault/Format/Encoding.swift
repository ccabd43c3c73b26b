#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Hex and base64 for the header's public fields.
enum Encoding {
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var characters: [UInt8] = []
        for byte in bytes {
            characters.append(digits[Int(byte >> 4)])
            characters.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: characters, as: UTF8.self)
    }

    /// Lowercase hex of exactly `length` bytes, or nil.
    static func bytes(fromHex text: String, length: Int) -> [UInt8]? {
        let characters = Array(text.utf8)
        guard characters.count == length * 2 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        for index in stride(from: 0, to: characters.count, by: 2) {
            guard let high = nibble(characters[index]), let low = nibble(characters[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return character - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    static func base64(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
    }

    /// Standard base64 decoding to exactly `length` bytes, or nil.
    static func bytes(fromBase64 text: String, length: Int) -> [UInt8]? {
        guard let data = Data(base64Encoded: text), data.count == length else { return nil }
        return [UInt8](data)
    }

    static func bigEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).reversed().map { UInt8(truncatingIfNeeded: value >> (UInt64($0) * 8)) }
    }

    static func uint64(bigEndian bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }
}
