import Foundation

/// QueryParameters is a request's query string, decoded as Go's `url.ParseQuery` does (what
/// kubectl encodes with): `&`-separated pairs, `+` for a space, percent escapes.
public struct QueryParameters: Sendable, Equatable {
    public private(set) var pairs: [(name: String, value: String)] = []

    public init(_ query: String) {
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            pairs.append((Self.decode(parts[0]), parts.count > 1 ? Self.decode(parts[1]) : ""))
        }
    }

    private static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    public static func == (left: QueryParameters, right: QueryParameters) -> Bool {
        left.pairs.map(\.name) == right.pairs.map(\.name) && left.pairs.map(\.value) == right.pairs.map(\.value)
    }

    /// The first value of `name`, nil when absent.
    public subscript(name: String) -> String? {
        pairs.first { $0.name == name }?.value
    }

    public func has(_ name: String) -> Bool { self[name] != nil }

    /// A boolean parameter: "true", "1" (and "" for a bare `?watch`) are true, "false" and "0"
    /// false; anything else is a 400 naming the parameter.
    public func bool(_ name: String) throws(ApiError) -> Bool? {
        guard let value = self[name] else { return nil }
        switch value.lowercased() {
        case "", "1", "true": return true
        case "0", "false": return false
        default: throw .badRequest("invalid value \"\(value)\" for query parameter \(name): use true or false")
        }
    }

    /// An integer parameter; anything else is a 400 naming the parameter.
    public func int64(_ name: String) throws(ApiError) -> Int64? {
        guard let value = self[name], !value.isEmpty else { return nil }
        guard let number = Int64(value) else {
            throw .badRequest("invalid value \"\(value)\" for query parameter \(name): expected an integer")
        }
        return number
    }

    // MARK: Kubernetes' options

    public func listQuery() throws(ApiError) -> ListQuery {
        var options = ListQuery()
        options.labelSelector = self["labelSelector"] ?? ""
        options.fieldSelector = self["fieldSelector"] ?? ""
        options.resourceVersion = self["resourceVersion"] ?? ""
        options.resourceVersionMatch = self["resourceVersionMatch"] ?? ""
        options.limit = try int64("limit") ?? 0
        options.continueToken = self["continue"] ?? ""
        if options.limit < 0 { throw .badRequest("limit \(options.limit) must not be negative") }
        return options
    }

    public func watchQuery() throws(ApiError) -> WatchQuery {
        var options = WatchQuery()
        options.labelSelector = self["labelSelector"] ?? ""
        options.fieldSelector = self["fieldSelector"] ?? ""
        options.resourceVersion = self["resourceVersion"] ?? ""
        options.allowBookmarks = try bool("allowWatchBookmarks") ?? false
        return options
    }

    /// Whether this is a watch (`watch=true|1`).
    public func isWatch() throws(ApiError) -> Bool { try bool("watch") ?? false }

    /// `timeoutSeconds` of a watch: nil for none.
    public func timeoutSeconds() throws(ApiError) -> Int64? {
        guard let seconds = try int64("timeoutSeconds") else { return nil }
        guard seconds >= 0 else { throw .badRequest("timeoutSeconds \(seconds) must not be negative") }
        return seconds == 0 ? nil : seconds
    }

    /// `dryRun`: absent, or "All" (the only value Kubernetes knows).
    public func dryRun() throws(ApiError) -> Bool {
        let values = pairs.filter { $0.name == "dryRun" }.map(\.value)
        for value in values where value != "All" {
            throw .badRequest("Invalid dry run value \"\(value)\": the only supported value is All")
        }
        return !values.isEmpty
    }

    /// `fieldValidation`: Strict, Warn or Ignore; Kubernetes' default when absent is Warn.
    public func fieldValidation() throws(ApiError) -> FieldValidation {
        guard let value = self["fieldValidation"], !value.isEmpty else { return .warn }
        guard let validation = FieldValidation(parameter: value) else {
            throw .badRequest("fieldValidation \"\(value)\" is not one of Strict, Warn, Ignore")
        }
        return validation
    }

    /// Delete options given in the query (kubectl sends them in the body; both work, the body
    /// wins where both say something).
    public func deleteOptions() throws(ApiError) -> DeleteRequestOptions {
        var options = DeleteRequestOptions()
        options.propagationPolicy = self["propagationPolicy"].flatMap { $0.isEmpty ? nil : $0 }
        options.gracePeriodSeconds = try int64("gracePeriodSeconds")
        if let orphan = try bool("orphanDependents"), options.propagationPolicy == nil {
            options.propagationPolicy = orphan ? "Orphan" : "Background"
        }
        return options
    }
}

/// IncludeObject is what a Table row carries besides its cells (`includeObject`).
public enum IncludeObject: String, Sendable, Equatable {
    case none = "None"
    case metadata = "Metadata"
    case object = "Object"

    public init(parameter: String?) throws(ApiError) {
        guard let parameter, !parameter.isEmpty else {
            self = .metadata
            return
        }
        guard let value = IncludeObject(rawValue: parameter) else {
            throw .badRequest("includeObject \"\(parameter)\" is not one of None, Metadata, Object")
        }
        self = value
    }
}
