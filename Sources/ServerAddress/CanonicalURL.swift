/// The canonical form of an MCP server URL: the name its credentials are stored under, and the
/// RFC 8707 resource indicator. SECURITY.md ("Record ids and canonical server URLs") specifies
/// this algorithm step by step; the test vectors in Tests/Vectors/v1 pin it down.
///
/// It works on ASCII bytes alone (no URL library), so that another implementation written from
/// the specification gets the same bytes, and so that the same text always names the same record.
public struct CanonicalURL: Sendable, Hashable, CustomStringConvertible {
    /// `scheme "://" host [":" port] path ["?" query]`.
    public let text: String
    public let scheme: String
    /// Lowercase; an IPv6 literal keeps its brackets.
    public let host: String
    /// Only when it is not the scheme's default.
    public let port: Int?

    /// Scheme, host and port (when not the scheme's default): `https://mcp.example.com`.
    public var origin: String { scheme + "://" + host + (port.map { ":\($0)" } ?? "") }

    public var description: String { text }

    /// Why a text is not a usable server URL, as a phrase that completes "… because".
    public enum Refusal: Error, Sendable, Equatable {
        case notAbsolute
        case scheme(String)
        case plainHTTP
        case userInfo
        case emptyHost
        case hostCharacter
        case nonASCII
        case forbiddenCharacter(position: Int)
        case badPercentEncoding
        case badPort

        public var reason: String {
            switch self {
            case .notAbsolute: "it is not an absolute URL with a host (for example https://mcp.example.com/mcp)"
            case .scheme(let scheme): "the scheme '\(scheme)' is not https (or http for a loopback address)"
            case .plainHTTP: "plain http is allowed only for localhost, 127.0.0.0/8 and [::1]; use https"
            case .userInfo: "it must not contain a user name or password"
            case .emptyHost: "the host is empty"
            case .hostCharacter: "the host may hold only letters, digits, '-' and '.' (or be an IPv6 literal in brackets)"
            case .nonASCII: "it holds non-ASCII characters: write the host in its ASCII (xn--) form and percent-encode the rest as UTF-8"
            case .forbiddenCharacter(let position): "character \(position + 1) is a space, a control character or not allowed in a URL"
            case .badPercentEncoding: "a '%' is not followed by two hex digits"
            case .badPort: "the port is not a number from 1 to 65535"
            }
        }
    }

