#if canImport(Glibc)
import Glibc
#endif

/// Who owns the other end of a loopback TCP connection, from /proc/net/tcp: another local user
/// can connect to the callback port as easily as the browser can.
enum PeerCredentials {
    static var currentUser: UInt32 { geteuid() }

    /// The uid owning the socket 127.x.x.x:`peerPort` connected to our `localPort`, or nil when it
    /// cannot be found (the table cannot be read, or the peer has gone).
    static func owner(ofConnectionFrom peerPort: Int, to localPort: Int, table: String = "/proc/net/tcp") -> UInt32? {
        guard let text = readToEnd(table) else { return nil }
        return owner(in: text, peerPort: peerPort, localPort: localPort)
    }

    /// Each line: `sl local_address rem_address st … uid …`, addresses as HEXIP:HEXPORT. The
    /// peer's socket has our port as its remote port and its own as its local port.
    static func owner(in table: String, peerPort: Int, localPort: Int) -> UInt32? {
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 7, let local = port(of: fields[1]), let remote = port(of: fields[2]) else { continue }
            if local == peerPort && remote == localPort { return UInt32(fields[7]) }
        }
        return nil
    }

    /// /proc files report a size of 0: read to the end rather than by the size.
    private static func readToEnd(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { return String(decoding: bytes, as: UTF8.self) }
            bytes += chunk[0..<count]
        }
    }

    private static func port(of address: Substring) -> Int? {
        address.split(separator: ":").last.flatMap { Int($0, radix: 16) }
    }
}
