import Api
import Testing

@Suite("Pipeline: label selectors")
struct PipelineLabelSelectorTests {
    static let labels = ["app": "web", "tier": "frontend", "version": "3"]

    static func matches(_ text: String, _ labels: [String: String] = labels) throws -> Bool {
        try ParsedLabelSelector(parsing: text).matches(labels)
    }

    @Test("every operator of the string syntax parses and matches like Kubernetes")
    func operators() throws {
        #expect(try Self.matches(""))
        #expect(try Self.matches("app=web"))
        #expect(try Self.matches("app==web"))
        #expect(try !Self.matches("app=db"))
        #expect(try Self.matches("app!=db"))
        #expect(try Self.matches("missing!=x"))  // != also matches an absent key
        #expect(try Self.matches("tier in (frontend, backend)"))
        #expect(try !Self.matches("tier in (backend)"))
        #expect(try Self.matches("tier notin (backend)"))
        #expect(try Self.matches("missing notin (x)"))
        #expect(try Self.matches("app"))
        #expect(try !Self.matches("missing"))
        #expect(try Self.matches("!missing"))
        #expect(try !Self.matches("!app"))
        #expect(try Self.matches("version>2,version<4"))
        #expect(try Self.matches(" app = web , tier in (frontend) , !canary "))
        #expect(try !Self.matches("app=web,tier=backend"))
        #expect(try Self.matches("example.com/role=", ["example.com/role": ""]))
    }

    @Test("parse errors give the position of the offending token")
    func errors() {
        let cases: [(String, Int, String)] = [
            ("app=web,", 9, "expected a requirement after ','"),
            ("app in web", 8, "found 'web', expected '(' to start the value set"),
            ("app in (a b)", 11, "found 'b', expected ',' or ')' in the value set"),
            ("=web", 1, "found '=', expected a label key"),
            ("app=web=x", 8, "found '=', expected ',' or the end of the selector"),
            ("app=we b", 8, "found 'b', expected ',' or the end of the selector"),
            ("app in ()", 8, "the value set is empty; list at least one value"),
            ("version>x", 9, "found 'x', expected an integer after '>'"),
            ("!app=x", 5, "found '=', expected ',' or the end of the selector after '!app'"),
            ("app tier", 5, "found 'tier', expected one of '=', '==', '!=', 'in', 'notin', ',' or the end of the selector"),
        ]
        for (text, position, message) in cases {
            #expect(throws: SelectorError(selector: text, position: position, message: message)) { try ParsedLabelSelector(parsing: text) }
        }
        do {
            _ = try ParsedLabelSelector(parsing: "app=-bad")
            Issue.record("an invalid value must be refused")
        } catch {
            #expect(error.position == 5)
            #expect(error.message.hasPrefix("invalid label value \"-bad\": a valid label must be an empty string"))
            #expect(error.apiError.code == 400)
        }
        do {
            _ = try ParsedLabelSelector(parsing: "a/b/c=x")
            Issue.record("an invalid key must be refused")
        } catch {
            #expect(error.position == 1)
        }
    }

    @Test("a LabelSelector object converts: matchLabels, matchExpressions; nil matches nothing, empty everything")
    func fromObject() throws {
        var selector = LabelSelector()
        selector.matchLabels = ["app": "web"]
        var expression = LabelSelectorRequirement()
        expression.key = "tier"
        expression.operator = "In"
        expression.values = ["frontend", "edge"]
        var absent = LabelSelectorRequirement()
        absent.key = "canary"
        absent.operator = "DoesNotExist"
        selector.matchExpressions = [expression, absent]
        let parsed = try ParsedLabelSelector(selector)
        #expect(parsed.matches(Self.labels))
        #expect(!parsed.matches(["app": "web", "tier": "frontend", "canary": "yes"]))
        #expect(parsed.description == "app=web,!canary,tier in (edge,frontend)")
        #expect(!(try ParsedLabelSelector(nil)).matches([:]))
        #expect(try ParsedLabelSelector(LabelSelector()).matches(["any": "thing"]))
        var bad = LabelSelector()
        var badExpression = LabelSelectorRequirement()
        badExpression.key = "tier"
        badExpression.operator = "In"
        bad.matchExpressions = [badExpression]
        #expect(throws: SelectorError(selector: "spec.selector", position: 0, message: "spec.selector.matchExpressions[0].values: must be non-empty for operator In")) {
            try ParsedLabelSelector(bad, field: "spec.selector")
        }
        badExpression.operator = "Near"
        bad.matchExpressions = [badExpression]
        #expect(throws: SelectorError(selector: "selector", position: 0, message: "selector.matchExpressions[0].operator: \"Near\" is not a valid label selector operator; use In, NotIn, Exists or DoesNotExist")) {
            try ParsedLabelSelector(bad)
        }
    }
}

@Suite("Pipeline: field selectors")
struct PipelineFieldSelectorTests {
    static func pod(node: String, phase: String) -> Pod {
        var pod = PipelineFixtures.pod(nodeName: node)
        var status = PodStatus()
        status.phase = phase
        pod.status = status
        return pod
    }

