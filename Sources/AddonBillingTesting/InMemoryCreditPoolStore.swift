public import AddonBilling

/// Credit pools in memory, for tests and the demo: an actor, so each write is one step.
public actor InMemoryCreditPoolStore: CreditPoolStore {
    private var pools: [String: (pool: CreditPool, version: Int64)] = [:]
    private var receipts: [IdempotencyKey: CreditPool.Receipt] = [:]

    /// An empty store.
    public init() {}

    public func pool(of organization: String) -> (pool: CreditPool, version: Int64)? { pools[organization] }

    public func receipt(_ key: IdempotencyKey) -> CreditPool.Receipt? { receipts[key] }

    public func write(_ receipt: CreditPool.Receipt, expectedVersion: Int64) throws -> CreditPool.Receipt? {
        if let done = receipts[receipt.key] { return done }
        let version = pools[receipt.organization]?.version ?? 0
        guard version == expectedVersion else {
            throw BillingError.versionConflict("pool version \(version), expected \(expectedVersion)")
        }
        pools[receipt.organization] = (receipt.pool, version + 1)
        receipts[receipt.key] = receipt
        return nil
    }
}

/// Checks that a ``CreditPoolStore`` keeps the promises the protocol lists.
///
/// ```swift
/// let failures = await CreditPoolStoreConformance.check { MyPoolStore(...) }
/// XCTAssertEqual(failures, [])
/// ```
///
/// Each check gets a fresh store and uses organizations and keys that start with `conf`.
public enum CreditPoolStoreConformance {
    /// Runs every check; returns a sentence per broken promise (empty when all hold).
    public static func check(_ makeStore: @Sendable () async throws -> any CreditPoolStore) async -> [String] {
        let checks: [(String, @Sendable (any CreditPoolStore) async throws -> String?)] = [
            ("write and read", writeAndRead),
            ("a key is one request", oneRequestPerKey),
            ("versioned writes", versionedWrites),
            ("concurrent writes", concurrentWrites),
        ]
        var failures: [String] = []
        for (name, check) in checks {
            do {
                if let failure = try await check(try await makeStore()) { failures.append("\(name): \(failure)") }
            } catch {
                failures.append("\(name): threw \(error)")
            }
        }
        return failures
    }

    private static func receipt(
        _ key: String,
        _ pool: CreditPool,
        kind: CreditPool.Request.Kind = .create
    ) -> CreditPool.Receipt {
        CreditPool.Receipt(
            key: IdempotencyKey(key),
            organization: pool.organization,
            request: CreditPool.Request(kind: kind, tier: pool.tier, member: nil, credits: nil),
            pool: pool
        )
    }

    private static func joined(_ organization: String, _ member: String) throws -> CreditPool {
        try CreditPool(organization: organization, tier: .pro).joining(member, tier: .pro, credits: 500)
    }

    private static let writeAndRead: @Sendable (any CreditPoolStore) async throws -> String? = { store in
        guard try await store.pool(of: "conf_acme") == nil else { return "an unknown organization had a pool" }
        let created = receipt("conf-create", CreditPool(organization: "conf_acme", tier: .pro))
        guard try await store.write(created, expectedVersion: 0) == nil else { return "a first write was a replay" }
        guard let stored = try await store.pool(of: "conf_acme"), stored.pool == created.pool, stored.version == 1
        else {
            return "the pool did not read back at version 1"
        }
        guard try await store.receipt("conf-create") == created else { return "the receipt did not read back" }
        let ana = receipt("conf-ana", try joined("conf_acme", "ana"), kind: .join)
        guard try await store.write(ana, expectedVersion: 1) == nil,
            let after = try await store.pool(of: "conf_acme"), after.pool == ana.pool, after.version == 2
        else { return "a second write did not read back at version 2" }
        guard try await store.pool(of: "conf_other") == nil else { return "another organization saw the pool" }
        return nil
    }

    private static let oneRequestPerKey: @Sendable (any CreditPoolStore) async throws -> String? = { store in
        let created = receipt("conf-once", CreditPool(organization: "conf_acme", tier: .pro))
        _ = try await store.write(created, expectedVersion: 0)
        let other = receipt("conf-once", try joined("conf_acme", "ana"), kind: .join)
        guard try await store.write(other, expectedVersion: 1) == created else {
            return "a key's second write did not return its first receipt"
        }
        guard let stored = try await store.pool(of: "conf_acme"), stored.version == 1, stored.pool == created.pool
        else {
            return "a key's second write changed the pool"
        }
        return nil
    }

    private static let versionedWrites: @Sendable (any CreditPoolStore) async throws -> String? = { store in
        _ = try await store.write(
            receipt("conf-v1", CreditPool(organization: "conf_acme", tier: .pro)),
            expectedVersion: 0
        )
        for expected: Int64 in [0, 2, 7] {
            do {
                _ = try await store.write(
                    receipt("conf-v\(expected)x", try joined("conf_acme", "ana")),
                    expectedVersion: expected
                )
                return "a write over version \(expected) succeeded at version 1"
            } catch let error as BillingError where error.code == .versionConflict {}
        }
        guard try await store.receipt("conf-v0x") == nil else { return "a refused write kept its receipt" }
        return try await store.pool(of: "conf_acme")?.version == 1 ? nil : "a refused write moved the version"
    }

    private static let concurrentWrites: @Sendable (any CreditPoolStore) async throws -> String? = { store in
        _ = try await store.write(
            receipt("conf-c", CreditPool(organization: "conf_acme", tier: .pro)),
            expectedVersion: 0
        )
        let written = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<10 {
                group.addTask {
                    do {
                        let next = receipt("conf-c\(index)", try joined("conf_acme", "member\(index)"), kind: .join)
                        return try await store.write(next, expectedVersion: 1) == nil
                    } catch let error as BillingError where error.code == .versionConflict {
                        return false
                    }
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        guard written == 1 else { return "\(written) of 10 concurrent writes over one version succeeded" }
        return try await store.pool(of: "conf_acme")?.version == 2 ? nil : "the version did not advance once"
    }
}
