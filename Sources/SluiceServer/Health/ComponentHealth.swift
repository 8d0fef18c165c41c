/// Which components are failing, for `/healthz`. Pure: time is passed in.
///
/// A component is failing while one of its kinds of operation is: from that
/// kind's failure until its next success, or until it has not failed for
/// `forgetAfter` (an operation that stopped being tried must not leave the
/// component failing forever). Tracking by kind rather than by component
/// keeps reads that still work on a full disk from hiding writes that fail.
struct ComponentHealth: Sendable {
    let forgetAfter: Duration
    private var lastFailure: [FailureKind: Duration] = [:]

    init(forgetAfter: Duration = .seconds(60)) {
        self.forgetAfter = forgetAfter
    }

    mutating func failure(_ kind: FailureKind, at now: Duration) {
        lastFailure[kind] = now
    }

    mutating func success(_ kind: FailureKind) {
        lastFailure[kind] = nil
    }

    /// The components failing at `now`, in `HealthComponent` order.
    func failing(at now: Duration) -> [HealthComponent] {
        HealthComponent.allCases.filter { component in
            lastFailure.contains { kind, at in kind.component == component && now - at < forgetAfter }
        }
    }

    /// The `/healthz` body: `{"status":"ok"}` while all is well, else with one
    /// member per failing component, e.g. `{"status":"ok","database":"failing"}`.
    /// The status stays "ok": the daemon is serving.
    static func body(failing: [HealthComponent]) -> String {
        var body = #"{"status":"ok""#
        for component in failing {
            body += #","\#(component.rawValue)":"failing""#
        }
        return body + "}"
    }
}
