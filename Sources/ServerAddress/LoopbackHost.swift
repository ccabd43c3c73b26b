/// Which hosts are this machine: the only ones that may be reached over plain http.
public enum LoopbackHost {
    /// `localhost`, an IPv4 literal in 127.0.0.0/8 (four decimal parts of 0 to 255, no leading
    /// zeros: the only spelling plain http is allowed for) or the IPv6 literal ::1 (bracketed or
    /// not). A name that merely starts with "127."
    /// (`127.attacker.example`) is a remote host.
    public static func isLoopback(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let lowered = bare.lowercased()
        if lowered == "localhost" || lowered == "::1" { return true }
        return ipv4(lowered).map { $0[0] == 127 } ?? false
    }

    /// The four bytes of an IPv4 address in any spelling the system's resolver takes for one
    /// (inet_aton): dotted quads, and also `2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`. A
    /// host written so reaches that address, so `isLocal` treats it as that address.
    public static func ipv4Address(_ text: String) -> [Int]? {
        if let strict = ipv4(text) { return strict }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(parts.count) else { return nil }
        var numbers: [UInt64] = []
        for part in parts {
            let lowered = part.lowercased()
            let (digits, radix) = lowered.hasPrefix("0x") ? (lowered.dropFirst(2), 16) : lowered.count > 1 && lowered.hasPrefix("0") ? (lowered.dropFirst(), 8) : (lowered[...], 10)
            guard !digits.isEmpty, digits.count <= 32, let value = UInt64(digits, radix: radix) else { return nil }
            numbers.append(value)
        }
        // Every part but the last is one byte; the last fills the bytes that are left.
        guard numbers.dropLast().allSatisfy({ $0 <= 255 }), numbers.last! < (UInt64(1) << (8 * (5 - numbers.count))) else { return nil }
        var address = numbers.last!
        for (index, byte) in numbers.dropLast().enumerated() { address |= byte << (8 * (3 - index)) }
        return (0..<4).map { Int((address >> (8 * (3 - $0))) & 0xff) }
    }

    /// The four parts of a dotted-quad IPv4 literal, or nil.
    public static func ipv4(_ text: String) -> [Int]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var values: [Int] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
                  part.count == 1 || part.first != "0", let value = Int(part), value <= 255 else { return nil }
            values.append(value)
        }
        return values
    }

    /// Whether `host` names this machine or its link in any form: loopback (any address in
    /// 127.0.0.0/8, `*.localhost`), link-local (169.254.0.0/16, fe80::/10) or unspecified (0.0.0.0,
    /// ::). A remote server's metadata may not send mcp-vault to such an address.
    public static func isLocal(_ host: String) -> Bool {
        let bare = (host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host).lowercased()
        if isLoopback(bare) || bare == "localhost." || bare.hasSuffix(".localhost") || bare.hasSuffix(".localhost.") { return true }
        if let parts = ipv4Address(bare) {
            return parts[0] == 127 || (parts[0] == 169 && parts[1] == 254) || parts == [0, 0, 0, 0]
        }
        if bare.contains(":") {
            let compact = bare.split(separator: "%").first.map(String.init) ?? bare
            // ::, ::1 and their longer spellings (0:0:0:0:0:0:0:1).
            let digits = compact.filter { $0 != ":" && $0 != "0" }
            if digits.isEmpty || (digits == "1" && compact.hasSuffix("1")) { return true }
            if let first = compact.split(separator: ":", omittingEmptySubsequences: false).first, let value = UInt16(first, radix: 16) {
                return value & 0xffc0 == 0xfe80
            }
        }
        return false
    }
}
