#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The little the proxy needs to know about a JSON-RPC message: it is a message pump, not an
/// MCP implementation.
struct JSONRPCMessage {
    /// The message as the client sent it (or the server), without its line ending.
    let bytes: Data
    /// The id, re-encoded as JSON (a number or a string), when the message has one.
    let id: String?
    let method: String?
    /// A response to a request of the other side (no method, an id).
    var isResponse: Bool { method == nil && id != nil }
    var isRequest: Bool { method != nil && id != nil }

    init?(_ bytes: Data) {
        /// Only what routing needs; the other members are not decoded.
        struct Envelope: Decodable {
            let method: String?
            let id: JSONValue?
        }
        guard let envelope = try? JSONDecoder().decode(Envelope.self, from: bytes) else { return nil }
        self.bytes = bytes
        method = envelope.method
        switch envelope.id {
        case .integer(let number): id = String(number)
        case .number(let number): id = String(number)
        case .string(let text): id = Self.quoted(text)
        default: id = nil
        }
    }

    /// `bytes` as one line, when they are one JSON-RPC 2.0 message (a request, a notification or a
    /// response) or a batch of them; nil for anything else. A valid JSON text keeps its meaning
    /// without its line breaks (inside strings they are always escaped), so a pretty-printed
    /// answer becomes one line by dropping them. Every line the client reads is a message.
    static func oneLine(_ bytes: Data) -> Data? {
        struct Message: Decodable {
            init(from decoder: any Decoder) throws {
                enum Key: String, CodingKey { case jsonrpc, method, id, result, error }
                let members = try decoder.container(keyedBy: Key.self)
                guard try members.decode(String.self, forKey: .jsonrpc) == "2.0" else { throw Invalid() }
                if members.contains(.method) {
                    _ = try members.decode(String.self, forKey: .method)
                } else {
                    guard members.contains(.id), members.contains(.result) != members.contains(.error) else { throw Invalid() }
                }
            }
        }
        struct Invalid: Error {}
        enum Batch: Decodable {
            case one(Message), many([Message])
            init(from decoder: any Decoder) throws {
                if let many = try? decoder.singleValueContainer().decode([Message].self), !many.isEmpty {
                    self = .many(many)
                } else {
                    self = .one(try decoder.singleValueContainer().decode(Message.self))
                }
            }
        }
        guard (try? JSONDecoder().decode(Batch.self, from: bytes)) != nil else { return nil }
        guard bytes.contains(where: { $0 == 0x0A || $0 == 0x0D }) else { return bytes }
        return Data(bytes.lazy.filter { $0 != 0x0A && $0 != 0x0D })
    }

    /// `text` as a JSON string.
    static func quoted(_ text: String) -> String {
        (try? JSONEncoder().encode(text)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
    }

    /// A JSON-RPC error response to the request `id` (already JSON), for the client.
    static func error(id: String?, code: Int, message: String) -> Data {
        Data(#"{"jsonrpc":"2.0","id":\#(id ?? "null"),"error":{"code":\#(code),"message":\#(quoted(message))}}"#.utf8)
    }

    /// The negotiated protocol version in an initialize result.
    static func protocolVersion(inInitializeResult bytes: Data) -> String? {
        struct Answer: Decodable {
            struct Result: Decodable { let protocolVersion: String? }
            let result: Result?
        }
        return (try? JSONDecoder().decode(Answer.self, from: bytes))?.result?.protocolVersion
    }

    /// A tools/list result without the tools named in `ignored` (`--ignore-tool`).
    /// `--ignore-tool` patterns as mcp-remote reads them: `*` matches any run of characters,
    /// and case does not matter.
    static func matches(_ name: String, pattern: String) -> Bool {
        let parts = pattern.lowercased().split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        var rest = Substring(name.lowercased())
        guard parts.count > 1 else { return rest == Substring(parts[0]) }
        guard rest.hasPrefix(parts[0]) else { return false }
        rest = rest.dropFirst(parts[0].count)
        for part in parts.dropFirst().dropLast() where !part.isEmpty {
            guard let range = rest.firstRange(of: part) else { return false }
            rest = rest[range.upperBound...]
        }
        return parts.last!.isEmpty || rest.hasSuffix(parts.last!)
    }

    static func removingTools(_ ignored: Set<String>, from bytes: Data) -> Data {
        guard !ignored.isEmpty, case .object(var object)? = try? JSONDecoder().decode(JSONValue.self, from: bytes),
              case .object(var result)? = object["result"], case .array(let tools)? = result["tools"] else { return bytes }
        result["tools"] = .array(tools.filter { tool in
            guard case .object(let members) = tool, case .string(let name)? = members["name"] else { return true }
            return !ignored.contains { matches(name, pattern: $0) }
        })
        object["result"] = .object(result)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(JSONValue.object(object))) ?? bytes
    }
}

/// Any JSON value, for the one place the proxy edits a message (and a message's id). Integers
/// stay integers: a number is a Double only when it is not a whole Int64.
enum JSONValue: Codable, Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let value = try decoder.singleValueContainer()
        if value.decodeNil() {
            self = .null
        } else if let bool = try? value.decode(Bool.self) {
            self = .bool(bool)
        } else if let integer = try? value.decode(Int64.self) {
            self = .integer(integer)
        } else if let number = try? value.decode(Double.self) {
            self = .number(number)
        } else if let string = try? value.decode(String.self) {
            self = .string(string)
        } else if let array = try? value.decode([JSONValue].self) {
            self = .array(array)
        } else {
            self = .object(try value.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var value = encoder.singleValueContainer()
        switch self {
        case .null: try value.encodeNil()
        case .bool(let bool): try value.encode(bool)
        case .integer(let integer): try value.encode(integer)
        case .number(let number): try value.encode(number)
        case .string(let string): try value.encode(string)
        case .array(let array): try value.encode(array)
        case .object(let object): try value.encode(object)
        }
    }
}
