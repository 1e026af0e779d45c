import Foundation
import NIOCore
import NIOHTTP1

/// The JSON the gateway answers with: objects, lists (written in chunks as they are encoded,
/// never as one large intermediate string), meta.k8s.io/v1 Tables for kubectl's server-side
/// printing, and watch event lines.
extension Gateway {
    /// The JSON of a single answer.
    static func objectJSON(_ served: ServedObject, type: ResourceType) -> JSONValue {
        switch served {
        case .stored(let object): type.encodeJSON(object.object)
        case .scale(let scale): scale.jsonValue(apiVersion: "autoscaling/v1", kind: "Scale")
        case .status(let status): statusJSON(status)
        }
    }

    // MARK: Tables

    static let tableAPIVersion = "meta.k8s.io/v1"

    /// A Table of `objects` with the kind's columns. `includeHeaders` false leaves out the column
    /// definitions (watch events after the first, as kube-apiserver does).
    static func tableJSON(
        type: ResourceType, objects: [any KubernetesObject], listMeta: ListMeta?, include: IncludeObject,
        includeHeaders: Bool = true, now: Date = Date()
    ) -> JSONValue {
        let definition = TableDefinitions.definition(for: type)
        var table = JSONObject()
        table["kind"] = "Table"
        table["apiVersion"] = .string(tableAPIVersion)
        table["metadata"] = (listMeta ?? ListMeta()).jsonValue()
        if includeHeaders {
            table["columnDefinitions"] = .array(definition.columns.map { column in
                [
                    "name": .string(column.name), "type": .string(column.type), "format": .string(column.format),
                    "description": .string(column.description), "priority": .int(column.priority),
                ]
            })
        } else {
            table["columnDefinitions"] = .null
        }
        table["rows"] = .array(objects.map { row(type: type, definition: definition, object: $0, include: include, now: now) })
        return .object(table)
    }

    static func row(type: ResourceType, definition: TableDefinition, object: any KubernetesObject, include: IncludeObject, now: Date) -> JSONValue {
        var row = JSONObject()
        row["cells"] = .array(definition.cells(object, now))
        switch include {
        case .none: break
        case .metadata: row["object"] = partialObjectMetadata(object)
        case .object: row["object"] = type.encodeJSON(object)
        }
        return .object(row)
    }

    /// An object reduced to its metadata, as Table rows carry it by default.
    static func partialObjectMetadata(_ object: any KubernetesObject) -> JSONValue {
        [
            "kind": "PartialObjectMetadata", "apiVersion": .string(tableAPIVersion),
            "metadata": object.meta.jsonValue(),
        ]
    }

    // MARK: Lists

    /// Past this many encoded bytes a list switches from one response to a chunked stream.
    static let listChunkBytes = 256 << 10

    /// Writes a list, as JSON or as a Table, encoding item by item into chunks.
    func writeList(
        _ list: ServedList, type: ResourceType, format: ResponseFormat, include: IncludeObject, to responder: HTTPResponder
    ) {
        var meta = ListMeta()
        meta.resourceVersion = list.resourceVersion
        meta.continue = list.continueToken
        meta.remainingItemCount = list.remainingItemCount
        let contentType = format == .table ? ResponseFormat.tableMediaType : "application/json"
        var writer = ChunkedBodyWriter(responder: responder, contentType: contentType)
        var head = JSONObject()
        let itemsKey: String
        switch format {
        case .json:
            head["kind"] = .string(type.listKind)
            head["apiVersion"] = .string(type.apiVersion)
            head["metadata"] = meta.jsonValue()
            itemsKey = "items"
        case .table:
            guard case .object(let table) = Self.tableJSON(type: type, objects: [], listMeta: meta, include: include) else { return }
            for (key, value) in table where key != "rows" { head[key] = value }
            itemsKey = "rows"
        }
        // The head object without its closing brace, then `,"items":[`, the items, `]}`.
        var text = JSONValue.object(head).serialized()
        text.removeLast()
        writer.append(text)
        writer.append(Array(",\"\(itemsKey)\":[".utf8))
        let definition = TableDefinitions.definition(for: type)
        let now = Date()
        for (index, item) in list.items.enumerated() {
            var bytes: [UInt8] = index == 0 ? [] : [UInt8(ascii: ",")]
            switch format {
            case .json: type.encodeJSONFields(item.object).write(to: &bytes)
            case .table: Self.row(type: type, definition: definition, object: item.object, include: include, now: now).write(to: &bytes)
            }
            writer.append(bytes)
        }
        writer.append(Array("]}".utf8))
        writer.finish()
    }
}

/// ChunkedBodyWriter sends a body as one response while it is small, and as a chunked stream
/// once it passes `Gateway.listChunkBytes`, so a large list never sits in memory whole.
struct ChunkedBodyWriter {
    let responder: HTTPResponder
    let contentType: String
    private var buffer: [UInt8] = []
    private var streaming = false

    init(responder: HTTPResponder, contentType: String) {
        self.responder = responder
        self.contentType = contentType
        buffer.reserveCapacity(16 << 10)
    }

    mutating func append(_ bytes: [UInt8]) {
        buffer += bytes
        if buffer.count >= Gateway.listChunkBytes { flush() }
    }

    private mutating func flush() {
        if !streaming {
            responder.startStream(.ok, headers: Gateway.headers(contentType: contentType))
            streaming = true
        }
        responder.send(ByteBuffer(bytes: buffer), limit: Int.max)
        buffer.removeAll(keepingCapacity: true)
    }

    mutating func finish() {
        if streaming {
            if !buffer.isEmpty { flush() }
            responder.endStream()
        } else {
            responder.respond(.ok, headers: Gateway.headers(contentType: contentType), body: ByteBuffer(bytes: buffer))
        }
    }
}
