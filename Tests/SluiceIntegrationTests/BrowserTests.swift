import Foundation
import Hummingbird
import Logging
import NIOCore
import XCTest

/// A real browser (headless Chromium) on a page of another origin tries what
/// any web site could: make the browser POST to the daemon on 127.0.0.1. The
/// daemon must refuse it (a 403 usage row proves the request came) and the
/// gateway must see nothing. A positive control, with the page's origin
/// allowed, proves the harness sees a request that does get through.
///
/// Needs `chromium` (Debian package; `.ci/run` installs it). Without it these
/// tests fail, unless `SLUICE_SKIP_BROWSER_TESTS=1`.
final class BrowserTests: DaemonTestCase {
    private var pages: PageServer!

    override func setUp() async throws {
        try await super.setUp()
        pages = try await PageServer.start()
    }

    override func tearDown() async throws {
        await pages?.stop()
        try await super.tearDown()
    }

    /// The page's origin: `localhost` on another port, another site than `127.0.0.1`.
    private var pageOrigin: String { "http://localhost:\(pages.port)" }

    func testANoCORSPostFromAForeignPageIsRefusedAndNeverReachesUpstream() async throws {
        let chromium = try Chromium.locate()
        let daemon = try await startDaemon()
        pages.html = Self.page(script: """
            const answer = await fetch("\(try daemon.endpoint(.tcp).url(chatPath))", {
              method: "POST", mode: "no-cors", headers: {"content-type": "text/plain"},
              body: JSON.stringify({model: "openai/gpt-4o-mini", messages: [{role: "user", content: "from a web page"}]})
            });
            return "type=" + answer.type + "&status=" + answer.status;
            """)

        let beacon = try await chromium.visit("\(pageOrigin)/page.html", until: pages, in: directory)
        XCTAssertEqual(beacon["type"], "opaque", "the page's fetch ended as a no-cors fetch does: \(beacon)")

        let rows = try await waitForRows(daemon, count: 1)
        XCTAssertEqual(rows.first?.status, 403, "the browser's request reached the daemon and was refused: \(rows.map(\.summary))")
        XCTAssertEqual(rows.first?.errorCode, "origin_not_allowed", rows.map(\.summary).description)
        XCTAssertEqual(gateway.recorder.requests.count, 0,
                       "a web page spent the daemon's credential: \(gateway.recorder.requests.map(\.path))")
    }

    func testACORSFetchFromAForeignPageFailsAtThePreflight() async throws {
        let chromium = try Chromium.locate()
        let daemon = try await startDaemon()
        pages.html = Self.page(script: Self.corsFetch(to: try daemon.endpoint(.tcp).url(chatPath)))

        let beacon = try await chromium.visit("\(pageOrigin)/page.html", until: pages, in: directory)
        XCTAssertNotNil(beacon["error"], "the page must not read an answer: \(beacon)")
        XCTAssertNil(beacon["status"], "the page read an answer: \(beacon)")

        let rows = try await waitForRows(daemon, count: 1)
        XCTAssertEqual(rows.first?.status, 403, "the preflight reached the daemon and was refused: \(rows.map(\.summary))")
        XCTAssertEqual(rows.first?.errorCode, "origin_not_allowed", rows.map(\.summary).description)
        XCTAssertEqual(gateway.recorder.requests.count, 0, "nothing reaches upstream: \(gateway.recorder.requests.map(\.path))")
    }

    func testARebindingNameIsRefusedEvenWithoutAnOrigin() async throws {
        // The browser resolves rebound.example to 127.0.0.1, as a DNS-rebinding
        // attacker's resolver would. A no-cors GET carries no Origin, so only
        // the Host check stands between the page and the daemon.
        let chromium = try Chromium.locate(extraArguments: ["--host-resolver-rules=MAP rebound.example 127.0.0.1"])
        let daemon = try await startDaemon()
        pages.html = Self.page(script: """
            const answer = await fetch("http://rebound.example:\(daemon.tcpPort ?? 0)/v1/models", {mode: "no-cors"});
            return "type=" + answer.type;
            """)

        let beacon = try await chromium.visit("\(pageOrigin)/page.html", until: pages, in: directory)
        XCTAssertEqual(beacon["type"], "opaque", "\(beacon)")

        let rows = try await waitForRows(daemon, count: 1)
        XCTAssertEqual(rows.first?.status, 403, rows.map(\.summary).description)
        XCTAssertEqual(rows.first?.errorCode, "host_not_allowed", rows.map(\.summary).description)
        XCTAssertEqual(gateway.recorder.requests.count, 0, "nothing reaches upstream: \(gateway.recorder.requests.map(\.path))")
    }

