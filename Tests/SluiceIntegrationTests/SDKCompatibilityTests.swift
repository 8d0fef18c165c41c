import Foundation
import XCTest

/// The official `openai` and `anthropic` Python SDKs drive the real daemon
/// (SDK/sdk_check.py): their own parsers read what the cache replays, in both
/// shapes, and the errors Sluice makes (CONTRACT, "HTTP surface", "Cache").
///
/// Needs `python3` with both SDKs (`pip install openai anthropic`; .ci/run
/// installs the pinned versions). Without them these tests fail, unless
/// `SLUICE_SKIP_SDK_TESTS=1` makes them skip.
final class SDKCompatibilityTests: DaemonTestCase {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("SDK/sdk_check.py").path
    static let keysConfig = "keys:\n  - {name: web, key: sk-local-web-example}\n"

    override func setUp() async throws {
        try await super.setUp()
        if let problem = await Self.sdkProblem() {
            if ProcessInfo.processInfo.environment["SLUICE_SKIP_SDK_TESTS"] == "1" {
                throw XCTSkip("SLUICE_SKIP_SDK_TESTS=1: \(problem)")
            }
            XCTFail("\(problem). Run `pip install openai anthropic` (.ci/run installs the pinned versions), "
                    + "or set SLUICE_SKIP_SDK_TESTS=1 to skip these tests.")
            throw SDKRunFailure(description: problem)
        }
    }

    // MARK: Chat: one stored answer, two shapes

    func testAPlainAnswerReplayedAsAStreamReadsTheSameThroughTheSDK() async throws {
        let endpoint = try await startDaemon().endpoint(.tcp)
        let result = try await runSDKCheck("chat-both-shapes", on: endpoint)

        XCTAssertEqual(result["cache"] as? [String], ["miss", "hit", "hit", "hit"],
                       "plain, stream with usage, .stream() helper, stream without usage")
        XCTAssertEqual(result["content_equal"] as? Bool, true, "the chunks' content is the plain message")
        XCTAssertEqual(result["finish_reason_equal"] as? Bool, true, "one finish_reason, the plain one")
        XCTAssertEqual(result["usage_equal"] as? Bool, true, "the last chunk's usage is the plain usage")

        let plain = try XCTUnwrap(result["plain"] as? [String: Any])
        let streamed = try XCTUnwrap(result["streamed"] as? [String: Any])
        XCTAssertEqual(Self.text(plain["usage"]), Self.text(Self.standardUsage), "the fake gateway's usage, cost included")
        XCTAssertEqual(Self.text(streamed["completion"]), Self.text(plain),
                       "ChatCompletionStreamState over the replay gives the plain ChatCompletion")
        XCTAssertEqual(streamed["usage_chunks"] as? Int, 1, "one usage chunk when include_usage asks for it")
        XCTAssertEqual(streamed["last_chunk_choice_count"] as? Int, 0, "the usage chunk has no choices, as OpenAI sends it")
        XCTAssertEqual(Self.text(result["helper"]), Self.text(plain),
                       "client.chat.completions.stream(...).get_final_completion() gives the plain ChatCompletion")

        let bare = try XCTUnwrap(result["bare"] as? [String: Any])
        XCTAssertEqual(bare["usage_chunks"] as? Int, 0, "no usage chunk without stream_options.include_usage")
        let bareCompletion = try XCTUnwrap(bare["completion"] as? [String: Any])
        XCTAssertEqual(Self.text(bareCompletion["choices"]), Self.text(plain["choices"]))
        XCTAssertEqual(gateway.recorder.requests.count, 1, "one upstream call serves all four")
    }

