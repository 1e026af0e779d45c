import Testing

@testable import Agents
@testable import Api

@Suite struct EventSpamFilterTests {
    static func key(_ name: String, uid: String, type: String = "Normal") -> String {
        var reference = ObjectReference()
        reference.kind = "ReplicaSet"
        reference.apiVersion = "apps/v1"
        reference.namespace = "shop"
        reference.name = name
        reference.uid = uid
        return EventSpamFilter.key(reference, type: type)
    }

    @Test("an object gets 25 events at once, then one per 5 minutes; other objects and event types have their own budget")
    func budgetPerObject() {
        var filter = EventSpamFilter()
        let web = Self.key("web", uid: "u1")
        let allowed = (0..<100).filter { _ in filter.allow(web, now: 1000) }.count
        #expect(allowed == 25)
        // `#expect` cannot call the filter's mutating method itself: results go through lets.
        let early = filter.allow(web, now: 1000 + 299)
        let refilled = filter.allow(web, now: 1000 + 300)
        let again = filter.allow(web, now: 1000 + 301)
        #expect(!early && refilled && !again)
        let warning = filter.allow(Self.key("web", uid: "u1", type: "Warning"), now: 1000)
        let other = filter.allow(Self.key("api", uid: "u2"), now: 1000)
        let recreated = filter.allow(Self.key("web", uid: "u3"), now: 1000)
        #expect(warning && other && recreated)
    }

    @Test("the table of buckets stays bounded; trimming drops the fuller buckets and keeps the one holding an object back")
    func bounded() {
        var filter = EventSpamFilter()
        filter.capacity = 10
        let busy = Self.key("busy", uid: "b")
        for _ in 0..<25 { _ = filter.allow(busy, now: 0) }
        let quiet = (0..<20).filter { index in filter.allow(Self.key("quiet-\(index)", uid: "q\(index)"), now: 0) }.count
        #expect(quiet == 20)
        let busyAgain = filter.allow(busy, now: 1)
        #expect(!busyAgain, "the exhausted bucket survived the trimming")
    }
}
