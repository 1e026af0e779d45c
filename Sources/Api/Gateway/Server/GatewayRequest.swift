import Foundation
import NIOCore
import NIOHTTP1

/// GatewayRequest is one complete HTTP request as the gateway handles it: head, body (bounded),
/// and the TLS client identity of its connection.
struct GatewayRequest: Sendable {
    var method: HTTPMethod
    /// The path without the query.
    var path: String
    var query: QueryParameters
    var headers: HTTPHeaders
    var body: ByteBuffer
    /// The verified client certificate's subject, when the client presented one.
    var clientCertificate: VerifiedClientCertificate?
    /// "host:port" of the client, for logs.
    var remote: String

    init(head: HTTPRequestHead, body: ByteBuffer, clientCertificate: VerifiedClientCertificate?, remote: String) {
        method = head.method
        let uri = head.uri
        if let mark = uri.firstIndex(of: "?") {
            path = String(uri[..<mark])
            query = QueryParameters(String(uri[uri.index(after: mark)...]))
        } else {
            path = uri
            query = QueryParameters("")
        }
        headers = head.headers
        self.body = body
        self.clientCertificate = clientCertificate
        self.remote = remote
    }

    /// The bearer token of `Authorization: Bearer <token>` ("" without one).
    var bearerToken: String { Self.bearerToken(headers) }

    var credentials: RequestCredentials {
        RequestCredentials(bearerToken: bearerToken, clientCertificate: clientCertificate)
    }

    /// The media type of the body, lower-cased, without parameters ("application/json").
    var contentType: String {
        let value = headers.first(name: "content-type") ?? ""
        return value.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
    }

    var bodyBytes: [UInt8] { Array(body.readableBytesView) }
}
