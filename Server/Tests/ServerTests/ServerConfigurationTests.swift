import XCTest

@testable import AddonBillingServer

/// The settings' own rules.
final class ServerConfigurationTests: XCTestCase {
    /// The loopback exception for Stripe's origin is judged on the parsed host: a look-alike
    /// host or a user name in front of another host is refused, so the key stays on the machine.
    func testStripesOriginIsHTTPSOrTheLoopbackByItsParsedHost() throws {
        for accepted in [
            "https://api.stripe.com", "https://stripe.internal:8443", "http://127.0.0.1:12111", "http://localhost:8080",
            "http://[::1]:9000", "HTTP://LOCALHOST",
        ] {
            XCTAssertNoThrow(
                try ServerConfiguration(environment: ["ADDON_BILLING_STRIPE_API_BASE": accepted]),
                accepted
            )
        }
        for refused in [
            "http://127.0.0.1.attacker.example", "http://localhost@attacker.example",
            "http://localhost.attacker.example",
            "http://127.0.0.1:80@attacker.example", "http://api.stripe.com", "ftp://127.0.0.1", "https://", "127.0.0.1",
            "https://user:secret@api.stripe.com", "https://api.stripe.com/v1?x=1",
        ] {
            XCTAssertThrowsError(
                try ServerConfiguration(environment: ["ADDON_BILLING_STRIPE_API_BASE": refused]),
                refused
            )
        }
    }

    /// The server speaks plain HTTP: beyond the loopback it starts only when the operator says a
    /// TLS-terminating proxy is in front (`ADDON_BILLING_ALLOW_PLAINTEXT=1`), and says why not.
    func testAnAddressBeyondTheLoopbackNeedsThePlaintextConsent() throws {
        for loopback in ["127.0.0.1", "localhost", "::1"] {
            XCTAssertNoThrow(try ServerConfiguration(environment: ["ADDON_BILLING_HOST": loopback]), loopback)
        }
        for exposed in ["0.0.0.0", "10.0.0.5", "::", "billing.example.com"] {
            XCTAssertThrowsError(try ServerConfiguration(environment: ["ADDON_BILLING_HOST": exposed]), exposed) {
                XCTAssertTrue("\($0)".contains("TLS-terminating proxy"), "\($0)")
            }
            let allowed = try ServerConfiguration(environment: [
                "ADDON_BILLING_HOST": exposed, "ADDON_BILLING_ALLOW_PLAINTEXT": "1",
            ])
            XCTAssertEqual(allowed.host, exposed)
        }
        XCTAssertThrowsError(try ServerConfiguration(environment: ["ADDON_BILLING_ALLOW_PLAINTEXT": "yes"]))
        XCTAssertThrowsError(try ServerConfiguration(environment: ["ADDON_BILLING_IDLE_TIMEOUT_SECONDS": "0"]))
        XCTAssertThrowsError(try ServerConfiguration(environment: ["ADDON_BILLING_TOKEN_WRITES_PER_SECOND": "0"]))
    }

    /// A token's bucket allows its burst, refuses with the wait until a slot frees (taking
    /// nothing), and refills with time; the account's bucket bounds its tokens together.
    func testTheWriteLimiterAllowsTheRateRefusesPastItAndRefills() {
        let limiter = WriteLimiter(tokenRate: 2, accountRate: 3)
        let start = ContinuousClock.now
        XCTAssertNil(limiter.admit(token: "a", account: "x", at: start))
        XCTAssertNil(limiter.admit(token: "a", account: "x", at: start))
        XCTAssertEqual(limiter.admit(token: "a", account: "x", at: start), 1)
        XCTAssertNil(limiter.admit(token: "b", account: "x", at: start), "another token has its own bucket")
        XCTAssertEqual(limiter.admit(token: "c", account: "x", at: start), 1, "the account's three are used")
        XCTAssertNil(limiter.admit(token: "d", account: "y", at: start), "another account is not held back")
        // Half a second gives token "a" one slot back (2 a second) and the account 1.5.
        XCTAssertNil(limiter.admit(token: "a", account: "x", at: start + .milliseconds(500)))
        XCTAssertEqual(limiter.admit(token: "a", account: "x", at: start + .milliseconds(500)), 1)
        XCTAssertNil(limiter.admit(token: "a", account: "x", at: start + .seconds(10)))
    }

    /// However many tokens write, the limiter keeps at most its bound of buckets.
    func testTheWriteLimiterKeepsABoundedNumberOfBuckets() {
        let limiter = WriteLimiter(tokenRate: 1, accountRate: 1)
        let start = ContinuousClock.now
        for index in 0..<(WriteLimiter.maximumBuckets + 10) {
            _ = limiter.admit(token: "t\(index)", account: "a\(index)", at: start)
        }
        XCTAssertLessThanOrEqual(limiter.bucketCount, WriteLimiter.maximumBuckets + 2)
        // Still deciding: a new token of a new account is allowed once.
        XCTAssertNil(limiter.admit(token: "new", account: "new", at: start + .seconds(2)))
        XCTAssertEqual(limiter.admit(token: "new", account: "new", at: start + .seconds(2)), 1)
    }
}
