import Api
import Wire

/// TemplateHash names a pod template the way Kubernetes' ComputeHash does: a 32-bit FNV-1a
/// hash of the template (here its deterministic protobuf encoding, with map entries sorted),
/// mixed with the collision count when there is one, written in decimal and then mapped digit by
/// digit onto the alphabet of generated names (no vowels, so no words). Equal templates always
/// give equal hashes, in every process: a restarted or failed-over controller finds the replica
/// sets its predecessor made.
public enum TemplateHash {
    static let alphabet = Array("bcdfghjklmnpqrstvwxz2456789".utf8)

    public static func of(_ template: PodTemplateSpec, collisionCount: Int32? = nil) -> String {
        var hash = fnv1a32(template.protobufBytes())
        if let collisionCount {
            var bytes: [UInt8] = []
            withUnsafeBytes(of: UInt32(bitPattern: collisionCount).littleEndian) { bytes.append(contentsOf: $0) }
            hash = fnv1a32(bytes, seed: hash)
        }
        return safeEncode(String(hash))
    }

    public static func fnv1a32(_ bytes: [UInt8], seed: UInt32 = 2_166_136_261) -> UInt32 {
        var hash = seed
        for byte in bytes {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return hash
    }

    /// Kubernetes' rand.SafeEncodeString: each character becomes alphabet[code % 27].
    public static func safeEncode(_ text: String) -> String {
        String(decoding: text.utf8.map { alphabet[Int($0) % alphabet.count] }, as: UTF8.self)
    }
}
