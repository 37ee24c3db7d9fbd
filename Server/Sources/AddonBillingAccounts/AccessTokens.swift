public import AddonBilling
import Crypto
import Foundation
import Synchronization

/// An account of the billing server: a customer organization that owns subscriptions.
public struct AccountID: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The identifier: 1–64 letters, digits, `_` or `-`.
    public let rawValue: String

    /// The most bytes an account identifier may have, so that scoped idempotency keys fit.
    public static let maximumLength = 64

    /// An account identifier, checked.
    ///
    /// - Throws: ``BillingError/Code/invalidOption`` for an empty, long or unusual identifier.
    public init(_ rawValue: String) throws(BillingError) {
        guard !rawValue.isEmpty, rawValue.utf8.count <= Self.maximumLength,
            rawValue.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || isAlphanumeric($0) })
        else {
            throw BillingError(
                code: .invalidOption,
                message: "An account identifier has 1 to 64 letters, digits, underscores or hyphens."
            )
        }
        self.rawValue = rawValue
    }

    /// The identifier.
    public var description: String { rawValue }
}

private func isAlphanumeric(_ byte: UInt8) -> Bool {
    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
        || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
}

/// What a bearer token lets its holder do: act for one actor of one account.
public struct TokenGrant: Sendable, Hashable, Codable {
    /// The token's public identifier (`tok_…`), shown in listings and used to revoke it.
    public var id: String
    /// The account whose subscriptions the token reaches; every other account's are not found.
    public var account: AccountID
    /// The person or system the token acts as, with its role and permissions.
    public var actor: BillingActor
}

/// Bearer tokens: `abs_` followed by 43 characters of base64url (32 random bytes).
///
/// Only the SHA-256 of a token is stored, and a presented token is hashed and looked up by its
/// hash. The lookup's timing can tell an attacker at most something about the digest of a guess,
/// never about a stored token: with 256 random bits in a token and a one-way hash, learning
/// which digests are near a stored one gives no way to build a token that hashes to it (the
/// reasoning behind GitHub's and Stripe's hashed-token lookups). The plain token exists only in
/// the response that created it.
public enum AccessToken {
    /// The prefix of every token, so that secret scanners recognize a leaked one.
    public static let prefix = "abs_"

    /// A new random token and its public identifier.
    public static func generate() -> (token: String, id: String) {
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let identifier = (0..<8).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return (prefix + base64URL(secret), "tok_" + identifier.lowercaseHex)
    }

    /// The stored form: the lowercase hex SHA-256 of the token's UTF-8 bytes.
    public static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).lowercaseHex
    }

    /// Whether two byte strings are equal, in time that depends only on their lengths (for comparing a
    /// presented secret with a configured one, such as the metrics token).
    public static func constantTimeEquals(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for (left, right) in zip(lhs, rhs) { difference |= left ^ right }
        return difference == 0
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}

/// Where the server keeps its tokens and which account owns which subscription.
///
/// The SQLite and PostgreSQL implementations keep them beside the subscriptions, in
/// tables `api_tokens` (`id`, `token_hash`, `account`, `actor`, `revoked_at`) and
/// `account_subscriptions` (`account`, `subscription_id`).
public protocol AccountDirectory: Sendable {
    /// Creates the directory's tables when they do not exist.
    func migrate() async throws

    /// Stores a token's hash with its grant.
    func addToken(hash: String, grant: TokenGrant) async throws

    /// The stored hash and grant of the live (not revoked) token with this hash.
    func token(withHash hash: String) async throws -> (hash: String, grant: TokenGrant)?

    /// Revokes a token of an account; false when the account has no such live token.
    func revokeToken(id: String, of account: AccountID) async throws -> Bool

    /// Records that an account owns a subscription.
    func assign(_ subscription: SubscriptionID, to account: AccountID) async throws

    /// The account that owns a subscription, or nil.
    func owner(of subscription: SubscriptionID) async throws -> AccountID?

    /// The subscriptions an account owns, in identifier order.
    func subscriptions(of account: AccountID) async throws -> [SubscriptionID]

    /// The documents issued for the request `key`, exactly as issued, in number order.
    func documents(for key: IdempotencyKey) async throws -> [BillingDocument]

