/// Which hosts are this machine: the only ones that may be reached over plain http.
public enum LoopbackHost {
    /// `localhost`, an IPv4 literal in 127.0.0.0/8 (four decimal parts of 0 to 255, no leading
    /// zeros) or the IPv6 literal ::1 (bracketed or not). A name that merely starts with "127."
    /// (`127.attacker.example`) is a remote host.
    public static func isLoopback(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let lowered = bare.lowercased()
        if lowered == "localhost" || lowered == "::1" { return true }
        return ipv4(lowered).map { $0[0] == 127 } ?? false
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
}
