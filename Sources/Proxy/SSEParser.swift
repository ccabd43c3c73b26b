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
    /// The event's data lines so far, joined with LF (nil: no data line yet).
    private var data: [UInt8]?
    /// The bytes of the event's field lines so far, as sent: what the limit counts (endless empty
    /// `data:` lines add little data but never end).
    private var eventSize = 0

    init(lineLimit: Int) {
        self.lineLimit = lineLimit
    }

    /// Feeds bytes; returns the events they complete. Runs of bytes between line ends are
    /// copied whole, not byte by byte.
    mutating func feed<Bytes: Collection<UInt8>>(_ bytes: Bytes) throws -> [Event] {
        var events: [Event] = []
        var index = bytes.startIndex
        if afterCR, index < bytes.endIndex {
            afterCR = false
            if bytes[index] == 0x0A { index = bytes.index(after: index) }  // CRLF: the CR already ended the line
        }
        while index < bytes.endIndex {
            guard let end = bytes[index...].firstIndex(where: { $0 == 0x0A || $0 == 0x0D }) else {
                try append(bytes[index...])
                break
            }
            try append(bytes[index..<end])
            if let event = try takeLine() { events.append(event) }
            index = bytes.index(after: end)
            if bytes[end] == 0x0D {
                if index == bytes.endIndex {
                    afterCR = true
                } else if bytes[index] == 0x0A {
                    index = bytes.index(after: index)
                }
            }
        }
        return events
    }

    private mutating func append(_ piece: some Collection<UInt8>) throws {
        guard line.count + piece.count <= lineLimit else { throw TooLarge(limit: lineLimit) }
        line.append(contentsOf: piece)
    }

    private mutating func takeLine() throws -> Event? {
        defer { line.removeAll(keepingCapacity: line.count <= 4096) }
        if line.isEmpty {
            defer {
                pending = Event()
                data = nil
                eventSize = 0
            }
            guard let data else { return nil }
            var event = pending
            event.data = String(decoding: data, as: UTF8.self)
            event.id = lastEventID
            return event
        }
        if line.first == UInt8(ascii: ":") { return nil }  // a comment (keep-alive)
        eventSize += line.count + 1
        guard eventSize <= lineLimit else { throw TooLarge(limit: lineLimit) }
        let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.endIndex
        var value = colon < line.endIndex ? line[(colon + 1)...] : []
        if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        switch line[..<colon] {
        case ArraySlice("data".utf8):
            if data != nil { data!.append(0x0A) } else { data = [] }
            data!.append(contentsOf: value)
        case ArraySlice("event".utf8):
            let text = String(decoding: value, as: UTF8.self)
            pending.type = text.isEmpty ? "message" : text
        case ArraySlice("id".utf8) where !value.contains(0):
            lastEventID = String(decoding: value, as: UTF8.self)
        case ArraySlice("retry".utf8):
            let text = String(decoding: value, as: UTF8.self)
            if let milliseconds = Int(text), milliseconds >= 0, text.allSatisfy(\.isASCII) { retry = milliseconds }
        default: break
        }
        return nil
    }
}