    /// The positive control: the same harness, the page's origin allowed, a
    /// CORS fetch (with its preflight) gets its answer and reaches upstream once.
    func testAnAllowedPageGetsItsAnswerThroughCORS() async throws {
        let chromium = try Chromium.locate()
        var launch = defaultLaunch()
        launch.environment["SLUICE_ALLOWED_ORIGINS"] = pageOrigin
        let daemon = try await startDaemon(launch)
        pages.html = Self.page(script: Self.corsFetch(to: try daemon.endpoint(.tcp).url(chatPath)))

        let beacon = try await chromium.visit("\(pageOrigin)/page.html", until: pages, in: directory)
        XCTAssertNil(beacon["error"], "the allowed page's fetch failed: \(beacon)")
        XCTAssertEqual(beacon["status"], "200", "\(beacon)")
        XCTAssertEqual(beacon["cache"], "miss", "x-sluice-cache is exposed to the page: \(beacon)")
        let answer = try? JSONSerialization.jsonObject(with: Data((beacon["text"] ?? "").utf8)) as? [String: Any]
        XCTAssertNotNil(answer?["choices"], "the page read the completion: \(beacon["text"] ?? "nothing")")

        XCTAssertEqual(gateway.recorder.requests.count, 1, "exactly the POST went upstream (not the preflight)")
        XCTAssertEqual(gateway.recorder.requests.first?.method, "POST")
        XCTAssertTrue(gateway.recorder.requests.first.map { String(decoding: $0.body, as: UTF8.self) }?.contains("from a web page") ?? false)

        let rows = try await waitForRows(daemon, count: 2)
        XCTAssertEqual(rows.map(\.status).sorted(), [200, 204], "the preflight and the POST: \(rows.map(\.summary))")
    }

    // MARK: Pages

    /// A page that runs `script` (the body of an async function returning a
    /// query string) and reports the outcome to `/done?…` on its own server.
    private static func page(script: String) -> String {
        """
        <!doctype html>
        <html><head><title>sluice browser test</title></head><body><p id="result">pending</p>
        <script>
        (async () => {
          let report;
          try {
            report = await (async () => {
        \(script)
            })();
          } catch (error) {
            report = "error=" + encodeURIComponent(String(error));
          }
          document.getElementById("result").textContent = report;
          await fetch("/done?" + report);
        })();
        </script></body></html>
        """
    }

    /// A CORS JSON POST (preflighted): reports status, the cache header and the text.
    private static func corsFetch(to url: String) -> String {
        """
            const answer = await fetch("\(url)", {
              method: "POST", mode: "cors", headers: {"content-type": "application/json"},
              body: JSON.stringify({model: "openai/gpt-4o-mini", messages: [{role: "user", content: "from a web page"}]})
            });
            const text = await answer.text();
            return "status=" + answer.status + "&cache=" + encodeURIComponent(answer.headers.get("x-sluice-cache") || "")
              + "&text=" + encodeURIComponent(text);
        """
    }

    /// The usage rows once `count` are written (and no more shortly after).
    private func waitForRows(_ daemon: DaemonProcess, count: Int, file: StaticString = #filePath, line: UInt = #line) async throws -> [StoredUsageRow] {
        var rows: [StoredUsageRow] = []
        let written = try await eventually(within: .seconds(8)) {
            rows = (try? UsageTable.rowsNow(at: daemon.databasePath)) ?? []
            return rows.count >= count
        }
        XCTAssertTrue(written, "expected \(count) usage rows, found \(rows.count): \(rows.map(\.summary))", file: file, line: line)
        try await Task.sleep(for: .milliseconds(300))
        rows = (try? UsageTable.rowsNow(at: daemon.databasePath)) ?? rows
        XCTAssertEqual(rows.count, count, "usage rows: \(rows.map(\.summary))", file: file, line: line)
        return rows
    }
}

// MARK: - Headless Chromium

/// `chromium --headless=new` as a subprocess, one fresh profile per visit.
struct Chromium {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let executable: URL
    var extraArguments: [String] = []

