import Wire

/// WireEcho is the service `bench wire` measures, served the same way by `bench wire-server` and
/// `skiff-wire-probe server`: one method that answers every request with its own payload.
///
/// This target depends on Wire alone, so that the probe (which profilers run) rebuilds in
/// seconds after a change to Wire instead of waiting for the API server's module.
public enum WireEcho {
    public static let method = "wire.Echo"
    public static let token = "bench-wire-token"

    /// The echo router, answered the way a performance-minded user of Wire would: a borrowing
    /// handler that answers from the read buffer into the outbound buffer.
    public static func makeRouter() -> MethodRouter {
        let router = MethodRouter()
        router.registerBorrowing(method) { call in call.respond(call.payload) }
        return router
    }

    public static func serverConfiguration(identity: String) -> ServerConfiguration {
        var configuration = ServerConfiguration(identity: identity, authenticate: ServerConfiguration.bearerToken(token))
        configuration.maximumInFlightCalls = 65_536
        return configuration
    }
}
