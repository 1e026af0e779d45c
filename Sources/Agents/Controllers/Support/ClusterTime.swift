import Api
import Foundation

/// ClusterTime converts between the API's `Time`/`MicroTime` (seconds and nanoseconds since
/// the Unix epoch) and `Date`, which the controllers' decision logic takes as `now` so that
/// tests can pass any instant.
enum ClusterTime {
    static func time(_ date: Date) -> Time {
        let seconds = date.timeIntervalSince1970
        let whole = seconds.rounded(.down)
        return Time(seconds: Int64(whole), nanos: Int32(min(999_999_999, (seconds - whole) * 1e9)))
    }

    static func microTime(_ date: Date) -> MicroTime {
        let time = time(date)
        return MicroTime(seconds: time.seconds, nanos: time.nanos.map { $0 / 1000 * 1000 })
    }

    static func date(_ time: Time?) -> Date? {
        guard let seconds = time?.seconds else { return nil }
        return Date(timeIntervalSince1970: Double(seconds) + Double(time?.nanos ?? 0) / 1e9)
    }

    static func date(_ time: MicroTime?) -> Date? {
        guard let seconds = time?.seconds else { return nil }
        return Date(timeIntervalSince1970: Double(seconds) + Double(time?.nanos ?? 0) / 1e9)
    }
}
