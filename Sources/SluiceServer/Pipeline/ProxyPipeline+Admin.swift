import NIOCore
import NIOHTTP1
import SluiceCore

extension ProxyPipeline {
    /// `POST /sluice/cache/purge`, served on the Unix socket only (on TCP the
    /// path is unknown, 404): `sluice cache purge` asks the running daemon to
    /// purge, so that no purged answer is served once the command returns.
    ///
    /// The body is `{"model": "…", "older_than_seconds": N, "all": true}` (every
    /// member optional, at least one filter or `all`); the answer is
    /// `{"purged": N}`, or Sluice's error shape. No usage row is recorded.
    func respondToCachePurge(_ request: IncomingRequest, writer: ResponseWriter) -> InFlightRequest? {
        guard request.method == .POST else {
            sendError(.methodNotAllowed(), writer: writer)
            return nil
        }
        let model: String?
        let olderThanSeconds: Double?
        let all: Bool
        do throws(SluiceError) {
            let body: JSONValue
            do {
                body = try JSONParser.parse(Array(request.body.readableBytesView))
            } catch {
                throw .invalidJSON(error.description)
            }
            guard case .object(let members) = body else { throw .bodyNotObject() }
            if let unknown = members.first(where: { !["model", "older_than_seconds", "all"].contains($0.name) }) {
                throw Self.purgeRequestError("unknown member \"\(unknown.name)\"")
            }
            switch body["model"] {
            case nil, .null?: model = nil
            case .string(let name)?: model = name
            default: throw Self.purgeRequestError("\"model\" must be a string")
            }
            switch body["older_than_seconds"] {
            case nil, .null?: olderThanSeconds = nil
            case let value?:
                guard let seconds = value.doubleValue, seconds.isFinite, seconds > 0 else {
                    throw Self.purgeRequestError("\"older_than_seconds\" must be a positive number")
                }
                olderThanSeconds = seconds
            }
            switch body["all"] {
            case nil, .null?: all = false
            case .bool(let flag)?: all = flag
            default: throw Self.purgeRequestError("\"all\" must be true or false")
            }
            guard all || model != nil || olderThanSeconds != nil else {
                throw Self.purgeRequestError("nothing to purge: give \"model\" and/or \"older_than_seconds\", or \"all\": true")
            }
        } catch {
            sendError(error, writer: writer)
            return nil
        }

        let requestID = inFlight.begin()
        let task = Task { [self] in
            defer { inFlight.end(requestID) }
            // In a task of its own: a client that hangs up does not stop a purge half way.
            let outcome = await Task { [components] in
                try await components.cache.purge(model: model, olderThanSeconds: olderThanSeconds, all: all)
            }.result
            switch outcome {
            case .success(let purged):
                components.logger.info("cache purged", metadata: [
                    "entries": "\(purged)", "model": "\(model ?? "any")",
                    "older_than_seconds": "\(olderThanSeconds.map { "\($0)" } ?? "any")", "all": "\(all)",
                ])
                writer.send(status: .ok, headers: Self.jsonHeaders, body: ByteBuffer(string: #"{"purged":\#(purged)}"#))
            case .failure(let error):
                components.logger.error("cache purge failed", metadata: ["error": "\(error)"])
                sendError(
                    SluiceError(status: 500, type: "server_error", code: "cache_purge_failed", message: "The cache purge failed: \(error)"),
                    writer: writer)
            }
        }
        inFlight.attach(task, to: requestID)
        return InFlightRequest(task: task)
    }

    private static func purgeRequestError(_ detail: String) -> SluiceError {
        SluiceError(status: 400, type: "invalid_request_error", code: "invalid_purge_request", message: "Invalid cache purge request: \(detail).")
    }
}
