/// Nearest-rank percentiles: the smallest value with at least p% of values at or below it.
public enum NearestRank {
    /// The `percent`th percentile of ascending `sorted` values; 0 when empty.
    public static func percentile(_ percent: Int, ofSorted sorted: [Double]) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[index(percent, count: sorted.count)]
    }

    /// The `percents`th percentiles of `values`, each 0 when `values` is empty.
    ///
    /// Reorders `values` instead of sorting them: each percentile is found by
    /// selection (quickselect), linear on average, and each selection narrows the
    /// next when `percents` ascend. Gives exactly what `percentile(_:ofSorted:)`
    /// gives on the sorted values.
    public static func percentiles(_ percents: [Int], selectingIn values: inout [Double]) -> [Double] {
        guard !values.isEmpty else { return percents.map { _ in 0 } }
        var results: [Double] = []
        results.reserveCapacity(percents.count)
        // After a selection nothing before the selected index is larger than anything
        // from it on, so a later, larger index is found in what follows it.
        var settled = 0
        for percent in percents {
            let target = index(percent, count: values.count)
            let start = target >= settled ? settled : 0
            results.append(values.withUnsafeMutableBufferPointer { select(target, in: $0, from: start) })
            settled = target
        }
        return results
    }

    /// Index of the nearest-rank `percent`th percentile among `count` ascending values.
    static func index(_ percent: Int, count: Int) -> Int {
        let clamped = min(max(percent, 0), 100)
        return max((clamped * count + 99) / 100, 1) - 1
    }

    /// Reorders `values[start...]` so that `values[target]` holds the value a sort
    /// would put there, with no larger value before it and no smaller one after it
    /// (within the range); returns that value.
    ///
    /// Hoare partitioning around a median of three; after a number of rounds that
    /// only a pathological input exceeds, the rest of the range is sorted instead.
    static func select(_ target: Int, in values: UnsafeMutableBufferPointer<Double>, from start: Int) -> Double {
        var low = start
        var high = values.count - 1
        var roundsLeft = 4 * (Int.bitWidth - values.count.leadingZeroBitCount) + 8
        while low < high {
            guard roundsLeft > 0 else {
                var rest = UnsafeMutableBufferPointer(rebasing: values[low...high])
                rest.sort()
                break
            }
            roundsLeft -= 1
            let pivot = medianOfThree(values[low], values[low + (high - low) / 2], values[high])
            var left = low
            var right = high
            while left <= right {
                while values[left] < pivot { left += 1 }
                while values[right] > pivot { right -= 1 }
                if left <= right {
                    values.swapAt(left, right)
                    left += 1
                    right -= 1
                }
            }
            // Now values[low...right] <= pivot, values[left...high] >= pivot, and
            // anything strictly between equals the pivot.
            if target <= right {
                high = right
            } else if target >= left {
                low = left
            } else {
                return values[target]
            }
        }
        return values[target]
    }

    private static func medianOfThree(_ a: Double, _ b: Double, _ c: Double) -> Double {
        max(min(a, b), min(max(a, b), c))
    }
}