    func testAStreamedAnswerAssembledIntoAPlainOneParsesTheSame() async throws {
        let endpoint = try await startDaemon().endpoint(.tcp)
        let result = try await runSDKCheck("chat-stream-first", on: endpoint)

        XCTAssertEqual(result["cache"] as? [String], ["miss", "hit"])
        XCTAssertEqual(result["plain_object"] as? String, "chat.completion")
        let streamed = try XCTUnwrap(result["streamed"] as? [String: Any])
        XCTAssertEqual(streamed["content"] as? String, "part0 part1 part2 ", "the fake gateway's three chunks")
        XCTAssertEqual(Self.text(result["plain"]), Self.text(streamed["completion"]),
                       "the assembled chat.completion is what the SDK accumulates from the stream")
        XCTAssertEqual(gateway.recorder.requests.count, 1)
    }

    func testTwoChoicesToolCallsAndLogprobsSurviveBothDirections() async throws {
        let endpoint = try await startDaemon().endpoint(.tcp)
        let result = try await runSDKCheck("chat-tools", on: endpoint)

        XCTAssertEqual(result["cache"] as? [String], ["miss", "hit", "hit", "miss", "hit"],
                       "plain, .stream() helper, raw stream; then stream, plain")
        let forward = try XCTUnwrap(result["plain_then_stream"] as? [String: Any])
        let backward = try XCTUnwrap(result["stream_then_plain"] as? [String: Any])
        let upstreamPlain = try XCTUnwrap(forward["plain"] as? [String: Any])

        // The fake gateway's own two answers agree (the stream was relayed on a miss).
        let choices = try XCTUnwrap(upstreamPlain["choices"] as? [[String: Any]])
        XCTAssertEqual(choices.count, 2, Self.text(upstreamPlain))
        let call = (choices.last?["tool_calls"] as? [[String: Any]])?.first
        XCTAssertEqual(call?["id"] as? String, "call_fake_1")
        XCTAssertEqual(call?["name"] as? String, "get_weather")
        XCTAssertEqual(call?["arguments"] as? String, #"{"city":"Paris"}"#)
        XCTAssertEqual(Self.text(backward["streamed"]), Self.text(upstreamPlain),
                       "the fake gateway streams what it answers plainly (harness check)")

        XCTAssertEqual(Self.text(forward["helper"]), Self.text(upstreamPlain),
                       "a plain answer replayed as a stream: .stream().get_final_completion()")
        XCTAssertEqual(Self.text(forward["raw"]), Self.text(upstreamPlain),
                       "a plain answer replayed as a stream: ChatCompletionStreamState")
        XCTAssertEqual(backward["plain_object"] as? String, "chat.completion")
        XCTAssertEqual(Self.text(backward["plain"]), Self.text(upstreamPlain),
                       "a streamed answer assembled into a plain one parses into the same ChatCompletion")
        XCTAssertEqual(gateway.recorder.requests.count, 2, "one upstream call per stored answer")
    }

    // MARK: Responses and Messages streams

    func testAResponsesStreamParsesTheSameWhenReplayed() async throws {
        let endpoint = try await startDaemon().endpoint(.tcp)
        let result = try await runSDKCheck("responses-stream", on: endpoint)

        let runs = try XCTUnwrap(result["runs"] as? [[String: Any]])
        XCTAssertEqual(runs.map { $0["cache"] as? String }, ["miss", "hit"])
        for (index, run) in runs.enumerated() {
            let types = run["types"] as? [String] ?? []
            XCTAssertEqual(types.first, "response.created", "run \(index): \(types)")
            XCTAssertEqual(types.last, "response.completed", "run \(index): \(types)")
            XCTAssertEqual(run["text"] as? String, "echo: hi", "run \(index): the deltas")
            XCTAssertEqual(run["final_text"] as? String, "echo: hi", "run \(index): response.completed's output_text")
            XCTAssertEqual(run["status"] as? String, "completed", "run \(index)")
        }
        XCTAssertEqual(runs.first?["types"] as? [String], runs.last?["types"] as? [String], "the same events replayed")
        XCTAssertEqual(gateway.recorder.requests.count, 1)
    }

    func testTheAnthropicSDKReadsStoredMessagesAndStreams() async throws {
        let endpoint = try await startDaemon().endpoint(.tcp)
        let result = try await runSDKCheck("anthropic-messages", on: endpoint)

        let plain = try XCTUnwrap(result["plain"] as? [[String: Any]])
        XCTAssertEqual(plain.map { $0["cache"] as? String }, ["miss", "hit"])
        for (index, message) in plain.enumerated() {
            XCTAssertEqual(message["type"] as? String, "message", "plain \(index)")
            XCTAssertEqual(message["text"] as? String, "echo: hello claude", "plain \(index)")
            XCTAssertEqual(message["stop_reason"] as? String, "end_turn", "plain \(index)")
            // Anthropic's input_tokens leaves out the 3 tokens read from its prompt cache.
            XCTAssertEqual(message["usage"] as? [Int], [FakeUsage.standard.promptTokens - FakeUsage.standard.cachedTokens, 7], "plain \(index)")
        }

        let streamed = try XCTUnwrap(result["streamed"] as? [[String: Any]])
        XCTAssertEqual(streamed.map { $0["cache"] as? String }, ["miss", "hit"], "messages.stream(), then create(stream=True)")
        for run in streamed {
            let via = run["via"] as? String ?? "?"
            XCTAssertEqual(run["text"] as? String, "echo: stream claude", via)
            XCTAssertEqual(run["final_text"] as? String, "echo: stream claude", via)
            XCTAssertEqual(run["stop_reason"] as? String, "end_turn", via)
        }
        XCTAssertEqual((streamed.first?["usage"] as? [Int])?.last, 7, "output tokens from message_delta")
        XCTAssertEqual(streamed.last?["types"] as? [String],
                       ["message_start", "content_block_start", "content_block_delta", "content_block_stop",
                        "message_delta", "message_stop"], "the same Anthropic events replayed")
        XCTAssertEqual(gateway.recorder.requests.count, 2, "one upstream call per stored answer")
    }

    // MARK: Errors Sluice makes

    func testSluiceErrorsRaiseTheSDKsOwnExceptions() async throws {
        let limits = try writeConfig("limits: {default: {requests_per_minute: 6, burst: 1}}\n", name: "limits.yaml")
        let open = try await startDaemon(launch(config: limits)).endpoint(.tcp)
        let keyed = try await startDaemon(launch(config: writeConfig(Self.keysConfig), name: "keys")).endpoint(.tcp)
        let result = try await runSDKCheck("errors", on: open, extra: ["--keys-base-url", Self.baseURL(keyed)])

        let impossible = try XCTUnwrap(result["impossible"] as? [String: Any])
        XCTAssertEqual(impossible["class"] as? String, "RateLimitError", "max_tokens 10**19: \(Self.text(impossible))")
        XCTAssertEqual(impossible["status"] as? Int, 429)
        XCTAssertEqual(impossible["code"] as? String, "rate_limit_exceeded")
        XCTAssertEqual(result["first"] as? String, "echo: first", "the impossible request spent nothing")

        let limited = try XCTUnwrap(result["rate_limit"] as? [String: Any])
        XCTAssertEqual(limited["class"] as? String, "RateLimitError", "past the burst: \(Self.text(limited))")
        XCTAssertEqual(limited["status"] as? Int, 429)
        XCTAssertEqual(limited["code"] as? String, "rate_limit_exceeded")
        XCTAssertNotNil(limited["retry_after"] as? String, "retry-after on the 429: \(Self.text(limited))")

        for sdk in ["openai", "anthropic"] {
            let refused = try XCTUnwrap(result["\(sdk)_unknown_key"] as? [String: Any], sdk)
            XCTAssertEqual(refused["class"] as? String, "AuthenticationError", "\(sdk): \(Self.text(refused))")
            XCTAssertEqual(refused["status"] as? Int, 401, sdk)
            XCTAssertEqual(result["\(sdk)_known_key"] as? String, "echo: who", "\(sdk): a listed key gets in")
        }
        XCTAssertEqual(gateway.recorder.requests.count, 3, "only the allowed request and the two listed-key ones reach upstream")
    }

    // MARK: - Running sdk_check.py

    struct SDKRunFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// The fake gateway's `FakeUsage.standard`, as the SDK dumps it.
    static var standardUsage: [String: Any] { [
        "prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19, "cost": 0.000245,
        "prompt_tokens_details": ["cached_tokens": 3],
    ] }

    /// Why the SDKs cannot run here, or nil when `python3` imports both (asked once).
    private static let sdkCheck = LockedBox<String??>(nil)

    static func sdkProblem() async -> String? {
        if let known = sdkCheck.current { return known }
        let problem: String?
        do {
            let run = try await runProcess(["python3", "-c", "import openai, anthropic"], timeout: .seconds(30))
            problem = run.status == 0 ? nil : "python3 cannot import openai and anthropic: \(run.stderr.suffix(600))"
        } catch {
            problem = "python3 did not run: \(error)"
        }
        sdkCheck.withLock { $0 = .some(problem) }
        return problem
    }

    static func baseURL(_ endpoint: HTTPEndpoint) -> String {
        endpoint.url("/v1")
    }

    /// Runs one scenario against the daemon at `endpoint` and returns the JSON it printed.
    func runSDKCheck(
        _ scenario: String, on endpoint: HTTPEndpoint, extra: [String] = [],
        file: StaticString = #filePath, line: UInt = #line
    ) async throws -> [String: Any] {
        let arguments = ["python3", Self.script, "--base-url", Self.baseURL(endpoint)] + extra + [scenario]
        let run = try await Self.runProcess(arguments, timeout: .seconds(30), home: directory.path)
        guard run.status == 0 else {
            throw SDKRunFailure(description: "sdk_check.py \(scenario) exited \(run.status):\n\(run.stderr.suffix(4000))\nstdout: \(run.stdout.suffix(2000))")
        }
        let line = run.stdout.split(separator: "\n").last.map(String.init) ?? ""
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw SDKRunFailure(description: "sdk_check.py \(scenario) printed no JSON object: \(run.stdout.suffix(2000))\nstderr: \(run.stderr.suffix(2000))")
        }
        return object
    }

