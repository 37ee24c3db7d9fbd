import AddonBilling
import AddonBillingSQLite
import AddonBillingServer
import Foundation
import XCTest

/// Token grants are cached for a bounded time: a revoke in this process is immediate, one made
/// elsewhere takes effect within the bound.
final class GrantCacheTests: XCTestCase {
    func testARevokedTokenStopsAtOnceHereAndWithinTheBoundElsewhere() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("grants-\(UUID()).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let database = try SQLiteBillingDatabase(path: path)
        // Another process's view of the same file: the `token revoke` command, another server.
        let elsewhere = SQLiteAccountDirectory(database: try SQLiteBillingDatabase(path: path))
        let cache = GrantCachingDirectory(SQLiteAccountDirectory(database: database), maximumAge: .milliseconds(300))
        let account = try AccountID("acme")
        let owner = BillingActor(id: "owner", role: .owner)

        let (first, grant) = try await cache.createToken(for: account, actor: owner)
        var found = try await cache.authenticate(first)
        XCTAssertEqual(found, grant)
        // Revoked through this directory: refused at once.
        let revoked = try await cache.revokeToken(id: grant.id, of: account)
        XCTAssertTrue(revoked)
        found = try await cache.authenticate(first)
        XCTAssertNil(found, "a token revoked in this process still worked")

        // Revoked elsewhere: the cached grant works until the bound, and never after it.
        let (second, other) = try await cache.createToken(for: account, actor: owner)
        found = try await cache.authenticate(second)
        XCTAssertEqual(found, other)
        _ = try await elsewhere.revokeToken(id: other.id, of: account)
        found = try await cache.authenticate(second)
        XCTAssertEqual(found, other, "within the bound the cached grant answers")
        try await Task.sleep(for: .milliseconds(400))
        found = try await cache.authenticate(second)
        XCTAssertNil(found, "a token revoked elsewhere still worked past the bound")

        // A token created elsewhere works at once: unknown tokens are not remembered.
        let missing = try await cache.authenticate(AccessToken.prefix + String(repeating: "x", count: 43))
        XCTAssertNil(missing)
        let (third, created) = try await elsewhere.createToken(for: account, actor: owner)
        found = try await cache.authenticate(third)
        XCTAssertEqual(found, created)
    }
}
