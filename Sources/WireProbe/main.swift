// skiff-wire-probe: a fixed amount of wire work for profilers, without Swift concurrency.
//
// `bench wire` is the benchmark; this is what to run under `valgrind --tool=callgrind` (whose
// 3.19 release cannot run Swift's async runtime, so `bench` itself crashes it) and `perf`, to
// count the instructions one side spends per call. It serves and makes exactly the calls
// `bench wire` measures: `wire.Echo`, answered by `call.respond(call.payload)`, pipelined
// through the callback API with a window of calls in flight.
//
//   skiff-wire-probe server PORT
//   skiff-wire-probe client HOST:PORT CALLS [WINDOW [PAYLOAD_BYTES]]
//
// The server prints "listening on HOST:PORT" and serves until killed; the client prints one
// JSON object with its calls per second.
import Dispatch
import Wire
import WireBench

#if canImport(Glibc)
import Glibc
#endif

let echoMethod = WireEcho.method
let token = WireEcho.token

/// Writes a line to a file descriptor at once (no stdio buffering: the parent waits for it).
func writeLine(_ text: String, to descriptor: Int32) {
    var line = text + "\n"
    line.withUTF8 { bytes in _ = write(descriptor, bytes.baseAddress, bytes.count) }
}

func fail(_ message: String) -> Never {
    writeLine("skiff-wire-probe: \(message)", to: 2)
    exit(2)
}

func serve(port: UInt16) -> Never {
    let loop = EventLoop(name: "probe-server")
    let router = WireEcho.makeRouter()
    let serverConfiguration = WireEcho.serverConfiguration(identity: "probe-server")
    let started = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var server: WireServer?
    loop.execute {
        do {
            server = try WireServer(
                loop: loop, address: try SocketAddress(parsing: "127.0.0.1:\(port)"),
                configuration: serverConfiguration, service: router)
        } catch {
            fail("cannot listen on 127.0.0.1:\(port): \(error)")
        }
        writeLine("listening on \(server!.address)", to: 1)
        started.signal()
    }
    started.wait()
    while true { sleep(3600) }
}

func drive(address text: String, calls: Int, window: Int, payloadBytes: Int) {
    let address: SocketAddress
    do { address = try SocketAddress(parsing: text) } catch { fail("\(error)") }
    let loop = EventLoop(name: "probe-client")
    let client = WireClient(
        loop: loop, address: address,
        configuration: ClientConfiguration(component: "probe", identity: "wire", credential: token))
    let ready = DispatchSemaphore(value: 0)
    loop.execute {
        client.onStateChange = { state in
            if state == .ready || state == .closed { ready.signal() }
        }
        client.connect()
    }
    ready.wait()
    let payload = (0..<payloadBytes).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var outcome = ""
    loop.execute { client.onStateChange = nil }
    // The very driver `bench wire` measures with.
    Pipeline.run(client: client, method: echoMethod, payload: payload, calls: calls, window: window) { result in
        switch result {
        case .failure(let failure): outcome = "error: \(failure)"
        case .success(let rate): outcome = "{\"calls\": \(calls), \"calls_per_s\": \(Int(rate))}"
        }
        done.signal()
    }
    done.wait()
    let closed = DispatchSemaphore(value: 0)
    loop.execute {
        client.close()
        closed.signal()
    }
    closed.wait()
    loop.shutdown()
    if outcome.hasPrefix("error") { fail(outcome) }
    writeLine(outcome, to: 1)
}

let arguments = CommandLine.arguments
if arguments.count == 3, arguments[1] == "server", let port = UInt16(arguments[2]) {
    serve(port: port)
} else if arguments.count >= 4, arguments[1] == "client", let calls = Int(arguments[3]), calls > 0 {
    let window = arguments.count > 4 ? Int(arguments[4]) ?? 0 : 128
    let payloadBytes = arguments.count > 5 ? Int(arguments[5]) ?? -1 : 256
    guard window > 0, payloadBytes >= 0 else { fail("WINDOW must be positive and PAYLOAD_BYTES not negative") }
    drive(address: arguments[2], calls: calls, window: window, payloadBytes: payloadBytes)
} else {
    fail("usage: skiff-wire-probe server PORT | client HOST:PORT CALLS [WINDOW [PAYLOAD_BYTES]]")
}