    /// Issues a request's documents once: numbers `drafts` in order with the account's next
    /// numbers (gap-free, unique per `(account, number)` and `(key, kind)`) and stores them, with
    /// the invoice the request pays, in one transaction.
    ///
    /// - Returns: The documents just numbered, or — when `key` has documents already — those.
    func issueDocuments(
        _ drafts: [BillingDocument],
        for key: IdempotencyKey,
        account: AccountID,
        settling invoice: IdempotencyKey?
    ) async throws -> [BillingDocument]

    /// The request whose receipt paid the invoice issued for the request `invoice`, if one did.
    func settlement(of invoice: IdempotencyKey) async throws -> IdempotencyKey?

    /// Reserves one redemption of `coupon` for the request `key`, atomically against `limit`.
    ///
    /// - Returns: How many redemptions came before this one (the same answer for the same key every
    ///   time) and whether this call made the reservation (false when the key held it already), or
    ///   nil when the coupon has been redeemed `limit` times.
    func reserveRedemption(
        of coupon: Coupon.Code,
        for key: IdempotencyKey,
        limit: Int64?
    ) async throws -> RedemptionReservation?

    /// Returns a reservation whose request was refused, so that it does not count.
    func releaseRedemption(of coupon: Coupon.Code, for key: IdempotencyKey) async throws

    /// Marks a reservation as counting for good: its request completed.
    func confirmRedemption(of coupon: Coupon.Code, for key: IdempotencyKey) async throws

    /// Reservations still waiting for their request, made at least `seconds` ago (by the
    /// database's clock), oldest first, at most `limit`: what a crash may have left behind.
    func pendingRedemptions(
        olderThan seconds: Int64,
        limit: Int
    ) async throws -> [(coupon: Coupon.Code, key: IdempotencyKey)]

    /// How many times `coupon` has been redeemed (reservations included), for quotes.
    func redemptions(of coupon: Coupon.Code) async throws -> Int64
}

/// A redemption of a coupon held for one request.
public struct RedemptionReservation: Sendable, Hashable {
    /// How many redemptions of the coupon came before this one.
    public var before: Int64
    /// Whether the call that answered made the reservation; false when the request's key held it
    /// already (a retry), so that only the call that made it may give it back.
    public var isNew: Bool

    /// A reservation after `before` others, made by this call or not.
    public init(before: Int64, isNew: Bool) {
        self.before = before
        self.isNew = isNew
    }
}

extension AccountDirectory {
    /// Creates a token for an actor of an account and returns it once, in plain text.
    public func createToken(
        for account: AccountID,
        actor: BillingActor
    ) async throws -> (token: String, grant: TokenGrant) {
        let (token, id) = AccessToken.generate()
        let grant = TokenGrant(id: id, account: account, actor: actor)
        try await addToken(hash: AccessToken.hash(token), grant: grant)
        return (token, grant)
    }

    /// The grant of a presented token, found by the token's SHA-256 (see ``AccessToken``).
    public func authenticate(_ token: String) async throws -> TokenGrant? {
        guard token.hasPrefix(AccessToken.prefix), token.utf8.count <= 128 else { return nil }
        return try await self.token(withHash: AccessToken.hash(token))?.grant
    }
}

extension Sequence<UInt8> {
    /// The bytes as lowercase hexadecimal.
    package var lowercaseHex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// The document archive in the account directory: numbers gap-free per account (`acme-000001`,
/// …), every request's documents stored as issued.
public struct DirectoryDocumentArchive: DocumentArchive {
    /// The directory that owns the accounts' sequences and documents.
    public let directory: any AccountDirectory

    /// An archive over `directory`.
    public init(directory: any AccountDirectory) { self.directory = directory }

    public func documents(for key: IdempotencyKey) async throws -> [BillingDocument] {
        try await directory.documents(for: key)
    }

    public func issue(
        _ drafts: [BillingDocument],
        for key: IdempotencyKey,
        subscription: SubscriptionID,
        settling invoice: IdempotencyKey?
    ) async throws -> [BillingDocument] {
        guard let account = try await directory.owner(of: subscription) else {
            throw BillingError(
                code: .subscriptionNotFound,
                message: "No account owns subscription \"\(subscription)\"."
            )
        }
        return try await directory.issueDocuments(drafts, for: key, account: account, settling: invoice)
    }

