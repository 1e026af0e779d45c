import Foundation

/// Kubeconfig renders a kubeconfig file (kubectl's `~/.kube/config` format) for one cluster, one
/// user and one context, with the CA and the credentials embedded, so that the file alone is
/// enough: `KUBECONFIG=<file> kubectl get ns`.
public struct Kubeconfig: Sendable, Equatable {
    /// How the user proves who it is.
    public enum Credential: Sendable, Equatable {
        /// A client certificate and its key, PEM.
        case clientCertificate(certificatePEM: String, keyPEM: String)
        /// A bearer token (kubectl sends it only over TLS).
        case token(String)
    }

    public var clusterName: String
    public var server: String
    public var caCertificatePEM: String
    public var userName: String
    public var credential: Credential

    public init(clusterName: String = "skiff-local", server: String, caCertificatePEM: String, userName: String, credential: Credential) {
        self.clusterName = clusterName
        self.server = server
        self.caCertificatePEM = caCertificatePEM
        self.userName = userName
        self.credential = credential
    }

    /// Checks a `--server` value: an https URL with a host (kubectl sends tokens only over TLS).
    public static func validateServer(_ server: String) throws(PKIError) {
        guard let url = URL(string: server), url.scheme == "https", let host = url.host, !host.isEmpty else {
            throw PKIError("--server \(server) is not an https URL such as https://127.0.0.1:6443")
        }
    }

    /// The YAML text. Every value is either base64 or quoted, so no name can break the syntax.
    public func rendered() -> String {
        let context = clusterName
        var user: String
        switch credential {
        case .clientCertificate(let certificate, let key):
            user = """
                    client-certificate-data: \(Self.base64(certificate))
                    client-key-data: \(Self.base64(key))
                """
        case .token(let token):
            user = "    token: \(Self.quoted(token))"
        }
        return """
            apiVersion: v1
            kind: Config
            clusters:
            - name: \(Self.quoted(clusterName))
              cluster:
                server: \(Self.quoted(server))
                certificate-authority-data: \(Self.base64(caCertificatePEM))
            users:
            - name: \(Self.quoted(userName))
              user:
            \(user)
            contexts:
            - name: \(Self.quoted(context))
              context:
                cluster: \(Self.quoted(clusterName))
                user: \(Self.quoted(userName))
            current-context: \(Self.quoted(context))
            preferences: {}

            """
    }

    static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    /// A YAML double-quoted scalar (JSON string syntax is valid YAML).
    static func quoted(_ text: String) -> String { JSONValue.string(text).compactText }
}
