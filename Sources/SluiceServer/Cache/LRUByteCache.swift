/// A least-recently-used map bounded by the total cost (bytes) of its values.
///
/// A pure data structure: O(1) lookup, insert and eviction over a doubly linked
/// list kept in arrays (no per-node allocation). The caller provides locking.
struct LRUByteCache<Value> {
    private struct Node: @unchecked Sendable {
        var key: String
        var value: Value
        var cost: Int
        var previous: Int
        var next: Int
    }

    let capacity: Int
    private(set) var totalCost = 0
    private var indexByKey: [String: Int] = [:]
    private var nodes: [Node?] = []
    private var freeSlots: [Int] = []
    /// Most recently used end.
    private var head = -1
    /// Least recently used end.
    private var tail = -1

    init(capacity: Int) {
        self.capacity = capacity
    }

    var count: Int { indexByKey.count }

    /// The value under `key`, now marked most recently used.
    mutating func value(forKey key: String) -> Value? {
        guard let index = indexByKey[key] else { return nil }
        moveToFront(index)
        return nodes[index]?.value
    }

    /// Inserts or replaces; evicts least recently used entries past the capacity.
    /// A value costing more than the whole capacity is not kept.
    mutating func set(_ value: Value, forKey key: String, cost: Int) {
        removeValue(forKey: key)
        guard cost <= capacity else { return }
        let node = Node(key: key, value: value, cost: cost, previous: -1, next: head)
        let index: Int
        if let free = freeSlots.popLast() {
            index = free
            nodes[index] = node
        } else {
            index = nodes.count
            nodes.append(node)
        }
        if head >= 0 { nodes[head]?.previous = index }
        head = index
        if tail < 0 { tail = index }
        indexByKey[key] = index
        totalCost += cost
        while totalCost > capacity, tail >= 0, let last = nodes[tail] {
            removeValue(forKey: last.key)
        }
    }

    mutating func removeValue(forKey key: String) {
        guard let index = indexByKey.removeValue(forKey: key), let node = nodes[index] else { return }
        unlink(index, node)
        nodes[index] = nil
        freeSlots.append(index)
        totalCost -= node.cost
    }

    mutating func removeAll() {
        self = LRUByteCache(capacity: capacity)
    }

    private mutating func moveToFront(_ index: Int) {
        guard index != head, let node = nodes[index] else { return }
        unlink(index, node)
        nodes[index]?.previous = -1
        nodes[index]?.next = head
        if head >= 0 { nodes[head]?.previous = index }
        head = index
        if tail < 0 { tail = index }
    }

    private mutating func unlink(_ index: Int, _ node: Node) {
        if node.previous >= 0 { nodes[node.previous]?.next = node.next } else { head = node.next }
        if node.next >= 0 { nodes[node.next]?.previous = node.previous } else { tail = node.previous }
    }
}

// Nodes are only reachable through the cache, so they are as Sendable as its values.
extension LRUByteCache: Sendable where Value: Sendable {}
