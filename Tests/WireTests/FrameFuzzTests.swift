import Foundation
import Testing
import Wire

/// Corpus-driven fuzzing of the frame decoder: every committed corpus file, and seeded mutations
/// of them, must decode to frames or to a FrameError — never crash, never loop, never read past
/// the input. A failing input is written to /tmp with its seed so that it replays exactly; add it
/// to Tests/WireTests/Corpus when fixing the bug.
@Suite("Frame decoder fuzzing over the committed corpus")
struct FrameFuzzTests {
    static var corpusDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Corpus")
    }

    static func corpus() throws -> [[UInt8]] {
        let files = try FileManager.default.contentsOfDirectory(atPath: corpusDirectory.path).sorted()
        return try files.map { [UInt8](try Data(contentsOf: corpusDirectory.appendingPathComponent($0))) }
    }

    /// Decodes `input` fed in chunks of `chunk` bytes; returns the frames and whether it failed.
    static func decode(_ input: [UInt8], chunk: Int, limit: Int = 1 << 20) -> (frames: [Envelope], failed: Bool) {
        var decoder = FrameDecoder(maximumFrameBytes: limit)
        var frames: [Envelope] = []
        var offset = 0
        while offset < input.count {
            let end = min(offset + chunk, input.count)
            do {
                try input[offset..<end].withUnsafeBytes { try decoder.feed($0) { frames.append($0) } }
            } catch {
                return (frames, true)
            }
            offset = end
        }
        return (frames, false)
    }

    @Test("the corpus holds valid and invalid inputs")
    func corpusIsMeaningful() throws {
        let corpus = try Self.corpus()
        #expect(corpus.count >= 8)
        let outcomes = corpus.map { Self.decode($0, chunk: $0.count + 1) }
        #expect(outcomes.contains { !$0.failed && !$0.frames.isEmpty })
        #expect(outcomes.contains { $0.failed })
    }

    @Test("seeded mutations of the corpus never crash and decode the same whatever the read size")
    func mutations() throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["WIRE_FUZZ_SEED"] ?? "") ?? 20_261_124
        let iterations = Int(ProcessInfo.processInfo.environment["WIRE_FUZZ_ITERATIONS"] ?? "") ?? 20_000
        var random = TestRandom(seed: seed)
        let corpus = try Self.corpus()
        for iteration in 0..<iterations {
            var input = corpus[Int(random.next() % UInt64(corpus.count))]
            for _ in 0...(random.next() % 4) { Self.mutate(&input, &random) }
            let whole = Self.decode(input, chunk: max(input.count, 1))
            let split = Self.decode(input, chunk: Int(random.next() % 17) + 1)
            if whole.frames != split.frames || whole.failed != split.failed {
                let path = "/tmp/wire-fuzz-\(seed)-\(iteration).bin"
                _ = FileManager.default.createFile(atPath: path, contents: Data(input))
                Issue.record("decoding depends on read size; input saved to \(path) (seed \(seed), iteration \(iteration))")
                return
            }
            for frame in whole.frames {
                // Whatever decodes must re-encode and decode to the same value.
                #expect(decodeFrames(Frame.encode(frame)) == [frame])
            }
        }
    }

    static func mutate(_ input: inout [UInt8], _ random: inout TestRandom) {
        switch random.next() % 6 {
        case 0 where !input.isEmpty:
            let index = Int(random.next() % UInt64(input.count))
            input[index] ^= UInt8(1 << (random.next() % 8))
        case 1 where !input.isEmpty:
            input.removeLast(Int(random.next() % UInt64(input.count)))
        case 2:
            let index = input.isEmpty ? 0 : Int(random.next() % UInt64(input.count + 1))
            input.insert(contentsOf: (0..<(random.next() % 9)).map { _ in UInt8(truncatingIfNeeded: random.next()) }, at: index)
        case 3 where input.count >= 4:
            // Tamper with the first length prefix: the interesting boundary for a framer.
            let value = UInt32(truncatingIfNeeded: random.next() % 2 == 0 ? random.next() : random.next() % 64)
            input[0] = UInt8(truncatingIfNeeded: value >> 24)
            input[1] = UInt8(truncatingIfNeeded: value >> 16)
            input[2] = UInt8(truncatingIfNeeded: value >> 8)
            input[3] = UInt8(truncatingIfNeeded: value)
        case 4:
            input += input
        default:
            if !input.isEmpty {
                let index = Int(random.next() % UInt64(input.count))
                input[index] = UInt8(truncatingIfNeeded: random.next())
            }
        }
    }
}

struct TestRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