    public init(_ input: String) throws(Refusal) {
        var bytes = Array(input.utf8)
        // 1. Surrounding ASCII whitespace goes; anything else unprintable or non-ASCII is refused.
        while let first = bytes.first, Self.isTrimmedWhitespace(first) { bytes.removeFirst() }
        while let last = bytes.last, Self.isTrimmedWhitespace(last) { bytes.removeLast() }
        if bytes.contains(where: { $0 >= 0x80 }) { throw .nonASCII }
        if let bad = bytes.firstIndex(where: { $0 <= 0x20 || $0 == 0x7f }) { throw .forbiddenCharacter(position: bad) }

        // 2. scheme "://"
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon > 0,
              bytes[colon...].starts(with: Array("://".utf8)) else { throw .notAbsolute }
        let scheme = String(decoding: bytes[..<colon], as: UTF8.self).lowercased()
        guard scheme == "https" || scheme == "http" else {
            guard scheme.utf8.allSatisfy(Self.isSchemeCharacter) else { throw .notAbsolute }
            throw .scheme(scheme)
        }

        // The fragment is dropped before anything else is looked at.
        var rest = bytes[(colon + 3)...]
        if let hash = rest.firstIndex(of: UInt8(ascii: "#")) { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        let afterAuthority = rest[authorityEnd...]

        // 3. Authority: no userinfo; host; optional port.
        if authority.contains(UInt8(ascii: "@")) { throw .userInfo }
        var host: String
        var portText: ArraySlice<UInt8>
        if authority.first == UInt8(ascii: "[") {
            guard let close = authority.firstIndex(of: UInt8(ascii: "]")) else { throw .hostCharacter }
            let inside = authority[(authority.startIndex + 1)..<close]
            guard !inside.isEmpty, inside.allSatisfy({ Self.isHexDigit($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }) else {
                throw .hostCharacter
            }
            host = "[" + String(decoding: inside, as: UTF8.self).lowercased() + "]"
            portText = authority[(close + 1)...]
            if !portText.isEmpty {
                guard portText.first == UInt8(ascii: ":") else { throw .hostCharacter }
                portText = portText.dropFirst()
            }
        } else {
            let portColon = authority.firstIndex(of: UInt8(ascii: ":")) ?? authority.endIndex
            let name = authority[..<portColon]
            guard name.allSatisfy({ Self.isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }) else {
                throw .hostCharacter
            }
            host = String(decoding: name, as: UTF8.self).lowercased()
            portText = portColon == authority.endIndex ? [] : authority[(portColon + 1)...]
        }
        if host.isEmpty { throw .emptyHost }
        var port: Int?
        if !portText.isEmpty {
            let digits = portText.drop(while: { $0 == UInt8(ascii: "0") })  // leading zeros do not count
            guard portText.allSatisfy(Self.isDigit), digits.count <= 5 else { throw .badPort }
            let value = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
            guard (1...65535).contains(value) else { throw .badPort }
            port = value
        }
        if port == (scheme == "https" ? 443 : 80) { port = nil }
        if scheme == "http" && !LoopbackHost.isLoopback(host) { throw .plainHTTP }

        // 4.-5. Path and query: normalized percent-encoding; dot segments and trailing slashes go.
        let queryStart = afterAuthority.firstIndex(of: UInt8(ascii: "?"))
        let rawPath = afterAuthority[..<(queryStart ?? afterAuthority.endIndex)]
        let rawQuery = queryStart.map { afterAuthority[($0 + 1)...] } ?? []
        var path = Self.removeDotSegments(try Self.normalizePercentEncoding(rawPath, allowQuestionMark: false))
        while path.last == UInt8(ascii: "/") { path.removeLast() }
        let query = try Self.normalizePercentEncoding(rawQuery, allowQuestionMark: true)

        var text = scheme + "://" + host
        if let port { text += ":\(port)" }
        text += String(decoding: path, as: UTF8.self)
        if !query.isEmpty { text += "?" + String(decoding: query, as: UTF8.self) }
        self.text = text
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    // MARK: Steps

    /// Uppercases the hex of every %XX and decodes those that stand for unreserved characters;
    /// refuses characters that RFC 3986 allows in neither a path nor a query.
    static func normalizePercentEncoding(_ input: ArraySlice<UInt8>, allowQuestionMark: Bool) throws(Refusal) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var index = input.startIndex
        while index < input.endIndex {
            let byte = input[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < input.endIndex, let high = hexValue(input[index + 1]), let low = hexValue(input[index + 2]) else {
                    throw .badPercentEncoding
                }
                let decoded = high << 4 | low
                if isUnreserved(decoded) {
                    output.append(decoded)
                } else {
                    output += [UInt8(ascii: "%"), upperHex(high), upperHex(low)]
                }
                index += 3
                continue
            }
            guard isPathCharacter(byte) || (allowQuestionMark && byte == UInt8(ascii: "?")) else {
                throw .forbiddenCharacter(position: index)
            }
            output.append(byte)
            index += 1
        }
        return output
    }

    /// RFC 3986 section 5.2.4.
    static func removeDotSegments(_ input: [UInt8]) -> [UInt8] {
        var segments: [ArraySlice<UInt8>] = []
        var remaining = input[...]
        let slash = UInt8(ascii: "/")
        while !remaining.isEmpty {
            if remaining.starts(with: Array("../".utf8)) {
                remaining = remaining.dropFirst(3)
            } else if remaining.starts(with: Array("./".utf8)) {
                remaining = remaining.dropFirst(2)
            } else if remaining.starts(with: Array("/./".utf8)) {
                remaining = remaining.dropFirst(2)
            } else if Array(remaining) == Array("/.".utf8) {
                remaining = [slash][...]
            } else if remaining.starts(with: Array("/../".utf8)) {
                remaining = remaining.dropFirst(3)
                if !segments.isEmpty { segments.removeLast() }
            } else if Array(remaining) == Array("/..".utf8) {
                remaining = [slash][...]
                if !segments.isEmpty { segments.removeLast() }
            } else if Array(remaining) == Array(".".utf8) || Array(remaining) == Array("..".utf8) {
                remaining = []
            } else {
                // Move the first segment (with its leading "/", if any) to the output.
                let start = remaining.first == slash ? remaining.index(after: remaining.startIndex) : remaining.startIndex
                let end = remaining[start...].firstIndex(of: slash) ?? remaining.endIndex
                segments.append(remaining[remaining.startIndex..<end])
                remaining = remaining[end...]
            }
        }
        return segments.flatMap { $0 }
    }

    // MARK: Character classes (RFC 3986)

    static func isTrimmedWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0a || byte == 0x0d || byte == 0x0c
    }

    static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isDigit(byte) || (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte)
    }

    static func isHexDigit(_ byte: UInt8) -> Bool { hexValue(byte) != nil }

    static func isSchemeCharacter(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
    }

    static func isUnreserved(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || Array("-._~".utf8).contains(byte)
    }

    /// pchar (unreserved, sub-delims, ":" and "@") plus "/"; "%" is handled by the caller.
    static func isPathCharacter(_ byte: UInt8) -> Bool {
        isUnreserved(byte) || Array("!$&'()*+,;=:@/".utf8).contains(byte)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    static func upperHex(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? 0x30 + nibble : 0x41 + nibble - 10
    }
}