    struct ProcessRun {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `arguments` (found on PATH), killing it after `timeout`. The SDKs'
    /// own environment variables are removed so nothing from the shell points
    /// them elsewhere; HOME is the test folder. Waits without holding a thread.
    static func runProcess(_ arguments: [String], timeout: Duration, home: String? = nil) async throws -> ProcessRun {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdk-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let outPath = folder.appendingPathComponent("stdout").path
        let errPath = folder.appendingPathComponent("stderr").path
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment.filter { name, _ in
            let upper = name.uppercased()
            return !upper.hasPrefix("OPENAI_") && !upper.hasPrefix("ANTHROPIC_") && !upper.hasSuffix("_PROXY")
        }
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        environment["PYTHONUNBUFFERED"] = "1"
        if let home { environment["HOME"] = home }
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        defer { try? out.close(); try? err.close() }
        process.standardOutput = out
        process.standardError = err

        let (exited, exit) = AsyncStream.makeStream(of: Void.self)
        process.terminationHandler = { _ in exit.finish() }
        try process.run()
        let pid = process.processIdentifier
        let killed = LockedBox(false)
        let killer = Task {
            try await Task.sleep(for: timeout)
            killed.withLock { $0 = true }
            kill(pid, SIGKILL)
        }
        for await _ in exited {}
        killer.cancel()
        let timedOut = killed.current

        let stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        var stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        if timedOut { stderr += "\n(killed by signal \(process.terminationStatus); the limit is \(timeout))" }
        return ProcessRun(status: timedOut ? -1 : process.terminationStatus, stdout: stdout, stderr: stderr)
    }

    /// `value` as sorted-keys JSON text, so XCTAssertEqual shows what differs.
    static func text(_ value: Any?) -> String {
        guard let value, JSONSerialization.isValidJSONObject(value),
              let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) else {
            return String(describing: value)
        }
        return String(decoding: data, as: UTF8.self)
    }
}
