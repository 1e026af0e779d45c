import Foundation
import NIOCore
import NIOHTTP1
import Raft
import Wire

/// /healthz, /livez and /readyz as kube-apiserver answers them: "ok", or with `?verbose` one
/// line per check (`[+]etcd ok`, `[-]etcd failed: …`) and a last line saying whether the
/// endpoint passed; a failing endpoint answers 500 with the verbose text. `/readyz/<check>`
/// runs one check.
extension Gateway {
    /// The checks of each endpoint, in order.
    static func healthChecks(endpoint: String) -> [String] {
        endpoint == "readyz" ? ["ping", "etcd", "informer-sync"] : ["ping", "etcd"]
    }

    /// Runs one check: nil when it passes, otherwise why not.
    func runHealthCheck(_ name: String) async -> String? {
        switch name {
        case "ping":
            return nil
        case "etcd":
            do {
                _ = try await server.store.range(RangeRequest(key: Array("/registry/".utf8), limit: 1, countOnly: true))
                return nil
            } catch {
                return "the store does not answer: \(error.message)"
            }
        case "informer-sync":
            let unloaded = await server.loop.submit {
                self.server.registry.caches.values.filter { !$0.isReady }.map(\.type.qualifiedName).sorted()
            }
            return unloaded.isEmpty ? nil : "watch caches not loaded yet: \(unloaded.joined(separator: ", "))"
        default:
            return "no such check"
        }
    }

    /// Answers a health endpoint; returns the HTTP code sent.
    func serveHealth(endpoint: String, check: String?, verbose: Bool, _ responder: HTTPResponder) async -> Int {
        let all = Self.healthChecks(endpoint: endpoint)
        let names: [String]
        if let check {
            guard all.contains(check) else {
                respond(error: Self.pathNotFound("/\(endpoint)/\(check)"), to: responder)
                return 404
            }
            names = [check]
        } else {
            names = all
        }
        var lines: [String] = []
        var passed = true
        for name in names {
            if let failure = await runHealthCheck(name) {
                passed = false
                lines.append("[-]\(name) failed: \(failure)")
            } else {
                lines.append("[+]\(name) ok")
            }
        }
        let text: String
        if passed && !verbose {
            text = "ok"
        } else {
            text = lines.joined(separator: "\n") + "\n\(endpoint) check \(passed ? "passed" : "failed")\n"
        }
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/plain; charset=utf-8")
        headers.add(name: "x-content-type-options", value: "nosniff")
        let status: HTTPResponseStatus = passed ? .ok : .internalServerError
        responder.respond(status, headers: headers, body: ByteBuffer(string: text))
        return Int(status.code)
    }
}
