import ArgumentParser
import Foundation

/// ServiceAccountKeyFile reads the key service-account tokens are signed with: the API server's
/// `--service-account-key-file` and the controller manager's `--service-account-private-key-file`
/// name the same file. Skiff's tokens are HMAC-SHA256 signed (SignedTokenCodec), so the one key
/// both signs and verifies: keep the file readable by those two components only.
enum ServiceAccountKeyFile {
    static func read(_ path: String, flag: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("\(flag): cannot read \(path)")
        }
        guard data.count >= 32 else {
            throw ValidationError(
                "\(flag): \(path) holds \(data.count) bytes; a signing key needs at least 32 (make one with: head -c 32 /dev/urandom > \(path))")
        }
        return Array(data)
    }
}
