import Api
import ArgumentParser
import Foundation

/// `agentctl kubeconfig`: a kubeconfig for a cluster made by `agentctl up`, with the CA and the
/// credentials embedded.
struct KubeconfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kubeconfig",
        abstract: "Write a kubeconfig for kubectl (CA and credentials embedded).",
        discussion: """
            The admin user's client certificate is the default; --user NAME [--group G…] issues a new
            client certificate signed by the cluster CA (the API server maps CN to the user, O to the
            groups; RBAC decides what it may do); --token-file uses a bearer token instead.
            """)

    @Option(help: "The cluster's data folder (agentctl up's --data-dir).")
    var dataDir = ".skiff/local"
    @Option(help: "The API server's HTTPS URL.")
    var server = "https://127.0.0.1:6443"
    @Option(help: "User of the kubeconfig: admin, or a name to issue a client certificate for.")
    var user = ClusterPKI.adminUser
    @Option(help: "Group of the issued certificate (repeat for several); only with --user other than admin.")
    var group: [String] = []
    @Option(help: "File holding a bearer token to use instead of a client certificate.")
    var tokenFile: String?
    @Option(name: [.customShort("o"), .customLong("output")], help: "Write to this file (mode 0600) instead of stdout.")
    var output: String?

    func run() throws {
        do {
            try Kubeconfig.validateServer(server)
        } catch {
            throw ValidationError(error.message)
        }
        let pkiDirectory = dataDir + "/pki"
        guard FileManager.default.fileExists(atPath: pkiDirectory + "/ca.crt") else {
            throw ValidationError("no cluster CA in \(pkiDirectory): start the cluster once with agentctl up --data-dir \(dataDir)")
        }
        let pki = try ClusterPKI.ensure(in: pkiDirectory)
        let credential: Kubeconfig.Credential
        if let tokenFile {
            guard group.isEmpty else { throw ValidationError("--group applies to issued certificates, not to --token-file") }
            credential = .token(try TokenOptions.read(tokenFile, flag: "--token-file"))
        } else if user == ClusterPKI.adminUser && group.isEmpty {
            credential = .clientCertificate(certificatePEM: pki.adminCertificatePEM, keyPEM: pki.adminKeyPEM)
        } else {
            guard !user.isEmpty else { throw ValidationError("--user must not be empty") }
            let issued = try pki.issueClientCertificate(user: user, groups: group)
            credential = .clientCertificate(certificatePEM: issued.certificate, keyPEM: issued.key)
        }
        let text = Kubeconfig(server: server, caCertificatePEM: pki.caCertificatePEM, userName: user, credential: credential).rendered()
        if let output {
            try ClusterPKI.writeSecret(text, to: output)
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}
