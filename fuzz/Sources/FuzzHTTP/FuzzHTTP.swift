// libFuzzer target: bytes from a client through NIO's HTTP/1.1 server pipeline
// into a responder that handles requests as the daemon does. The checks live in
// Tests/SluiceServerTests/FuzzChecks/HTTPFuzzCheck.swift (linked here), so the
// regression corpus test runs exactly the same checks.
//
// To see what the server answers to given inputs:
//   SLUICE_FUZZ_PRINT=1 .build-fuzz/release/FuzzHTTP FILE...

#if canImport(Glibc)
import Glibc
#endif

let printsOutcome = getenv("SLUICE_FUZZ_PRINT") != nil

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    do {
        let outcome = try HTTPFuzzCheck.run(bytes)
        if printsOutcome {
            print("answered \(outcome.answered): \(HTTPFuzzCheck.text(outcome.output))")
            for size in [1, 2, 3, 5, 7] {
                let split = try HTTPFuzzCheck.serve(bytes, readSize: size)
                print("  read size \(size): answered \(split.answered): \(HTTPFuzzCheck.text(split.output))")
            }
        }
    } catch {
        fatalError("HTTP fuzz check failed: \(error)")
    }
    return 0
}
