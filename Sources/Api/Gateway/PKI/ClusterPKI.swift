import Crypto
import Foundation
import SwiftASN1
import X509

#if canImport(Glibc)
import Glibc
#endif

/// PKIError is a certificate or key file that cannot be made, read or used; the message names the
/// file and what to do.
public struct PKIError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// ClusterPKI is a cluster's certificate authority and the credentials it issues (what
/// `agentctl up` keeps in `<data dir>/pki`):
///
/// - `ca.crt`, `ca.key`: the cluster CA (ECDSA P-256, 10 years). Clients trust the API server
///   through it, and the API server trusts client certificates signed by it;
/// - `apiserver.crt`, `apiserver.key`: the HTTPS serving certificate, for 127.0.0.1, localhost
///   and any extra names asked for (1 year);
/// - `admin.crt`, `admin.key`: a client certificate for user `admin` in group `system:masters`
///   (cluster-admin through the default RBAC bindings; 1 year).
///
/// Keys are written readable by the owner only (0600). `ensure` keeps what exists and is still
/// good, so restarts keep every kubeconfig working; it issues a leaf certificate anew when it
/// expires within 30 days or (for the serving certificate) lacks a name asked for.
public struct ClusterPKI: Sendable {
    public let directory: String
    public let caCertificatePEM: String
    public let serverCertificatePEM: String
    public let serverKeyPEM: String
    public let adminCertificatePEM: String
    public let adminKeyPEM: String
    /// The CA key as PEM (the swift-crypto key type is not Sendable).
    private let caKeyPEM: String
    private let caCertificate: Certificate

    /// The names every serving certificate carries.
    public static let defaultServerNames = ["127.0.0.1", "localhost"]
    public static let adminUser = "admin"
    public static let adminGroups = [UserInfo.mastersGroup]

    public var caCertificatePath: String { directory + "/ca.crt" }
    public var serverCertificatePath: String { directory + "/apiserver.crt" }
    public var serverKeyPath: String { directory + "/apiserver.key" }
    public var adminCertificatePath: String { directory + "/admin.crt" }
    public var adminKeyPath: String { directory + "/admin.key" }

