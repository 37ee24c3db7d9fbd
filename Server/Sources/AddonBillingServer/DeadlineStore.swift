public import AddonBilling
import AddonBillingAccounts
import AddonBillingSQLite
import PostgresNIO

/// The database did not answer a call in time, or could not be reached: the request answers
/// `503` with `Retry-After`, and what the call left unfinished is finished or voided by
/// `resume()`, as after a crash.
struct StoreUnavailable: Error {
    /// What went wrong, for the log (never a URL or a statement's values).
    var reason: String
}

/// How long one database call may take, and what happens past it.
struct Deadline: Sendable {
    let duration: Duration

    /// The call's result; past the deadline it is cancelled and abandoned, never awaited, and
    /// ``StoreUnavailable`` is thrown; an unreachable PostgreSQL is ``StoreUnavailable`` too.
    func bound<Value: Sendable>(
        _ call: String,
        _ body: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        do {
            guard let value = try await withDeadline(duration, body) else {
                throw StoreUnavailable(reason: "the database did not answer \(call) within \(duration)")
            }
            return value
        } catch let error as StoreUnavailable {
            throw error
        } catch {
            guard let reason = Self.unavailable(error) else { throw error }
            throw StoreUnavailable(reason: reason)
        }
    }

    /// Why an error means the database is not there to write to right now — unreachable, gone
    /// mid-call, a read-only standby (what an entry point may reach during a failover), shutting
    /// down or starting up — or nil for any other error.
    static func unavailable(_ error: any Error) -> String? {
        if let error = error as? StoreUnavailable { return error.reason }
        if let reason = SQLiteBillingDatabase.unavailable(error) { return reason }
        if let error = error as? PostgresTransactionError {
            return [error.beginError, error.closureError, error.commitError].lazy.compactMap { $0 }
                .compactMap(unavailable).first
        }
        guard let error = error as? PSQLError else { return nil }
        if unreachable.contains(error.code) { return "the database could not be reached (\(error.code))" }
        // SQLSTATEs: https://www.postgresql.org/docs/current/errcodes-appendix.html
        switch error.serverInfo?[.sqlState] {
        case "25006"?: return "the database is read-only (a standby, not the primary)"
        case "57P01"?, "57P02"?: return "the database is shutting down"
        case "57P03"?: return "the database is starting up"
        case "53300"?: return "the database refuses new connections (too many clients)"
        case let state? where state.hasPrefix("08"): return "the database connection failed (SQLSTATE \(state))"
        default: return nil
        }
    }

    /// postgres-nio's codes for a server that is not there or went away mid-call.
    static let unreachable: Set<PSQLError.Code> = [
        .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .uncleanShutdown,
    ]
}

/// The store with a deadline on every call.
///
/// A database that hangs cannot hold a request or the renewal worker. A call past the deadline
/// is cancelled and abandoned, never awaited; if it still commits afterwards, its intent is
/// unfinished and `resume()` settles it, exactly as after a process killed between steps (the
/// exactly-once simulation injects exactly that).
struct DeadlineStore: SubscriptionStore {
    let base: any SubscriptionStore
    let deadline: Deadline

    func load(_ id: SubscriptionID) async throws -> StoredSubscription {
        try await deadline.bound("a load") { [base] in try await base.load(id) }
    }

    func insert(_ stored: StoredSubscription) async throws {
        try await deadline.bound("an insert") { [base] in try await base.insert(stored) }
    }

    func write(_ write: StoreWrite) async throws -> StoreWrite.Effect {
        try await deadline.bound("a write") { [base] in try await base.write(write) }
    }

    func intent(_ key: IdempotencyKey) async throws -> IntentRecord? {
        try await deadline.bound("an intent lookup") { [base] in try await base.intent(key) }
    }

    func unfinishedIntents(after: IdempotencyKey?, limit: Int) async throws -> [IntentRecord] {
        try await deadline.bound("a page of unfinished intents") { [base] in
            try await base.unfinishedIntents(after: after, limit: limit)
        }
    }

    func dueSubscriptions(at: Instant, after: DueSubscription?, limit: Int) async throws -> [DueSubscription] {
        try await deadline.bound("a page of due subscriptions") { [base] in
            try await base.dueSubscriptions(at: at, after: after, limit: limit)
        }
    }

    func charges(of id: SubscriptionID, periodStart: Instant, limit: Int) async throws -> [InvoiceLine] {
        try await deadline.bound("a period's charges") { [base] in
            try await base.charges(of: id, periodStart: periodStart, limit: limit)
        }
    }
}

/// The account directory with a deadline on every call but the migrations (a request's
/// authentication, ownership, document numbers and coupon counts).
struct DeadlineDirectory: AccountDirectory {
    let base: any AccountDirectory
    let deadline: Deadline

    func migrate() async throws { try await base.migrate() }

    func addToken(hash: String, grant: TokenGrant) async throws {
        try await deadline.bound("a new token") { [base] in try await base.addToken(hash: hash, grant: grant) }
    }

