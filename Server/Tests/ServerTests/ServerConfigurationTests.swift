import AddonBillingServer
import XCTest

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
}
