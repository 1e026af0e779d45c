import Foundation
import SwiftASN1
import Testing
import X509

@testable import Api

@Suite struct ClusterPKITests {
    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "skiff-pki-\(UInt64.random(in: 1...UInt64.max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func permissions(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test func createsACAAServingCertificateAndAnAdminCredentialWithPrivateKeys() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pki = try ClusterPKI.ensure(in: directory, serverNames: ["skiff.example", "127.0.0.2"])

        let ca = try Certificate(pemEncoded: pki.caCertificatePEM)
        let server = try Certificate(pemEncoded: pki.serverCertificatePEM)
        let admin = try Certificate(pemEncoded: pki.adminCertificatePEM)
        #expect(try ca.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        #expect(ca.publicKey.isValidSignature(server.signature, for: server))
        #expect(ca.publicKey.isValidSignature(admin.signature, for: admin))
        #expect(Set(ClusterPKI.names(of: server)) == ["127.0.0.1", "localhost", "skiff.example", "127.0.0.2"])
        #expect(try server.extensions.extendedKeyUsage?.contains(.serverAuth) == true)
        #expect(try admin.extensions.extendedKeyUsage?.contains(.clientAuth) == true)
        let identity = ClusterPKI.subjectIdentity(of: admin)
        #expect(identity.commonName == "admin")
        #expect(identity.organizations == ["system:masters"])

        for key in ["ca.key", "apiserver.key", "admin.key"] {
            #expect(try Self.permissions(directory + "/" + key) == 0o600, "\(key) must be readable by its owner only")
        }
        #expect(try Self.permissions(directory + "/ca.crt") == 0o644)
    }

    @Test func ensureKeepsWhatIsGoodAndReissuesTheServingCertificateForANewName() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try ClusterPKI.ensure(in: directory)
        let again = try ClusterPKI.ensure(in: directory)
        #expect(again.caCertificatePEM == first.caCertificatePEM)
        #expect(again.serverCertificatePEM == first.serverCertificatePEM)
        #expect(again.adminKeyPEM == first.adminKeyPEM)

        let widened = try ClusterPKI.ensure(in: directory, serverNames: ["127.0.0.9"])
        #expect(widened.caCertificatePEM == first.caCertificatePEM, "the CA stays, so old kubeconfigs keep working")
        #expect(widened.serverCertificatePEM != first.serverCertificatePEM)
        #expect(ClusterPKI.names(of: try Certificate(pemEncoded: widened.serverCertificatePEM)).contains("127.0.0.9"))
        #expect(widened.adminCertificatePEM == first.adminCertificatePEM)
    }

    @Test func aKeyThatDoesNotMatchItsCAIsReportedWithTheFile() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try ClusterPKI.ensure(in: directory)
        let other = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: other) }
        _ = try ClusterPKI.ensure(in: other)
        try FileManager.default.removeItem(atPath: directory + "/ca.key")
        try FileManager.default.copyItem(atPath: other + "/ca.key", toPath: directory + "/ca.key")
        do {
            _ = try ClusterPKI.ensure(in: directory)
            Issue.record("a mismatched CA key was accepted")
        } catch {
            #expect(error.message.contains("ca.key is not the key of"))
        }
    }

    @Test func issuedClientCertificatesCarryUserAndGroups() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pki = try ClusterPKI.ensure(in: directory)
        let issued = try pki.issueClientCertificate(user: "jane", groups: ["dev", "ops"])
        let certificate = try Certificate(pemEncoded: issued.certificate)
        let identity = ClusterPKI.subjectIdentity(of: certificate)
        #expect(identity.commonName == "jane")
        #expect(identity.organizations == ["dev", "ops"])
    }

    @Test func kubeconfigEmbedsTheCAAndTheCredential() throws {
        let config = Kubeconfig(
            server: "https://127.0.0.1:6443", caCertificatePEM: "CA", userName: "admin",
            credential: .clientCertificate(certificatePEM: "CERT", keyPEM: "KEY"))
        let text = config.rendered()
        #expect(text.contains("server: \"https://127.0.0.1:6443\""))
        #expect(text.contains("certificate-authority-data: \(Data("CA".utf8).base64EncodedString())"))
        #expect(text.contains("client-certificate-data: \(Data("CERT".utf8).base64EncodedString())"))
        #expect(text.contains("client-key-data: \(Data("KEY".utf8).base64EncodedString())"))
        #expect(text.contains("current-context: \"skiff-local\""))
        let token = Kubeconfig(server: "https://h:1", caCertificatePEM: "CA", userName: "u", credential: .token("t\"x")).rendered()
        #expect(token.contains(#"token: "t\"x""#))
        #expect(throws: PKIError.self) { try Kubeconfig.validateServer("http://127.0.0.1:6443") }
        #expect(throws: Never.self) { try Kubeconfig.validateServer("https://127.0.0.1:6443") }
    }
}
