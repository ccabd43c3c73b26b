// mcp-vault-demo-server: the bundled authorization server and MCP endpoint on 127.0.0.1.
//
//   mcp-vault-demo-server [--port N] [--token-lifetime SECONDS] [--issuer-path /PATH] [--no-dcr]
//
// Prints "listening on http://127.0.0.1:PORT/mcp" once it accepts connections, then serves until
// it is stopped (SIGTERM or Ctrl-C).
import AuthorizationServer
import Foundation

/// The options given on the command line; exits with status 64 on a bad one.
func parseArguments(_ arguments: [String]) -> (options: ServerOptions, port: Int) {
    var options = ServerOptions()
    var port = 0
    var rest = arguments[...]
    func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("mcp-vault-demo-server: \(message)\n".utf8))
        exit(64)
    }
    func value(_ flag: String) -> String {
        guard let next = rest.popFirst() else { fail("\(flag) needs a value") }
        return next
    }
    while let argument = rest.popFirst() {
        switch argument {
        case "--port": port = Int(value(argument)) ?? -1
        case "--token-lifetime": options.accessTokenLifetime = Int(value(argument)) ?? -1
        case "--issuer-path": options.issuerPath = value(argument)
        case "--no-dcr": options.dynamicRegistration = false
        case "--options-json":
            // Every switch at once, for the tests: a JSON-encoded ServerOptions; members left out keep
            // their defaults (a benchmark names only the ones it sets).
            // A complete encoding (the tests') is taken as it is: there an absent optional means nil.
            let text = value(argument)
            if let complete = try? JSONDecoder().decode(ServerOptions.self, from: Data(text.utf8)) {
                options = complete
                continue
            }
            guard let given = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                  let defaults = try? JSONSerialization.jsonObject(with: JSONEncoder().encode(ServerOptions())) as? [String: Any],
                  let merged = try? JSONSerialization.data(withJSONObject: defaults.merging(given) { $1 }),
                  let decoded = try? JSONDecoder().decode(ServerOptions.self, from: merged) else {
                fail("--options-json takes a JSON-encoded ServerOptions")
            }
            options = decoded
        case "--help", "-h":
            print("usage: mcp-vault-demo-server [--port N] [--token-lifetime SECONDS] [--issuer-path /PATH] [--no-dcr]")
            exit(0)
        default: fail("unknown argument \(argument)")
        }
    }
    guard (0...65535).contains(port), options.accessTokenLifetime > 0 else { fail("bad --port or --token-lifetime") }
    return (options, port)
}

let (options, port) = parseArguments(Array(CommandLine.arguments.dropFirst()))
try await AuthorizationServer(options: options).run(port: port) { port in
    FileHandle.standardOutput.write(Data("listening on http://127.0.0.1:\(port)/mcp\n".utf8))
}
