import Foundation

/// ResponseFormat is the form of a response body the client's Accept header chose.
public enum ResponseFormat: Sendable, Equatable {
    /// Plain Kubernetes JSON.
    case json
    /// A meta.k8s.io/v1 Table (kubectl's `get` asks for it: server-side printing).
    case table

    public static let tableMediaType = "application/json;as=Table;v=v1;g=meta.k8s.io"

    /// Picks the first media range of `accept` the server can produce: application/json (or a
    /// wildcard) as JSON, or with `as=Table;g=meta.k8s.io;v=v1|v1beta1` as a Table. Protobuf,
    /// YAML and other `as=` forms are passed over, so a client that lists JSON after them still
    /// gets JSON; when nothing fits the answer is 406.
    public static func negotiate(accept: String?) throws(ApiError) -> ResponseFormat {
        guard let accept, !accept.trimmingCharacters(in: .whitespaces).isEmpty else { return .json }
        for range in accept.split(separator: ",") {
            var parameters: [String: String] = [:]
            let parts = range.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            let mediaType = parts.first?.lowercased() ?? ""
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map(String.init)
                if pair.count == 2 { parameters[pair[0].lowercased()] = pair[1] }
            }
            guard ["application/json", "application/*", "*/*"].contains(mediaType) else { continue }
            switch parameters["as"] {
            case nil:
                return .json
            case "Table" where parameters["g"] == "meta.k8s.io" && ["v1", "v1beta1"].contains(parameters["v"] ?? ""):
                return .table
            default:
                continue
            }
        }
        throw ApiError(
            code: 406, reason: "NotAcceptable",
            message: "only the following media types are accepted: application/json, \(tableMediaType)")
    }
}
