import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// UIDGenerator makes `metadata.uid`s: random (version 4) UUIDs in Kubernetes' lowercase
/// 8-4-4-4-12 form. Foundation's `UUID()` opens and reads /dev/urandom for each one (about 1% of
/// the API server's samples while pods were created at 7,000/s); this reads the system's random
/// generator 4 KiB at a time and hands out 16 bytes per UID.
struct UIDGenerator: ~Copyable {
    private static let bufferSize = 4096
    private var buffer = [UInt8](repeating: 0, count: bufferSize)
    private var offset = bufferSize

    /// The UIDs of every process-wide caller.
    static let shared = Mutex(UIDGenerator())

    static func next() -> String {
        shared.withLock { $0.next() }
    }

    mutating func next() -> String {
        if offset + 16 > buffer.count {
            buffer.withUnsafeMutableBytes(Self.fillRandom)
            offset = 0
        }
        let start = offset
        offset += 16
        return buffer.withUnsafeBufferPointer { random in Self.format(random[start..<start + 16]) }
    }

    /// The kernel's generator, opened once: each refill is one read. (`SystemRandomNumberGenerator`
    /// makes one getrandom call per 8 bytes, 512 system calls per refill, and Glibc's module
    /// does not export getrandom itself.) /dev/urandom never blocks once the system has booted.
    private static let urandom: Int32 = {
        let descriptor = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        precondition(descriptor >= 0, "cannot open /dev/urandom: errno \(errno)")
        return descriptor
    }()

    private static func fillRandom(_ bytes: UnsafeMutableRawBufferPointer) {
        var filled = 0
        while filled < bytes.count {
            let got = read(urandom, bytes.baseAddress! + filled, bytes.count - filled)
            if got < 0 {
                precondition(errno == EINTR, "cannot read /dev/urandom: errno \(errno)")
                continue
            }
            precondition(got > 0, "/dev/urandom ended")
            filled += got
        }
    }

    /// 16 random bytes as a version-4, RFC 4122-variant UUID string.
    static func format(_ random: Slice<UnsafeBufferPointer<UInt8>>) -> String {
        precondition(random.count == 16)
        let hex: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: 36) { output in
            var written = 0
            hex.withUTF8Buffer { digits in
                for (position, index) in random.indices.enumerated() {
                    var byte = random[index]
                    if position == 6 { byte = (byte & 0x0F) | 0x40 }
                    if position == 8 { byte = (byte & 0x3F) | 0x80 }
                    if position == 4 || position == 6 || position == 8 || position == 10 {
                        output[written] = UInt8(ascii: "-")
                        written += 1
                    }
                    output[written] = digits[Int(byte >> 4)]
                    output[written + 1] = digits[Int(byte & 0x0F)]
                    written += 2
                }
            }
            return written
        }
    }
}
