/// A JSON value read from a client's configuration file, with where it lies in the file, so that
/// one entry can be replaced and every other byte (formatting, comments) kept.
///
/// Reads JSON with the extensions the clients' own readers accept (JSONC): `//` and `/* */`
/// comments and trailing commas.
public indirect enum JSONNode: Sendable, Equatable {
    case object([Member])
    case array([Located])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    public struct Member: Sendable, Equatable {
        public let key: String
        public let value: Located
        /// From the key's opening quote to the value's end.
        public let span: Range<Int>
    }

    public struct Located: Sendable, Equatable {
        public let node: JSONNode
        /// Byte offsets in the file's UTF-8.
        public let span: Range<Int>
    }

    public subscript(key: String) -> Located? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.key == key }?.value
    }

    public var string: String? {
        if case .string(let value) = self { value } else { nil }
    }

    public var strings: [String]? {
        guard case .array(let items) = self else { return nil }
        let values = items.compactMap(\.node.string)
        return values.count == items.count ? values : nil
    }

    public var members: [Member]? {
        if case .object(let members) = self { members } else { nil }
    }
}

/// A parsed file: its bytes, its root value, and where its comments are.
public struct JSONCDocument: Sendable {
    public let bytes: [UInt8]
    public let root: JSONNode.Located
    public let comments: [Range<Int>]
    /// "\r\n" when the file has any line so ended, else "\n": what new lines are written with.
    public let lineEnding: String

    public struct SyntaxError: Error, Sendable, CustomStringConvertible {
        public let line: Int
        public let column: Int
        public let reason: String
        public var description: String { "line \(line), column \(column): \(reason)" }
    }

    public init(_ bytes: [UInt8]) throws(SyntaxError) {
        var parser = Parser(bytes: bytes)
        let root = try parser.document()
        self.bytes = bytes
        self.root = root
        self.comments = parser.comments
        self.lineEnding = zip(bytes, bytes.dropFirst()).contains { $0 == 0x0D && $1 == 0x0A } ? "\r\n" : "\n"
    }

    public func hasComment(in span: Range<Int>) -> Bool {
        comments.contains { $0.overlaps(span) }
    }

    /// The text of a span.
    public func text(_ span: Range<Int>) -> String {
        String(decoding: bytes[span], as: UTF8.self)
    }