    func token(withHash hash: String) async throws -> (hash: String, grant: TokenGrant)? {
        try await deadline.bound("a token lookup") { [base] in try await base.token(withHash: hash) }
    }

    func revokeToken(id: String, of account: AccountID) async throws -> Bool {
        try await deadline.bound("a revocation") { [base] in try await base.revokeToken(id: id, of: account) }
    }

    func assign(_ subscription: SubscriptionID, to account: AccountID) async throws {
        try await deadline.bound("an assignment") { [base] in try await base.assign(subscription, to: account) }
    }

    func owner(of subscription: SubscriptionID) async throws -> AccountID? {
        try await deadline.bound("an owner lookup") { [base] in try await base.owner(of: subscription) }
    }

    func subscriptions(of account: AccountID) async throws -> [SubscriptionID] {
        try await deadline.bound("an account's subscriptions") { [base] in try await base.subscriptions(of: account) }
    }

    func documents(for key: IdempotencyKey) async throws -> [BillingDocument] {
        try await deadline.bound("a request's documents") { [base] in try await base.documents(for: key) }
    }

    func issueDocuments(
        _ drafts: [BillingDocument],
        for key: IdempotencyKey,
        account: AccountID,
        settling invoice: IdempotencyKey?
    ) async throws -> [BillingDocument] {
        try await deadline.bound("issuing documents") { [base] in
            try await base.issueDocuments(drafts, for: key, account: account, settling: invoice)
        }
    }

    func settlement(of invoice: IdempotencyKey) async throws -> IdempotencyKey? {
        try await deadline.bound("an invoice's settlement") { [base] in try await base.settlement(of: invoice) }
    }

    func reserveRedemption(
        of coupon: Coupon.Code,
        for key: IdempotencyKey,
        limit: Int64?
    ) async throws -> RedemptionReservation? {
        try await deadline.bound("a coupon reservation") { [base] in
            try await base.reserveRedemption(of: coupon, for: key, limit: limit)
        }
    }

    func releaseRedemption(of coupon: Coupon.Code, for key: IdempotencyKey) async throws {
        try await deadline.bound("a coupon release") { [base] in try await base.releaseRedemption(of: coupon, for: key)
        }
    }

    func confirmRedemption(of coupon: Coupon.Code, for key: IdempotencyKey) async throws {
        try await deadline.bound("a coupon confirmation") { [base] in
            try await base.confirmRedemption(of: coupon, for: key)
        }
    }

    func pendingRedemptions(
        olderThan seconds: Int64,
        limit: Int
    ) async throws -> [(coupon: Coupon.Code, key: IdempotencyKey)] {
        try await deadline.bound("the pending coupon reservations") { [base] in
            try await base.pendingRedemptions(olderThan: seconds, limit: limit)
        }
    }

    func redemptions(of coupon: Coupon.Code) async throws -> Int64 {
        try await deadline.bound("a coupon count") { [base] in try await base.redemptions(of: coupon) }
    }
}

/// The Stripe ledger with a deadline on every call but the migrations.
struct DeadlineLedger: StripeLedger {
    let base: any StripeLedger
    let deadline: Deadline

    func migrate() async throws { try await base.migrate() }

    func open(_ key: String, customer: String, paymentMethod: String) async throws -> StripeLedgerEntry {
        try await deadline.bound("a ledger entry") { [base] in
            try await base.open(key, customer: customer, paymentMethod: paymentMethod)
        }
    }

    func close(_ key: String) async throws -> StripeLedgerEntry {
        try await deadline.bound("a ledger close") { [base] in try await base.close(key) }
    }

    func attach(_ paymentIntent: String, to key: String) async throws {
        try await deadline.bound("a ledger attach") { [base] in try await base.attach(paymentIntent, to: key) }
    }

    func entry(_ key: String) async throws -> StripeLedgerEntry? {
        try await deadline.bound("a ledger lookup") { [base] in try await base.entry(key) }
    }

    func markHandled(event id: String) async throws -> Bool {
        try await deadline.bound("an event record") { [base] in try await base.markHandled(event: id) }
    }

    func wasHandled(event id: String) async throws -> Bool {
        try await deadline.bound("an event lookup") { [base] in try await base.wasHandled(event: id) }
    }
}

/// A ``CreditPoolStore`` whose every call has a deadline.
struct DeadlinePools: CreditPoolStore {
    let base: any CreditPoolStore
    let deadline: Deadline

    func pool(of organization: String) async throws -> (pool: CreditPool, version: Int64)? {
        try await deadline.bound("a credit pool") { [base] in try await base.pool(of: organization) }
    }

    func receipt(_ key: IdempotencyKey) async throws -> CreditPool.Receipt? {
        try await deadline.bound("a pool request") { [base] in try await base.receipt(key) }
    }

    func write(_ receipt: CreditPool.Receipt, expectedVersion: Int64) async throws -> CreditPool.Receipt? {
        try await deadline.bound("a pool write") { [base] in
            try await base.write(receipt, expectedVersion: expectedVersion)
        }
    }
}