    /// Finds `chromium` on PATH; fails (or skips, with `SLUICE_SKIP_BROWSER_TESTS=1`) without it.
    static func locate(extraArguments: [String] = []) throws -> Chromium {
        let environment = ProcessInfo.processInfo.environment
        let path = environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            for name in ["chromium", "chromium-browser"] {
                let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent(name)
                if FileManager.default.isExecutableFile(atPath: candidate.path) {
                    return Chromium(executable: candidate, extraArguments: extraArguments)
                }
            }
        }
        if environment["SLUICE_SKIP_BROWSER_TESTS"] == "1" {
            throw XCTSkip("chromium is not installed and SLUICE_SKIP_BROWSER_TESTS=1")
        }
        throw Failure(description: """
            chromium is not installed: the browser tests need it (`apt-get install chromium`; .ci/run installs it). \
            Set SLUICE_SKIP_BROWSER_TESTS=1 to skip them.
            """)
    }

    /// Opens `url` and waits for the page's `/done?…` beacon on `pages`; gives
    /// up after `timeout`. Returns the beacon's query items.
    func visit(_ url: String, until pages: PageServer, in directory: TemporaryDirectory,
               timeout: Duration = .seconds(15)) async throws -> [String: String] {
        let label = UUID().uuidString.prefix(8)
        let profile = directory.file("chromium-\(label)")
        let domPath = directory.file("chromium-\(label).dom")
        let logPath = directory.file("chromium-\(label).stderr")
        guard FileManager.default.createFile(atPath: domPath, contents: nil),
              FileManager.default.createFile(atPath: logPath, contents: nil) else {
            throw Failure(description: "could not create files in \(directory.path)")
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            "--user-data-dir=\(profile)", "--virtual-time-budget=5000",
        ] + extraArguments + ["--dump-dom", url]
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = directory.path
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: domPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try process.run()
        defer { Self.end(process) }

        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let beacon = pages.beacons.first {
                return beacon
            }
            if !process.isRunning, pages.beacons.isEmpty {
                // It may have exited just after the beacon left; look once more.
                try await Task.sleep(for: .milliseconds(200))
                if let beacon = pages.beacons.first { return beacon }
                throw Failure(description: """
                    chromium exited (status \(process.terminationStatus)) without the page reporting; \
                    page requests: \(pages.requests)
                    DOM: \(Self.read(domPath).suffix(1500))
                    stderr: \(Self.read(logPath).suffix(2500))
                    """)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Failure(description: """
            the page did not report within \(timeout); page requests: \(pages.requests)
            stderr: \(Self.read(logPath).suffix(2500))
            """)
    }

    /// SIGTERM (Chromium then ends its helpers), SIGKILL if it lingers.
    private static func end(_ process: Process) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(3)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    private static func read(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }
}

// MARK: - The page's own server

/// Serves the test page at `/page.html` from 127.0.0.1 (another origin than
/// the daemon) and records the `/done?…` beacons the page sends back.
final class PageServer: Sendable {
    let port: Int
    private let state: LockedBox<PageState>
    private let runTask: Task<Void, Never>

    struct PageState {
        var html = "<!doctype html><p>no page set</p>"
        var requests: [String] = []
        var beacons: [[String: String]] = []
    }

    var html: String {
        get { state.current.html }
        set { state.withLock { $0.html = newValue } }
    }

    var requests: [String] { state.current.requests }
    var beacons: [[String: String]] { state.current.beacons }

    private init(port: Int, state: LockedBox<PageState>, runTask: Task<Void, Never>) {
        self.port = port
        self.state = state
        self.runTask = runTask
    }

    static func start() async throws -> PageServer {
        let state = LockedBox(PageState())
        let (boundPorts, portSink) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "PageServer")
        logger.logLevel = .critical
        let app = Application(
            responder: PageResponder(state: state),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                if let port = channel.localAddress?.port { portSink.yield(port) }
                portSink.finish()
            },
            logger: logger
        )
        let runTask = Task {
            try? await app.run()
            portSink.finish()
        }
        var ports = boundPorts.makeAsyncIterator()
        guard let port = await ports.next() else {
            throw Chromium.Failure(description: "the page server did not start listening on 127.0.0.1")
        }
        return PageServer(port: port, state: state, runTask: runTask)
    }

    func stop() async {
        runTask.cancel()
        await runTask.value
    }
}

private struct PageResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let state: LockedBox<PageServer.PageState>

    func respond(to request: Request, context: Context) async throws -> Response {
        let uri = request.uri.string
        state.withLock { $0.requests.append("\(request.method.rawValue) \(uri)") }
        switch request.uri.path {
        case "/page.html":
            let html = state.current.html
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(string: html)))
        case "/done":
            var items: [String: String] = [:]
            for item in URLComponents(string: uri)?.queryItems ?? [] {
                items[item.name] = item.value ?? ""
            }
            state.withLock { $0.beacons.append(items) }
            return Response(status: .noContent)
        default:
            return Response(status: .notFound)
        }
    }
}
