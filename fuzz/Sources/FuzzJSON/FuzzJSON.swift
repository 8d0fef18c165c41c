// libFuzzer target: the request JSON parser, its canonical form and the cache
// key form. The checks live in Tests/SluiceCoreTests/FuzzChecks/JSONFuzzCheck.swift
// (linked here), so the regression corpus test runs exactly the same checks.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    do {
        _ = try JSONFuzzCheck.run(bytes)
    } catch {
        fatalError("JSON fuzz check failed: \(error)")
    }
    return 0
}
