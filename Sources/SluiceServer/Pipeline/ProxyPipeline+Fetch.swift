import NIOCore
import NIOHTTP1
import SluiceCore
import SluiceStore

// The forward stage for plain cacheable requests: coalesced within the daemon
// (and across the fleet), fetched whole, stored.
extension ProxyPipeline {
    /// A cacheable answer: shared with identical requests in flight and stored
    /// when it is a 200 of at most `maxStoredAnswerBytes`.
    func fetchAnswer(
        _ upstreamRequest: UpstreamRequest, cacheKey: CacheKey, directives: CacheDirectives,
        body: ParsedBody, taskExecutor: (any TaskExecutor)?, record: inout RequestRecord
    ) async throws(SluiceError) -> SharedAnswer {
        let entryTemplate = entryTemplate(cacheKey, directives: directives, body: body, record: record)
        let joinsFleet = !directives.noCache
        let fill: @Sendable () async -> Result<SharedAnswer, SluiceError> = { [components] in
            // Fleet mode: wait for another daemon's call, or claim the key and make it.
            var claimed = false
            if joinsFleet, let flights = components.fleetFlights {
                switch await flights.turn(for: cacheKey) {
                case .answered(let entry): return .success(.storedByFleet(entry))
                case .lead: claimed = true
                case .alone: break
                }
            }
            let outcome: Result<SharedAnswer, SluiceError>
            do throws(SluiceError) {
                switch try await components.upstream.fetch(upstreamRequest, upTo: Self.maxStoredAnswerBytes) {
                case .whole(let answer):
                    components.metrics.recordUpstream(duration: answer.duration)
                    if answer.status == .ok {
                        let entry = entryTemplate.entry(for: answer, now: components.cache.now())
                        // Those waiting on the claim look for it in the database: store it first.
                        if claimed { await components.cache.saveNow(entry) } else { components.cache.save(entry) }
                    }
                    outcome = .success(.whole(answer))
                case .oversized(let stream):
                    outcome = .success(.oversized(OversizedAnswer(stream)))
                }
            } catch {
                outcome = .failure(error)
            }
            if claimed { await components.fleetFlights?.release(cacheKey) }
            return outcome
        }
        if directives.noCache {
            // Skip the lookup but store the fresh answer; not shared with others.
            let shared = try await fill().get()
            if case .whole(let answer) = shared {
                record.upstreamDuration = answer.duration
                record.usage = answer.usage
            }
            return shared
        }
        let (outcome, role) = await coalescer.run(key: cacheKey, executorPreference: taskExecutor, work: fill)
        let shared = try outcome.get()
        guard case .whole(let answer) = shared else { return shared }
        if role == .leader {
            record.cacheOutcome = .miss
            record.upstreamDuration = answer.duration
            record.usage = answer.usage
        } else {
            record.cacheOutcome = .coalesced
            record.saved = answer.usage
        }
        return shared
    }

    func entryTemplate(
        _ cacheKey: CacheKey, directives: CacheDirectives, body: ParsedBody, record: RequestRecord
    ) -> CacheEntryTemplate {
        CacheEntryTemplate(
            key: cacheKey, keyID: record.keyID, model: body.summary.model, route: record.route,
            ttlSeconds: directives.maxAge.map(Double.init) ?? cacheSettings.ttl.inSeconds)
    }
}
