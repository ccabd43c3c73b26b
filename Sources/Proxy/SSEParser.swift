/// An incremental parser of `text/event-stream` (the WHATWG server-sent events format): bytes go
/// in as they arrive, whole events come out. Lines end with LF, CRLF or CR; a blank line ends an
/// event; `data` lines are joined with LF; `id` and `retry` are remembered for reconnecting.
/// A line, or an event's data, longer than `lineLimit` is an error: memory never grows with what a
/// server sends.
struct SSEParser {
    struct Event: Equatable {
        var type = "message"
        var data = ""
        var id: String?
    }

    /// A line, or an event's data, longer than the limit.
    struct TooLarge: Error, CustomStringConvertible {
        let limit: Int
        var description: String { "the server sent an event of more than \(limit) bytes (see --max-message-size)" }
    }

    let lineLimit: Int
    private(set) var lastEventID: String?
    /// The reconnection delay the server asked for, in milliseconds.
    private(set) var retry: Int?
    private var line: [UInt8] = []
    private var afterCR = false
    private var pending = Event()
    private var dataLines: [String] = []
    private var dataSize = 0
    private var hasData = false

    init(lineLimit: Int) {
        self.lineLimit = lineLimit
    }

    /// Feeds bytes; returns the events they complete.
    mutating func feed(_ bytes: some Sequence<UInt8>) throws -> [Event] {
        var events: [Event] = []
        for byte in bytes {
            if afterCR {
                afterCR = false
                if byte == 0x0A { continue }  // CRLF: the CR already ended the line
            }
            switch byte {
            case 0x0A, 0x0D:
                afterCR = byte == 0x0D
                if let event = try takeLine() { events.append(event) }
            default:
                guard line.count < lineLimit else { throw TooLarge(limit: lineLimit) }
                line.append(byte)
            }
        }
        return events
    }

    private mutating func takeLine() throws -> Event? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            defer {
                pending = Event()
                dataLines = []
                dataSize = 0
                hasData = false
            }
            guard hasData else { return nil }
            var event = pending
            event.data = dataLines.joined(separator: "\n")
            event.id = lastEventID
            return event
        }
        if line.first == UInt8(ascii: ":") { return nil }  // a comment (keep-alive)
        let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.endIndex
        let field = String(decoding: line[..<colon], as: UTF8.self)
        var value = colon < line.endIndex ? line[(colon + 1)...] : []
        if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        let text = String(decoding: value, as: UTF8.self)
        switch field {
        case "event": pending.type = text.isEmpty ? "message" : text
        case "data":
            dataSize += value.count + 1
            guard dataSize <= lineLimit else { throw TooLarge(limit: lineLimit) }
            dataLines.append(text)
            hasData = true
        case "id" where !text.contains("\0"): lastEventID = text
        case "retry": if let milliseconds = Int(text), milliseconds >= 0, text.allSatisfy(\.isASCII) { retry = milliseconds }
        default: break
        }
        return nil
    }
}
