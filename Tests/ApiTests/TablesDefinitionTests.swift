import Foundation
import Testing

@testable import Api

/// Ages, and the registry of definitions the gateway looks up.
@Suite struct TablesDefinitionTests {
    typealias F = TableFixture

    @Test(arguments: [
        (0, "0s"), (59, "59s"), (119, "119s"), (120, "2m"), (125, "2m5s"), (599, "9m59s"), (600, "10m"),
        (10799, "179m"), (10800, "3h"), (11100, "3h5m"), (28800, "8h"), (172_799, "47h"), (172_800, "2d"),
        (180_000, "2d2h"), (691_200, "8d"), (63_071_999, "729d"), (63_072_000, "2y"), (63_158_400, "2y1d"),
        (252_288_000, "8y"), (-1, "0s"), (-2, "<invalid>"),
    ] as [(Int64, String)])
    func agesReadLikeKubernetes(seconds: Int64, text: String) {
        #expect(TableDefinitions.humanDuration(seconds: seconds) == text)
    }

    @Test func anObjectWithoutCreationTimeHasUnknownAge() {
        #expect(TableDefinitions.age(of: ConfigMap(), now: F.now) == "<unknown>")
        #expect(F.row(ConfigMap(metadata: ObjectMeta(name: "x"))) == ["x", "0", "<unknown>"])
    }

    @Test func everyServedKindHasADefinitionWithAsManyCellsAsColumns() {
        for type in ResourceCatalog.all {
            let definition = TableDefinitions.definition(for: type)
            #expect(TableDefinitions.specific[type.qualifiedName] != nil, "\(type) prints with the generic NAME/AGE table")
            #expect(definition.columns.contains { $0.format == "name" }, "\(type) has no name column")
            var object = type.emptyObject()
            object.metadata = F.meta("x")
            #expect(definition.cells(object, F.now).count == definition.columns.count, "\(type)")
        }
    }

    @Test func kindsAreFoundByTheirQualifiedName() {
        #expect(F.headers(ResourceCatalog.find("deployments.apps")!) == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"])
        #expect(F.headers(ResourceCatalog.find("leases.coordination.k8s.io")!) == ["NAME", "HOLDER", "AGE"])
    }
}