    /// The whitespace at the start of the line holding `offset`.
    public func indentation(ofLineAt offset: Int) -> String {
        var start = offset
        while start > 0 && bytes[start - 1] != 0x0A { start -= 1 }
        var end = start
        while end < bytes.count && (bytes[end] == 0x20 || bytes[end] == 0x09) { end += 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}

private struct Parser {
    let bytes: [UInt8]
    var position = 0
    var comments: [Range<Int>] = []
    var depth = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
        // A UTF-8 byte order mark is skipped, as editors write one.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
    }

    mutating func document() throws(JSONCDocument.SyntaxError) -> JSONNode.Located {
        try skipSpace()
        let value = try self.value()
        try skipSpace()
        guard position == bytes.count else { throw error("unexpected text after the end of the document") }
        return value
    }

    func error(_ reason: String, at offset: Int? = nil) -> JSONCDocument.SyntaxError {
        let end = min(offset ?? position, bytes.count)
        var line = 1
        var column = 1
        for byte in bytes[..<end] {
            if byte == 0x0A { line += 1; column = 1 } else if byte & 0xC0 != 0x80 { column += 1 }
        }
        return JSONCDocument.SyntaxError(line: line, column: column, reason: reason)
    }

    mutating func skipSpace() throws(JSONCDocument.SyntaxError) {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D:
                position += 1
            case UInt8(ascii: "/") where position + 1 < bytes.count && bytes[position + 1] == UInt8(ascii: "/"):
                let start = position
                while position < bytes.count && bytes[position] != 0x0A { position += 1 }
                comments.append(start..<position)
            case UInt8(ascii: "/") where position + 1 < bytes.count && bytes[position + 1] == UInt8(ascii: "*"):
                let start = position
                position += 2
                while position + 1 < bytes.count && !(bytes[position] == UInt8(ascii: "*") && bytes[position + 1] == UInt8(ascii: "/")) {
                    position += 1
                }
                guard position + 1 < bytes.count else { throw error("a /* comment is not closed", at: start) }
                position += 2
                comments.append(start..<position)
            default:
                return
            }
        }
    }

    mutating func value() throws(JSONCDocument.SyntaxError) -> JSONNode.Located {
        guard position < bytes.count else { throw error("the document ends where a value was expected") }
        let start = position
        switch bytes[position] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return JSONNode.Located(node: .string(try string()), span: start..<position)
        case UInt8(ascii: "t"): try literal("true"); return JSONNode.Located(node: .bool(true), span: start..<position)
        case UInt8(ascii: "f"): try literal("false"); return JSONNode.Located(node: .bool(false), span: start..<position)
        case UInt8(ascii: "n"): try literal("null"); return JSONNode.Located(node: .null, span: start..<position)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            while position < bytes.count, "+-.0123456789eE".utf8.contains(bytes[position]) { position += 1 }
            return JSONNode.Located(node: .number(String(decoding: bytes[start..<position], as: UTF8.self)), span: start..<position)
        default:
            throw error("a value was expected")
        }
    }

    mutating func literal(_ word: String) throws(JSONCDocument.SyntaxError) {
        let expected = Array(word.utf8)
        guard bytes[position...].starts(with: expected) else { throw error("a value was expected") }
        position += expected.count
    }

    mutating func enter() throws(JSONCDocument.SyntaxError) {
        depth += 1
        guard depth <= 256 else { throw error("nested more than 256 levels deep") }
    }

    mutating func object() throws(JSONCDocument.SyntaxError) -> JSONNode.Located {
        let start = position
        try enter()
        position += 1
        var members: [JSONNode.Member] = []
        while true {
            try skipSpace()
            guard position < bytes.count else { throw error("an object is not closed", at: start) }
            if bytes[position] == UInt8(ascii: "}") { break }
            guard bytes[position] == UInt8(ascii: "\"") else { throw error("a member name in double quotes was expected") }
            let keyStart = position
            let key = try string()
            try skipSpace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw error("':' was expected after \"\(key)\"") }
            position += 1
            try skipSpace()
            let value = try self.value()
            members.append(JSONNode.Member(key: key, value: value, span: keyStart..<value.span.upperBound))
            try skipSpace()
            guard position < bytes.count else { throw error("an object is not closed", at: start) }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            guard bytes[position] == UInt8(ascii: "}") else { throw error("',' or '}' was expected") }
        }
        position += 1
        depth -= 1
        return JSONNode.Located(node: .object(members), span: start..<position)
    }

    mutating func array() throws(JSONCDocument.SyntaxError) -> JSONNode.Located {
        let start = position
        try enter()
        position += 1
        var items: [JSONNode.Located] = []
        while true {
            try skipSpace()
            guard position < bytes.count else { throw error("an array is not closed", at: start) }
            if bytes[position] == UInt8(ascii: "]") { break }
            items.append(try value())
            try skipSpace()
            guard position < bytes.count else { throw error("an array is not closed", at: start) }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            guard bytes[position] == UInt8(ascii: "]") else { throw error("',' or ']' was expected") }
        }
        position += 1
        depth -= 1
        return JSONNode.Located(node: .array(items), span: start..<position)
    }

    mutating func string() throws(JSONCDocument.SyntaxError) -> String {
        let start = position
        position += 1
        var scalars = String.UnicodeScalarView()
        var pendingHighSurrogate: UInt32?
        var run = position
        func flush(_ bytes: [UInt8], _ from: Int, _ to: Int, into scalars: inout String.UnicodeScalarView) {
            if from < to { scalars.append(contentsOf: String(decoding: bytes[from..<to], as: UTF8.self).unicodeScalars) }
        }
        while true {
            guard position < bytes.count else { throw error("a string is not closed", at: start) }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                flush(bytes, run, position, into: &scalars)
                position += 1
                return String(scalars)
            }
            if byte < 0x20 { throw error("a control character inside a string") }
            guard byte == UInt8(ascii: "\\") else { position += 1; continue }
            flush(bytes, run, position, into: &scalars)
            guard position + 1 < bytes.count else { throw error("a string is not closed", at: start) }
            let escape = bytes[position + 1]
            position += 2
            switch escape {
            case UInt8(ascii: "\""): scalars.append("\"")
            case UInt8(ascii: "\\"): scalars.append("\\")
            case UInt8(ascii: "/"): scalars.append("/")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"):
                guard position + 4 <= bytes.count, let unit = UInt32(String(decoding: bytes[position..<position + 4], as: UTF8.self), radix: 16) else {
                    throw error("\\u must be followed by four hex digits")
                }
                position += 4
                if (0xD800..<0xDC00).contains(unit) {
                    pendingHighSurrogate = unit
                } else if (0xDC00..<0xE000).contains(unit), let high = pendingHighSurrogate {
                    scalars.append(Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00))!)
                    pendingHighSurrogate = nil
                } else {
                    scalars.append(Unicode.Scalar(unit) ?? "\u{FFFD}")
                }
            default:
                throw error("an unknown escape \\\(Character(Unicode.Scalar(escape)))")
            }
            run = position
        }
    }
}
