import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SluiceCore
import SluiceStore

/// A running Sluice: the database open and migrated, the listeners bound, the
/// background services ready to run in one `ServiceGroup`.
///
/// `start` does everything that can fail on a bad setting (so `serve` exits
/// with a clear error before it reports ready); `run` serves until a signal or
/// `shutdown()`, then stops in order: listeners drain first, the usage flusher
/// writes the last rows last.
public final class Daemon: Sendable {
    /// Where the daemon actually listens (TCP ports resolved).
    public let listenAddresses: [ListenAddress]
    private let serviceGroup: ServiceGroup
    private let pipeline: ProxyPipeline
    private let resources: Resources
    /// Kept for the daemon's whole life: a second SIGTERM while draining is
    /// then ignored rather than fatal.
    private let signals: DaemonSignals?
    private let options: DaemonOptions
    private let logger: Logger

    /// What must be closed after the services stop.
    private struct Resources: Sendable {
        let eventLoopGroup: MultiThreadedEventLoopGroup
        let threadPool: NIOThreadPool
        let upstream: UpstreamClient
        let limiter: any RequestLimiter
        let storage: DaemonStorage
    }

    public static func start(_ options: DaemonOptions, logger: Logger) async throws -> Daemon {
        let settings = options.settings
        let maxConnections = OpenFileLimit.fit(maxConnections: settings.maxConnections, logger: logger)
        let signals = options.handleSignals ? await DaemonSignals.trap() : nil
        let threadPool = NIOThreadPool(numberOfThreads: 2)
        threadPool.start()
        let storage: DaemonStorage
        do {
            storage = try await DaemonStorage.open(
                settings.database, threadPool: threadPool, environment: ProcessInfo.processInfo.environment, logger: logger)
        } catch {
            try? await threadPool.shutdownGracefully()
            throw error
        }
        let budgets = BudgetGuard(budgets: settings.budgets.resolvingKeyIDs(of: settings.keys), clock: options.clock)
        // Budget spend survives restarts: what the current UTC day and month
        // spent seeds the ledger before anything is served.
        do {
            let spend = try await storage.spendNow(at: options.clock.now())
            budgets.seed(daySpend: spend.day, monthSpend: spend.month)
        } catch {
            storage.close()
            try? await threadPool.shutdownGracefully()
            throw error
        }
        let eventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let metrics = SluiceMetrics()
        let health = HealthMonitor(logger: logger, metrics: metrics)
        let upstream = UpstreamClient(
            eventLoopGroup: eventLoopGroup, baseURL: settings.upstream,
            timeout: settings.upstreamTimeout, identity: options.identity, health: health)
        let limits = settings.limits.resolvingKeyIDs(of: settings.keys)
        let limiter: any RequestLimiter = storage.fleet.map { FleetRateLimiter(shared: $0.buckets, limits: limits, health: health, breaker: $0.breaker) }
            ?? RateLimiter(limits: limits)
        let fleetSpend = storage.fleet.map { FleetSpendService(spend: $0.spend, budgets: budgets, clock: options.clock, health: health) }
        if let fleetSpend { budgets.sendSpend(to: fleetSpend.add) }
        let recorder = UsageRecorder()
        let cache = ResponseCache(
            backend: storage.cache, clock: options.clock, logger: logger, health: health,
            staleIfError: settings.cache.staleIfError)
        let pipeline = ProxyPipeline(
            components: .init(upstream: upstream, cache: cache, limiter: limiter, budgets: budgets, recorder: recorder,
                              metrics: metrics, health: health, clock: options.clock, logger: logger,
                              fleetFlights: storage.fleet.map {
                                  FleetFlights(flights: $0.flights, entries: $0.entries, breaker: $0.breaker, clock: options.clock,
                                               claimSeconds: settings.upstreamTimeout.inSeconds + 5,
                                               maxWait: settings.upstreamTimeout + .seconds(5))
                              }),
            cacheSettings: settings.cache, maxBodyBytes: settings.maxBodyBytes,
            keys: ClientKeyRegistry(settings.keys), webAccess: settings.webAccess)
        let resources = Resources(
            eventLoopGroup: eventLoopGroup, threadPool: threadPool, upstream: upstream, limiter: limiter, storage: storage)

        let listeners: [BoundListener]
        do {
            let factory = HTTPListenerFactory(
                group: eventLoopGroup, responder: pipeline, maxBodyBytes: settings.maxBodyBytes,
                idleTimeout: settings.idleTimeout, maxConnections: maxConnections)
            listeners = try await bindListeners(settings: settings, inherited: options.inheritedSockets, factory: factory)
        } catch {
            await Self.close(resources)
            throw error
        }

        // Shut down in reverse order: listeners drain first, the usage flusher then
        // writes the last rows, and the watchdog keeps pinging until the very end.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let watchdog = options.watchdog { services.append(.init(service: watchdog)) }
        if let fleetSpend { services.append(.init(service: fleetSpend)) }
        services += [
            .init(service: UsageFlushService(
                recorder: recorder, store: storage.usageRows,
                clock: options.clock, retention: settings.usage.retention, metrics: metrics, health: health, logger: logger)),
            .init(service: CacheMaintenanceService(
                cache: cache, maxBytes: settings.cache.maxSizeBytes, metrics: metrics, health: health)),
            .init(service: ModelPricesService(upstream: upstream, budgets: budgets, logger: logger)),
        ]
        if let signals, let reload = options.reloadConfiguration {
            services.append(.init(service: ReloadOnHangupService(
                hangups: signals.hangup, reload: reload, apply: { [pipeline, limiter, budgets, upstream] configuration in
                    let settings = configuration.settings
                    pipeline.replaceKeys(ClientKeyRegistry(settings.keys))
                    pipeline.replaceWebAccess(settings.webAccess)
                    limiter.update(limits: settings.limits.resolvingKeyIDs(of: settings.keys))
                    // New caps, same spend: nothing is re-read from the usage rows.
                    budgets.replace(budgets: settings.budgets.resolvingKeyIDs(of: settings.keys))
                    upstream.replaceIdentity(configuration.upstream)
                },
                notifier: options.notifier, logger: logger)))
        }
        let notifier = options.notifier
        let listenAddresses = listeners.map { Self.resolvedAddress($0) }
        let readyStatus = "serving on " + listenAddresses.map(\.description).joined(separator: ", ")
        services.append(.init(service: ListenerService(
            listeners: listeners, inFlight: pipeline.inFlight,
            shutdownTimeout: settings.shutdownTimeout, logger: logger,
            onServing: { _ = notifier?.ready(status: readyStatus) },
            onStopping: { _ = notifier?.stopping(status: "draining requests") })))
        if let signals {
            services.append(.init(
                service: ShutdownSignalService(signals: signals.shutdown, logger: logger),
                successTerminationBehavior: .gracefullyShutdownGroup))
        }

        var configuration = ServiceGroupConfiguration(services: services, logger: logger)
        // Past the shutdown timeout, cut requests get `ListenerService.bookkeepingGrace`
        // to record their rows, then the flusher writes them: leave it room.
        configuration.maximumGracefulShutdownDuration = settings.shutdownTimeout + .seconds(30)
        let daemon = Daemon(
            listenAddresses: listenAddresses,
            serviceGroup: ServiceGroup(configuration: configuration),
            pipeline: pipeline, resources: resources, signals: signals, options: options, logger: logger)
        return daemon
    }

