// Sync latency of the write-ahead log on this machine's disk, per preallocation mode. Off by
// default (it writes ~100 MB and takes ~10 s); run it with
//   SKIFF_STORAGE_BENCHMARK=1 swift test -c release -Xswiftc -enable-testing \
//     --scratch-path .build-storage --filter StorageSyncLatency
// and, on a busy machine, under `chrt -f 50` so that other processes' CPU use does not add
// scheduler delay (whole 4 ms ticks) to the disk latency being measured.
import Foundation
import Glibc
import Testing

@testable import Raft

@Suite struct StorageSyncLatencyTests {
    static let enabled = ProcessInfo.processInfo.environment["SKIFF_STORAGE_BENCHMARK"] != nil

    private func nowNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    private func summary(_ name: String, _ samplesNanoseconds: [UInt64]) -> String {
        let sorted = samplesNanoseconds.sorted()
        func microseconds(_ fraction: Double) -> Int {
            Int(sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))] / 1000)
        }
        return "\(name): n=\(sorted.count) p50=\(microseconds(0.5)) µs p99=\(microseconds(0.99)) µs max=\(sorted.last! / 1000) µs"
    }

    @Test(.enabled(if: enabled)) func realDiskSyncLatencyPerBatchSize() throws {
        let directory = TemporaryDirectory("skiff-storage-benchmark")
        let payload = [UInt8](repeating: 0xAB, count: 300)
        for preallocation in SegmentedLog.Preallocation.allCases {
            for batch in [1, 64] {
                let wal = directory.child("wal-\(preallocation)-\(batch)")
                var options = SegmentedLog.Options()
                options.preallocation = preallocation
                try SegmentedLog.initializeDirectory(wal, firstIndex: 1, options: options)
                let log = try SegmentedLog.open(directory: wal, options: options) { _, _, _ in }
                var samples: [UInt64] = []
                for _ in 0..<(batch == 1 ? 2000 : 1000) {
                    let start = nowNanoseconds()
                    for _ in 0..<batch { log.append(type: .testRecord, payload: payload) }
                    try log.sync()
                    samples.append(nowNanoseconds() - start)
                }
                print(summary("SegmentedLog.sync \(preallocation), \(batch) x 300 B", samples))
            }
        }
        let (storage, _) = try RaftStorage.open(dataDirectory: directory.child("member"))
        var samples: [UInt64] = []
        for index in UInt64(1)...2000 {
            let start = nowNanoseconds()
            storage.append([Entry(term: 1, index: index, type: .normal, data: Array(payload.prefix(256)))])
            storage.setHardState(HardState(term: 1, vote: 1, commit: index))
            try storage.sync()
            samples.append(nowNanoseconds() - start)
        }
        print(summary("RaftStorage 1 entry (256 B) + hard state, sync", samples))
    }
}