    /// Loads the PKI in `directory`, creating whatever is missing, expiring or lacking one of
    /// `serverNames` (IP addresses or DNS names, beyond `defaultServerNames`).
    public static func ensure(in directory: String, serverNames extraNames: [String] = []) throws(PKIError) -> ClusterPKI {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw PKIError("cannot create the PKI folder \(directory): \(error.localizedDescription)")
        }
        let serverNames = defaultServerNames + extraNames.filter { !defaultServerNames.contains($0) }
        let (caCertificate, caKey) = try loadOrCreateCA(directory: directory)
        let issuer = Issuer(certificate: caCertificate, key: caKey)
        let server = try loadOrIssue(
            directory: directory, name: "apiserver", issuer: issuer,
            isCurrent: { certificate in Set(Self.names(of: certificate)).isSuperset(of: serverNames) }
        ) { key throws(PKIError) in
            try issuer.issue(
                commonName: "skiff-apiserver", organizations: [], publicKey: key, usage: .serverAuth, names: serverNames)
        }
        let admin = try loadOrIssue(directory: directory, name: "admin", issuer: issuer, isCurrent: { _ in true }) {
            key throws(PKIError) in
            try issuer.issue(commonName: adminUser, organizations: adminGroups, publicKey: key, usage: .clientAuth, names: [])
        }
        return ClusterPKI(
            directory: directory, caCertificatePEM: try pem(caCertificate), serverCertificatePEM: server.certificate,
            serverKeyPEM: server.key, adminCertificatePEM: admin.certificate, adminKeyPEM: admin.key, caKeyPEM: caKey.pemRepresentation,
            caCertificate: caCertificate)
    }

    /// A client certificate and key (PEM) for `user` in `groups`, signed by this CA: the API server
    /// authenticates it as that user (CN) with those groups (O).
    public func issueClientCertificate(user: String, groups: [String], validDays: Int = 365) throws(PKIError) -> (certificate: String, key: String) {
        let key = P256.Signing.PrivateKey()
        let caKey: P256.Signing.PrivateKey
        do {
            caKey = try P256.Signing.PrivateKey(pemRepresentation: caKeyPEM)
        } catch {
            throw PKIError("the CA key of \(directory) cannot be read back: \(error)")
        }
        let certificate = try Issuer(certificate: caCertificate, key: caKey).issue(
            commonName: user, organizations: groups, publicKey: key.publicKey, usage: .clientAuth, names: [],
            validDays: validDays)
        return (try Self.pem(certificate), key.pemRepresentation)
    }

    // MARK: Certificates

    /// The DNS names and IP addresses in a certificate's subject alternative names.
    public static func names(of certificate: Certificate) -> [String] {
        guard let alternatives = try? certificate.extensions.subjectAlternativeNames else { return [] }
        return alternatives.compactMap { name in
            switch name {
            case .dnsName(let text): return text
            case .ipAddress(let octets): return formatIP(Array(octets.bytes))
            default: return nil
            }
        }
    }

    /// The user name (CN) and groups (every O) of a certificate's subject, as Kubernetes' x509
    /// authenticator reads them.
    public static func subjectIdentity(of certificate: Certificate) -> (commonName: String, organizations: [String]) {
        var commonName = ""
        var organizations: [String] = []
        for rdn in certificate.subject {
            for attribute in rdn {
                guard let value = String(attribute.value) else { continue }
                if attribute.type == .RDNAttributeType.commonName { commonName = value }
                if attribute.type == .RDNAttributeType.organizationName { organizations.append(value) }
            }
        }
        return (commonName, organizations)
    }

    struct Issuer {
        let certificate: Certificate
        let key: P256.Signing.PrivateKey

        func issue(
            commonName: String, organizations: [String], publicKey: P256.Signing.PublicKey,
            usage: ExtendedKeyUsage.Usage, names: [String], validDays: Int = 365
        ) throws(PKIError) -> Certificate {
            do {
                let subject = try DistinguishedName {
                    for organization in organizations { OrganizationName(organization) }
                    CommonName(commonName)
                }
                let alternatives: [GeneralName] = try names.map { name throws in
                    if let octets = ClusterPKI.parseIP(name) { return .ipAddress(ASN1OctetString(contentBytes: octets[...])) }
                    return .dnsName(name)
                }
                let now = Date()
                let extensions = try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true, keyEncipherment: usage == .serverAuth))
                    try ExtendedKeyUsage([usage])
                    AuthorityKeyIdentifier(keyIdentifier: ClusterPKI.keyIdentifier(key.publicKey)[...])
                    if !alternatives.isEmpty { SubjectAlternativeNames(alternatives) }
                }
                return try Certificate(
                    version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(publicKey),
                    notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(Double(validDays) * 86_400),
                    issuer: certificate.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
                    extensions: extensions, issuerPrivateKey: Certificate.PrivateKey(key))
            } catch {
                throw PKIError("cannot issue a certificate for \(commonName): \(error)")
            }
        }
    }

    private static func loadOrCreateCA(directory: String) throws(PKIError) -> (Certificate, P256.Signing.PrivateKey) {
        let certificatePath = directory + "/ca.crt"
        let keyPath = directory + "/ca.key"
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: certificatePath) || fileManager.fileExists(atPath: keyPath) {
            let certificate = try readCertificate(certificatePath)
            let key = try readKey(keyPath)
            guard certificate.publicKey == Certificate.PublicKey(key.publicKey) else {
                throw PKIError("\(keyPath) is not the key of \(certificatePath); remove both to make a new CA (every credential it signed stops working)")
            }
            return (certificate, key)
        }
        let key = P256.Signing.PrivateKey()
        do {
            let name = try DistinguishedName { CommonName("skiff-ca") }
            let now = Date()
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(keyIdentifier: keyIdentifier(key.publicKey)[...])
            }
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
                notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(10 * 365 * 86_400),
                issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
                issuerPrivateKey: Certificate.PrivateKey(key))
            try writeSecret(key.pemRepresentation, to: keyPath)
            try writePublic(pem(certificate), to: certificatePath)
            return (certificate, key)
        } catch let error as PKIError {
            throw error
        } catch {
            throw PKIError("cannot create the cluster CA in \(directory): \(error)")
        }
    }

    /// The PEM certificate and key `<name>.crt`/`<name>.key`, issued anew when missing, not
    /// signed by this CA, expiring within 30 days or not `isCurrent`.
    private static func loadOrIssue(
        directory: String, name: String, issuer: Issuer, isCurrent: (Certificate) -> Bool,
        issue: (P256.Signing.PublicKey) throws(PKIError) -> Certificate
    ) throws(PKIError) -> (certificate: String, key: String) {
        let certificatePath = directory + "/" + name + ".crt"
        let keyPath = directory + "/" + name + ".key"
        if let certificate = try? readCertificate(certificatePath), let key = try? readKey(keyPath),
            certificate.publicKey == Certificate.PublicKey(key.publicKey),
            certificate.issuer == issuer.certificate.subject,
            issuer.certificate.publicKey.isValidSignature(certificate.signature, for: certificate),
            certificate.notValidAfter > Date().addingTimeInterval(30 * 86_400),
            isCurrent(certificate)
        {
            return (try pem(certificate), key.pemRepresentation)
        }
        let key = P256.Signing.PrivateKey()
        let certificate = try issue(key.publicKey)
        let certificateText = try pem(certificate)
        try writeSecret(key.pemRepresentation, to: keyPath)
        try writePublic(certificateText, to: certificatePath)
        return (certificateText, key.pemRepresentation)
    }

    // MARK: Files

    static func pem(_ certificate: Certificate) throws(PKIError) -> String {
        do {
            return try certificate.serializeAsPEM().pemString + "\n"
        } catch {
            throw PKIError("cannot encode a certificate as PEM: \(error)")
        }
    }

    static func readCertificate(_ path: String) throws(PKIError) -> Certificate {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw PKIError("cannot read the certificate \(path)")
        }
        do {
            return try Certificate(pemEncoded: text)
        } catch {
            throw PKIError("\(path) is not a PEM certificate: \(error)")
        }
    }

    static func readKey(_ path: String) throws(PKIError) -> P256.Signing.PrivateKey {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw PKIError("cannot read the key \(path)")
        }
        do {
            return try P256.Signing.PrivateKey(pemRepresentation: text)
        } catch {
            throw PKIError("\(path) is not a PEM ECDSA P-256 private key: \(error)")
        }
    }

    /// Writes a secret through a new file created with mode 0600 and renamed into place, so the
    /// key is never readable by others, not even for a moment.
    public static func writeSecret(_ text: String, to path: String) throws(PKIError) {
        try write(text, to: path, mode: 0o600)
    }

    static func writePublic(_ text: String, to path: String) throws(PKIError) {
        try write(text, to: path, mode: 0o644)
    }

    private static func write(_ text: String, to path: String, mode: mode_t) throws(PKIError) {
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw PKIError("cannot create \(temporary): \(errnoText())") }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                Glibc.write(descriptor, buffer.baseAddress! + written, buffer.count - written)
            }
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else {
                close(descriptor)
                unlink(temporary)
                throw PKIError("cannot write \(temporary): \(errnoText())")
            }
            written += result
        }
        fchmod(descriptor, mode)
        fsync(descriptor)
        close(descriptor)
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw PKIError("cannot move \(temporary) to \(path): \(errnoText())")
        }
    }

    // MARK: Helpers

    private static func errnoText() -> String {
        guard let text = strerror(errno) else { return "errno \(errno)" }
        return String(validatingCString: text) ?? "errno \(errno)"
    }

    /// SHA-1 of the public key's X9.62 bytes: the usual key identifier (RFC 5280 section 4.2.1.2).
    static func keyIdentifier(_ key: P256.Signing.PublicKey) -> [UInt8] {
        Array(Insecure.SHA1.hash(data: key.x963Representation))
    }

    /// The 4 or 16 bytes of an IPv4 or IPv6 address, nil for anything else (a DNS name).
    static func parseIP(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    static func formatIP(_ octets: [UInt8]) -> String? {
        let family = octets.count == 4 ? AF_INET : octets.count == 16 ? AF_INET6 : -1
        guard family >= 0 else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let ok = octets.withUnsafeBytes { bytes in inet_ntop(family, bytes.baseAddress, &buffer, socklen_t(buffer.count)) != nil }
        return ok ? buffer.withUnsafeBufferPointer { String(validatingCString: $0.baseAddress!) } : nil
    }
}
