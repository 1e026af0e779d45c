import Foundation

/// EventTable is `kubectl get events`: LAST SEEN TYPE REASON OBJECT MESSAGE, and for `-o wide`
/// also SUBOBJECT SOURCE FIRST SEEN COUNT NAME. Events written through the newer events API
/// (eventTime and series instead of first and last timestamps and count) print the same way.
enum EventTable {
    static let definition = TableDefinition(
        Event.self,
        columns: [
            TableColumn("Last Seen", description: "The time at which the most recent occurrence of this event was recorded."),
            TableColumn("Type", description: "Type of this event (Normal, Warning)."),
            TableColumn("Reason", description: "A short, machine understandable string that gives the reason for the transition into the object's current status."),
            TableColumn("Object", description: "The object that this event is about."),
            TableColumn("Subobject", priority: 1, description: "The part of the object the event is about, such as a container."),
            TableColumn("Source", priority: 1, description: "The component reporting this event."),
            TableColumn("Message", description: "A human-readable description of the status of this operation."),
            TableColumn("First Seen", priority: 1, description: "The time at which the event was first recorded."),
            TableColumn("Count", priority: 1, description: "The number of times this event has occurred."),
            TableColumn("Name", format: "name", priority: 1, description: "Name must be unique within a namespace."),
        ]
    ) { event, now in
        let firstSeen =
            event.firstTimestamp != nil ? TableCells.since(event.firstTimestamp, now: now) : TableCells.since(event.eventTime, now: now)
        var lastSeen = event.lastTimestamp != nil ? TableCells.since(event.lastTimestamp, now: now) : firstSeen
        var count = event.count ?? 0
        if let series = event.series {
            lastSeen = TableCells.since(series.lastObservedTime, now: now)
            count = series.count ?? 0
        } else if count == 0 {
            // A single event of the events API has no count.
            count = 1
        }
        let involved = event.involvedObject ?? ObjectReference()
        let kind = (involved.kind ?? "").lowercased()
        let name = involved.name ?? ""
        let object = name.isEmpty ? kind : kind + "/" + name
        return [
            .string(lastSeen), .string(event.type ?? ""), .string(event.reason ?? ""), .string(object),
            .string(involved.fieldPath ?? ""), .string(source(event)),
            .string((event.message ?? "").trimmingCharacters(in: .whitespacesAndNewlines)),
            .string(firstSeen), .int(count), TableCells.name(event),
        ]
    }

    /// "component, host", falling back to the reporting controller and instance; without a
    /// host just the component.
    static func source(_ event: Event) -> String {
        let component = TableCells.orPlaceholder(event.source?.component, event.reportingComponent ?? "")
        let host = TableCells.orPlaceholder(event.source?.host, event.reportingInstance ?? "")
        return host.isEmpty ? component : component + ", " + host
    }
}
