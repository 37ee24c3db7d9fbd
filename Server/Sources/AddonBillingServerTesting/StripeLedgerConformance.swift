public import AddonBillingServer

/// Checks that a ``StripeLedger`` keeps its promises: a key's first customer and payment method
/// stay, a closed key stays closed, a PaymentIntent attaches to its key, and a webhook event is
/// handled once.
///
/// ```swift
/// let failures = await StripeLedgerConformance.check { try makeLedger() }
/// XCTAssertEqual(failures, [])
/// ```
public enum StripeLedgerConformance {
    /// Runs every check; returns a sentence per broken promise (empty when all hold).
    public static func check(_ make: @Sendable () async throws -> any StripeLedger) async -> [String] {
        let checks: [(String, @Sendable (any StripeLedger) async throws -> String?)] = [
            ("a key's first charge", firstCharge),
            ("closing", closing),
            ("events", events),
        ]
        return await runChecks(checks, on: make)
    }

    private static let firstCharge: @Sendable (any StripeLedger) async throws -> String? = { ledger in
        guard try await ledger.entry("conf-k") == nil else { return "an unknown key had an entry" }
        let opened = try await ledger.open("conf-k", customer: "cus_1", paymentMethod: "pm_1")
        guard opened.customer == "cus_1", opened.paymentMethod == "pm_1", !opened.isClosed else {
            return "the opened entry was \(opened)"
        }
        let again = try await ledger.open("conf-k", customer: "cus_2", paymentMethod: "pm_2")
        guard again.customer == "cus_1", again.paymentMethod == "pm_1" else {
            return "a key opened again took another customer: \(again)"
        }
        try await ledger.attach("pi_1", to: "conf-k")
        let attached = try await ledger.entry("conf-k")
        return attached?.paymentIntent == "pi_1" ? nil : "the PaymentIntent was not attached"
    }

    private static let closing: @Sendable (any StripeLedger) async throws -> String? = { ledger in
        let unused = try await ledger.close("conf-never")
        guard unused.isClosed, unused.customer == nil else { return "a key closed before any charge was \(unused)" }
        _ = try await ledger.open("conf-open", customer: "cus_1", paymentMethod: "pm_1")
        let closed = try await ledger.close("conf-open")
        guard closed.isClosed, closed.customer == "cus_1" else { return "a closed key lost its charge: \(closed)" }
        let reopened = try await ledger.open("conf-open", customer: "cus_1", paymentMethod: "pm_1")
        return reopened.isClosed ? nil : "a closed key opened again"
    }

    private static let events: @Sendable (any StripeLedger) async throws -> String? = { ledger in
        guard try await ledger.wasHandled(event: "evt_conf") == false else { return "an unknown event was handled" }
        guard try await ledger.markHandled(event: "evt_conf") else { return "a new event was not marked" }
        guard try await ledger.markHandled(event: "evt_conf") == false else { return "an event was handled twice" }
        return try await ledger.wasHandled(event: "evt_conf") ? nil : "a handled event was forgotten"
    }
}
