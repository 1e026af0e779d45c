import Agents
import Api
import Bench
import Logging
import Testing
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// SilentListener is a loopback TCP socket that listens and never accepts: the kernel completes
/// a client's connection, and its handshake and calls are never answered, so a writer sending
/// to it stays busy for as long as the test needs.
final class SilentListener {
    let descriptor: Int32
    let port: UInt16

    init() throws {
        (descriptor, port) = try StoreCluster.boundLoopbackSocket()
        try #require(listen(descriptor, 16) == 0, "cannot listen on 127.0.0.1:\(port): errno \(errno)")
    }

    deinit { close(descriptor) }
}

@Suite struct EventRecorderTests {
    @Test("a full queue drops new events and counts them, without waiting for the writers")
    func dropsWhenFull() async throws {
        let listener = try SilentListener()
        let client = ApiClient(address: SocketAddress(host: "127.0.0.1", port: listener.port), token: "t", component: "test", identity: "events")
        let recorder = EventRecorder(client: client, component: "test-component", instance: "test-1", capacity: 3, writers: 1, logger: Logger(label: "test"))
        defer {
            recorder.stop()
            Task { await client.close() }
        }
        var pod = Pod()
        pod.metadata = ObjectMeta(name: "web", namespace: "default", uid: "u1")
        // Ten events about ten objects (the spam filter allows each): the one writer takes at most
        // one and then waits on the silent server, three fit in the queue, the rest are dropped.
        for index in 0..<10 {
            pod.metadata?.uid = "u\(index)"
            pod.metadata?.name = "web-\(index)"
            recorder.record(pod, .normal, reason: "Scheduled", message: "assigned")
        }
        #expect((6...7).contains(recorder.dropped), "dropped \(recorder.dropped) of 10 with room for 3 queued and 1 in flight")
        #expect(recorder.filtered == 0)
        #expect(recorder.written == 0)
    }
}
