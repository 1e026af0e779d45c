/// KeyedHeap is a binary min-heap (by `less`) whose elements have unique string keys, so that
/// an element can be found, replaced or removed by key in O(log n).
struct KeyedHeap<Element> {
    private(set) var elements: [Element] = []
    private var positions: [String: Int] = [:]
    let key: (Element) -> String
    let less: (Element, Element) -> Bool

    init(key: @escaping (Element) -> String, less: @escaping (Element, Element) -> Bool) {
        self.key = key
        self.less = less
    }

    var count: Int { elements.count }
    var isEmpty: Bool { elements.isEmpty }
    var first: Element? { elements.first }

    func contains(_ key: String) -> Bool { positions[key] != nil }

    func element(forKey key: String) -> Element? {
        positions[key].map { elements[$0] }
    }

    /// Inserts, or replaces the element with the same key.
    mutating func push(_ element: Element) {
        let elementKey = key(element)
        if let position = positions[elementKey] {
            elements[position] = element
            restore(at: position)
            return
        }
        elements.append(element)
        positions[elementKey] = elements.count - 1
        siftUp(elements.count - 1)
    }

    mutating func pop() -> Element? {
        guard !elements.isEmpty else { return nil }
        return remove(at: 0)
    }

    @discardableResult
    mutating func remove(key elementKey: String) -> Element? {
        guard let position = positions[elementKey] else { return nil }
        return remove(at: position)
    }

    private mutating func remove(at position: Int) -> Element {
        let removed = elements[position]
        let last = elements.count - 1
        if position != last {
            swapElements(position, last)
        }
        elements.removeLast()
        positions[key(removed)] = nil
        if position < elements.count { restore(at: position) }
        return removed
    }

    private mutating func restore(at position: Int) {
        if position > 0 && less(elements[position], elements[(position - 1) / 2]) {
            siftUp(position)
        } else {
            siftDown(position)
        }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(elements[child], elements[parent]) else { return }
            swapElements(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < elements.count else { return }
            var smallest = left
            let right = left + 1
            if right < elements.count && less(elements[right], elements[left]) { smallest = right }
            guard less(elements[smallest], elements[parent]) else { return }
            swapElements(parent, smallest)
            parent = smallest
        }
    }

    private mutating func swapElements(_ first: Int, _ second: Int) {
        elements.swapAt(first, second)
        positions[key(elements[first])] = first
        positions[key(elements[second])] = second
    }
}
