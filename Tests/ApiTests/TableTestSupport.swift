import Foundation

@testable import Api

/// TableFixture renders rows the way kubectl shows them, at a fixed instant.
enum TableFixture {
    /// 2025-01-01T00:00:00Z.
    static let now = Date(timeIntervalSince1970: 1_735_689_600)
    static let nowSeconds = Int64(now.timeIntervalSince1970)

    /// A time `seconds` before `now`.
    static func ago(_ seconds: Int64) -> Time { Time(seconds: nowSeconds - seconds) }

    static func meta(_ name: String, namespace: String? = "default", age seconds: Int64 = 300, labels: [String: String] = [:]) -> ObjectMeta {
        var meta = ObjectMeta()
        meta.name = name
        meta.namespace = namespace
        meta.creationTimestamp = ago(seconds)
        meta.labels = labels
        return meta
    }

    /// The column headers kubectl prints: upper-cased, the wide ones only when `wide`.
    static func headers(_ type: ResourceType, wide: Bool = false) -> [String] {
        TableDefinitions.definition(for: type).columns.filter { wide || $0.priority == 0 }.map { $0.name.uppercased() }
    }

    /// Every cell of the row as kubectl prints it (numbers as their text).
    static func row(_ object: any KubernetesObject, at instant: Date = now) -> [String] {
        TableDefinitions.definition(for: object.resourceType).cells(object, instant).map { cell in
            switch cell {
            case .string(let text): text
            case .number(let text): text
            case .bool(let value): String(value)
            default: "\(cell)"
            }
        }
    }

    /// The cells kubectl shows without `-o wide`.
    static func shortRow(_ object: any KubernetesObject) -> [String] {
        let columns = TableDefinitions.definition(for: object.resourceType).columns
        return zip(columns, row(object)).filter { $0.0.priority == 0 }.map(\.1)
    }

    static func container(_ name: String, image: String = "nginx:1.27") -> Container {
        var container = Container()
        container.name = name
        container.image = image
        return container
    }

    static func template(_ containers: [Container], nodeSelector: [String: String] = [:]) -> PodTemplateSpec {
        PodTemplateSpec(spec: PodSpec(containers: containers, nodeSelector: nodeSelector))
    }

    static func selector(_ labels: [String: String]) -> LabelSelector { LabelSelector(matchLabels: labels) }
}
