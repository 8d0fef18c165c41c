// libFuzzer target: the config file parser (Yams underneath) and the settings
// resolver. The checks live in Tests/SluiceCoreTests/FuzzChecks/ConfigFuzzCheck.swift
// (linked here), so the regression corpus test runs exactly the same checks.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    do {
        _ = try ConfigFuzzCheck.run(bytes)
    } catch {
        fatalError("config fuzz check failed: \(error)")
    }
    return 0
}
