import Foundation

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
        guard let object = try? JSONSerialization.jsonObject(with: bytes, options: [.fragmentsAllowed]) as? [String: Any] else { return nil }
        self.bytes = bytes
        method = object["method"] as? String
        switch object["id"] {
        case let number as NSNumber: id = number.stringValue
        case let text as String:
            id = (try? JSONSerialization.data(withJSONObject: text, options: [.fragmentsAllowed])).map { String(decoding: $0, as: UTF8.self) }
        default: id = nil
        }
    }

    /// A JSON-RPC error response to the request `id` (already JSON), for the client.
    static func error(id: String?, code: Int, message: String) -> Data {
        let text = (try? JSONSerialization.data(withJSONObject: message, options: [.fragmentsAllowed])).map { String(decoding: $0, as: UTF8.self) } ?? "\"error\""
        return Data(#"{"jsonrpc":"2.0","id":\#(id ?? "null"),"error":{"code":\#(code),"message":\#(text)}}"#.utf8)
    }

    /// The negotiated protocol version in an initialize result.
    static func protocolVersion(inInitializeResult bytes: Data) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: bytes) as? [String: Any],
              let result = object["result"] as? [String: Any] else { return nil }
        return result["protocolVersion"] as? String
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
        guard !ignored.isEmpty, var object = try? JSONSerialization.jsonObject(with: bytes) as? [String: Any],
              var result = object["result"] as? [String: Any], let tools = result["tools"] as? [[String: Any]] else { return bytes }
        result["tools"] = tools.filter { tool in
            let name = tool["name"] as? String ?? ""
            return !ignored.contains { matches(name, pattern: $0) }
        }
        object["result"] = result
        return (try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])) ?? bytes
    }
}
