/// The parameters of a `Bearer` challenge (RFC 6750, RFC 9728): resource_metadata, scope, error.
public struct BearerChallenge: Sendable, Equatable {
    public var parameters: [String: String] = [:]

    public var resourceMetadata: String? { parameters["resource_metadata"] }
    public var scope: String? { parameters["scope"] }
    public var error: String? { parameters["error"] }

    /// Parses a WWW-Authenticate value; nil when it has no Bearer challenge.
    public init?(_ header: String) {
        var rest = Substring(header)
        var inBearer = false
        var found = false
        while !rest.isEmpty {
            rest = rest.drop(while: { $0 == " " || $0 == "," })
            let token = rest.prefix(while: { $0 != " " && $0 != "=" && $0 != "," })
            rest = rest.dropFirst(token.count)
            let afterSpaces = rest.drop(while: { $0 == " " })
            if afterSpaces.first == "=" {
                rest = afterSpaces.dropFirst().drop(while: { $0 == " " })
                var value = ""
                if rest.first == "\"" {
                    rest = rest.dropFirst()
                    while let character = rest.first, character != "\"" {
                        if character == "\\" { rest = rest.dropFirst() }
                        if let next = rest.first { value.append(next) }
                        rest = rest.dropFirst()
                    }
                    rest = rest.dropFirst()
                } else {
                    value = String(rest.prefix(while: { $0 != "," && $0 != " " }))
                    rest = rest.dropFirst(value.count)
                }
                if inBearer { parameters[token.lowercased()] = value }
            } else if !token.isEmpty {
                inBearer = token.lowercased() == "bearer"
                found = found || inBearer
            }
        }
        guard found else { return nil }
    }
}
