import Foundation

/// Who owns the other end of a loopback TCP connection, from /proc/net/tcp: another local user
/// can connect to the callback port as easily as the browser can.
enum PeerCredentials {
    static var currentUser: UInt32 { geteuid() }

    /// The uid owning the socket 127.x.x.x:`peerPort` connected to our `localPort`, or nil when it
    /// cannot be found (the table cannot be read, or the peer has gone).
    static func owner(ofConnectionFrom peerPort: Int, to localPort: Int, table: String = "/proc/net/tcp") -> UInt32? {
        // /proc files report a size of 0: read to the end rather than by the size.
        guard let handle = FileHandle(forReadingAtPath: table), let data = try? handle.readToEnd() else { return nil }
        try? handle.close()
        return owner(in: String(decoding: data, as: UTF8.self), peerPort: peerPort, localPort: localPort)
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

    private static func port(of address: Substring) -> Int? {
        address.split(separator: ":").last.flatMap { Int($0, radix: 16) }
    }
}