    private init(
        listenAddresses: [ListenAddress], serviceGroup: ServiceGroup, pipeline: ProxyPipeline,
        resources: Resources, signals: DaemonSignals?, options: DaemonOptions, logger: Logger
    ) {
        self.listenAddresses = listenAddresses
        self.serviceGroup = serviceGroup
        self.pipeline = pipeline
        self.resources = resources
        self.signals = signals
        self.options = options
        self.logger = logger
    }

    /// Serves until SIGTERM/SIGINT or `shutdown()`, then stops in order.
    public func run() async throws {
        let where_ = listenAddresses.map(\.description).joined(separator: ", ")
        logger.info("sluice serving", metadata: ["listen": "\(where_)", "upstream": "\(options.settings.upstream)"])
        // READY=1 comes from the listener service, once the services run.
        do {
            try await serviceGroup.run()
        } catch {
            await Self.close(resources)
            throw error
        }
        await Self.close(resources)
        logger.info("sluice stopped")
    }

    /// Starts a graceful shutdown, as SIGTERM does.
    public func shutdown() async {
        await serviceGroup.triggerGracefulShutdown()
    }

    /// The port of the first TCP listener (tests bind port 0).
    public var tcpPort: Int? {
        for address in listenAddresses {
            if case .tcp(let hostAndPort) = address { return hostAndPort.port }
        }
        return nil
    }

    private static func close(_ resources: Resources) async {
        await resources.upstream.shutdown()
        resources.storage.close()
        try? await resources.threadPool.shutdownGracefully()
        try? await resources.eventLoopGroup.shutdownGracefully()
    }

    private static func bindListeners(
        settings: Settings, inherited: [InheritedSocket], factory: HTTPListenerFactory
    ) async throws -> [BoundListener] {
        var addresses: [ListenAddress] = []
        if inherited.isEmpty {
            if let tcp = settings.tcp { addresses.append(.tcp(tcp)) }
            if let path = settings.unixSocketPath { addresses.append(.unix(path: path)) }
        } else {
            for socket in inherited {
                guard socket.kind != .unsupported else {
                    throw ListenerError(description: "inherited socket fd \(socket.fd) is not a stream socket Sluice can serve on")
                }
                addresses.append(.inherited(
                    fd: socket.fd, label: socket.path ?? socket.name ?? (socket.kind == .tcp ? "tcp" : "unix"),
                    transport: socket.kind == .tcp ? .tcp : .unixSocket))
            }
        }
        var bound: [BoundListener] = []
        do {
            for address in addresses {
                bound.append(try await bindOne(address, factory: factory))
            }
        } catch {
            for listener in bound {
                try? await listener.channel.close()
                if let path = listener.ownedSocketPath { UnixSocketFile.remove(path: path) }
            }
            throw error
        }
        return bound
    }

    private static func bindOne(_ address: ListenAddress, factory: HTTPListenerFactory) async throws -> BoundListener {
        do {
            return try await factory.bind(address)
        } catch let error as ListenerError {
            throw error
        } catch {
            throw ListenerError(description: "cannot listen on \(address): \(Self.describeBindError(error))")
        }
    }

    private static func describeBindError(_ error: any Error) -> String {
        if let ioError = error as? IOError {
            switch ioError.errnoCode {
            case EADDRINUSE: return "address already in use"
            case EACCES: return "permission denied"
            case EADDRNOTAVAIL: return "address not available on this machine"
            case ENOENT: return "the folder does not exist"
            default: return "\(ioError)"
            }
        }
        return "\(error)"
    }

    private static func resolvedAddress(_ listener: BoundListener) -> ListenAddress {
        if case .tcp(let configured) = listener.address, let port = listener.channel.localAddress?.port {
            return .tcp(HostAndPort(host: configured.host, port: port))
        }
        return listener.address
    }
}
