import NIOConcurrencyHelpers
import NIOCore

/// Runs Swift tasks on a SwiftNIO event loop, as a task executor preference.
///
/// A request's task prefers its connection's event loop: its awaits resume on
/// the thread that owns the client socket, AsyncHTTPClient (which takes the
/// current loop when it may pick any) talks upstream from that same loop, and
/// the answer is written without a thread hop. A task with this preference
/// must not do long blocking work: large bodies are parsed without it.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}

/// One `EventLoopTaskExecutor` per event loop, made on first use.
final class EventLoopTaskExecutors: Sendable {
    private let executors = NIOLockedValueBox([ObjectIdentifier: EventLoopTaskExecutor]())

    func executor(for eventLoop: any EventLoop) -> EventLoopTaskExecutor {
        executors.withLockedValue { executors in
            let id = ObjectIdentifier(eventLoop)
            if let executor = executors[id] { return executor }
            let executor = EventLoopTaskExecutor(eventLoop: eventLoop)
            executors[id] = executor
            return executor
        }
    }
}