    public func settlement(of invoice: IdempotencyKey) async throws -> IdempotencyKey? {
        try await directory.settlement(of: invoice)
    }
}

/// An ``AccountDirectory`` that remembers the grants of the tokens it looked up, so that a request
/// costs no database read to authenticate.
///
/// A grant is reused for at most ``maximumAge`` (5 seconds by default): a token revoked by
/// another process (the `token revoke` command, another server) still works for at most that
/// long here; one revoked through this directory stops at once. At most ``capacity`` grants are
/// kept; past it the cache starts over. A token that was not found is not remembered, so a
/// token created meanwhile works at once.
public final class GrantCachingDirectory: AccountDirectory {
    private struct Entry {
        var grant: (hash: String, grant: TokenGrant)
        var fetched: ContinuousClock.Instant
    }

    /// The directory the grants come from.
    public let base: any AccountDirectory
    /// How long a grant is reused.
    public let maximumAge: Duration
    /// The most grants kept.
    public let capacity: Int
    private let entries = Mutex<[String: Entry]>([:])

    /// A cache over `base`.
    public init(_ base: any AccountDirectory, maximumAge: Duration = .seconds(5), capacity: Int = 10_000) {
        self.base = base
        self.maximumAge = maximumAge
        self.capacity = capacity
    }

    public func token(withHash hash: String) async throws -> (hash: String, grant: TokenGrant)? {
        let now = ContinuousClock.now
        if let entry = entries.withLock({ $0[hash] }), entry.fetched.duration(to: now) < maximumAge {
            return entry.grant
        }
        guard let found = try await base.token(withHash: hash) else {
            entries.withLock { _ = $0.removeValue(forKey: hash) }
            return nil
        }
        entries.withLock {
            if $0.count >= capacity { $0.removeAll(keepingCapacity: true) }
            $0[hash] = Entry(grant: found, fetched: now)
        }
        return found
    }

    public func revokeToken(id: String, of account: AccountID) async throws -> Bool {
        let revoked = try await base.revokeToken(id: id, of: account)
        entries.withLock { $0 = $0.filter { $0.value.grant.grant.id != id } }
        return revoked
    }

    public func migrate() async throws { try await base.migrate() }
    public func addToken(hash: String, grant: TokenGrant) async throws {
        try await base.addToken(hash: hash, grant: grant)
    }
    public func assign(_ subscription: SubscriptionID, to account: AccountID) async throws {
        try await base.assign(subscription, to: account)
    }
    public func owner(of subscription: SubscriptionID) async throws -> AccountID? {
        try await base.owner(of: subscription)
    }
    public func subscriptions(of account: AccountID) async throws -> [SubscriptionID] {
        try await base.subscriptions(of: account)
    }
    public func documents(for key: IdempotencyKey) async throws -> [BillingDocument] {
        try await base.documents(for: key)
    }
    public func issueDocuments(
        _ drafts: [BillingDocument],
        for key: IdempotencyKey,
        account: AccountID,
        settling invoice: IdempotencyKey?
    ) async throws -> [BillingDocument] {
        try await base.issueDocuments(drafts, for: key, account: account, settling: invoice)
    }
    public func settlement(of invoice: IdempotencyKey) async throws -> IdempotencyKey? {
        try await base.settlement(of: invoice)
    }
    public func reserveRedemption(
        of coupon: Coupon.Code,
        for key: IdempotencyKey,
        limit: Int64?
    ) async throws -> RedemptionReservation? {
        try await base.reserveRedemption(of: coupon, for: key, limit: limit)
    }
    public func releaseRedemption(of coupon: Coupon.Code, for key: IdempotencyKey) async throws {
        try await base.releaseRedemption(of: coupon, for: key)
    }
    public func confirmRedemption(of coupon: Coupon.Code, for key: IdempotencyKey) async throws {
        try await base.confirmRedemption(of: coupon, for: key)
    }
    public func pendingRedemptions(
        olderThan seconds: Int64,
        limit: Int
    ) async throws -> [(coupon: Coupon.Code, key: IdempotencyKey)] {
        try await base.pendingRedemptions(olderThan: seconds, limit: limit)
    }
    public func redemptions(of coupon: Coupon.Code) async throws -> Int64 { try await base.redemptions(of: coupon) }
}