    @Test("field selectors parse =, == and !=, with escapes, and match pods")
    func parseAndMatch() throws {
        let selector = try FieldSelector(parsing: "spec.nodeName=worker-1,status.phase!=Succeeded,metadata.namespace==default")
        #expect(selector.terms.count == 3)
        #expect(selector.requiredValue(of: "spec.nodeName") == "worker-1")
        #expect(selector.matches(Self.pod(node: "worker-1", phase: "Running")))
        #expect(!selector.matches(Self.pod(node: "worker-2", phase: "Running")))
        #expect(!selector.matches(Self.pod(node: "worker-1", phase: "Succeeded")))
        let unbound = try FieldSelector(parsing: "spec.nodeName=")
        #expect(unbound.matches(PipelineFixtures.pod()))
        let escaped = try FieldSelector(parsing: #"metadata.name=a\,b\=c"#)
        #expect(escaped.terms[0].value == "a,b=c")
        #expect(escaped.description == #"metadata.name=a\,b\=c"#)
        #expect(try FieldSelector(parsing: "").matches(PipelineFixtures.pod()))
    }

    @Test("every kind's selectable fields read as Kubernetes prints them: events, nodes, booleans, numbers, absent fields")
    func fieldsOfEachKind() throws {
        var event = Event()
        event.metadata = PipelineFixtures.metadata("web.1", namespace: "default", labels: [:])
        var reference = ObjectReference()
        reference.kind = "Pod"
        reference.name = "web"
        event.involvedObject = reference
        event.reason = "Scheduled"
        var source = EventSource()
        source.component = "default-scheduler"
        event.source = source
        #expect(try FieldSelector(parsing: "involvedObject.kind=Pod,involvedObject.name=web,reason=Scheduled,source=default-scheduler").matches(event))
        #expect(try !FieldSelector(parsing: "involvedObject.name=web,type=Warning").matches(event))
        #expect(try FieldSelector(parsing: "type=,involvedObject.uid=").matches(event))
        #expect(FieldSelector.fieldValues(of: event)["metadata.name"] == "web.1")
        #expect(FieldSelector.fieldValues(of: event).count == FieldSelector.supportedFields(of: Event.resourceType).count)

        var node = Node()
        node.metadata = PipelineFixtures.metadata("worker-1", namespace: nil, labels: [:])
        #expect(try FieldSelector(parsing: "spec.unschedulable=false,metadata.name=worker-1").matches(node))
        node.spec = NodeSpec()
        node.spec?.unschedulable = true
        #expect(try FieldSelector(parsing: "spec.unschedulable!=false").matches(node))
        #expect(FieldSelector.fieldValue("spec.nodeName", of: node) == nil)

        var pod = Self.pod(node: "worker-1", phase: "Running")
        pod.spec?.hostNetwork = true
        #expect(FieldSelector.fieldValues(of: pod) == [
            "metadata.name": "web", "metadata.namespace": "default", "spec.nodeName": "worker-1", "spec.restartPolicy": "",
            "spec.schedulerName": "", "spec.serviceAccountName": "", "spec.hostNetwork": "true", "status.phase": "Running",
            "status.podIP": "", "status.nominatedNodeName": "",
        ])
        var replicaSet = ReplicaSet()
        replicaSet.status = ReplicaSetStatus()
        replicaSet.status?.replicas = 3
        #expect(try FieldSelector(parsing: "status.replicas=3").matches(replicaSet))
    }

    @Test("unsupported field labels are refused with Kubernetes' message; syntax errors give positions")
    func errors() throws {
        let selector = try FieldSelector(parsing: "spec.restartPolicy=Always,spec.hostname=x")
        #expect(throws: SelectorError(selector: selector.description, position: 0, message: "field label not supported: spec.hostname")) {
            try selector.validate(for: Pod.resourceType)
        }
        try FieldSelector(parsing: "spec.nodeName=a,status.phase=Running").validate(for: Pod.resourceType)
        #expect(throws: SelectorError(selector: "spec.nodeName=a", position: 0, message: "field label not supported: spec.nodeName")) {
            try FieldSelector(parsing: "spec.nodeName=a").validate(for: ConfigMap.resourceType)
        }
        try FieldSelector(parsing: "involvedObject.name=web,reason=Scheduled").validate(for: Event.resourceType)
        #expect(throws: SelectorError(selector: "metadata.name", position: 14, message: "the term \"metadata.name\" has no operator; write metadata.name=value, metadata.name==value or metadata.name!=value")) {
            try FieldSelector(parsing: "metadata.name")
        }
        #expect(throws: SelectorError(selector: "a=b,", position: 5, message: "expected a term after ','")) { try FieldSelector(parsing: "a=b,") }
        #expect(throws: SelectorError(selector: "a=b=c", position: 4, message: "unexpected '=' in the value of \"a\"; escape it as \\=")) {
            try FieldSelector(parsing: "a=b=c")
        }
        #expect(throws: SelectorError(selector: "a!b", position: 2, message: "expected '!=' after \"a\"")) { try FieldSelector(parsing: "a!b") }
    }
}
