public import AddonBilling
import Crypto
import Foundation
import HTTPTypes
public import Hummingbird
public import Prometheus

/// The server's business counters, in a Prometheus registry served at `GET /metrics`.
///
/// | Counter | Labels | Counts |
/// | --- | --- | --- |
/// | `addon_billing_charges_total` | `outcome`: `captured`, `pending`, `declined`, `unknown`, `stale_reference`, `unavailable` (payments paused: the provider refused the server's key) | the payment provider's answers to charges (a retry under the same key is counted again) |
/// | `addon_billing_renewals_total` | `outcome`: `completed`, `pending`, `declined` (dunning begins), `failed` (stays due) | renewals the worker ran |
/// | `addon_billing_dunning_transitions_total` | `to`: `past_due`, `unpaid`, `canceled`, `active` | subscriptions entering, moving through or leaving dunning |
/// | `addon_billing_idempotent_replays_total` | | mutations arriving under an `Idempotency-Key` already used: answered with the first result, or refused when the request differs |
/// | `addon_billing_webhook_events_total` | `outcome`: `applied`, `replayed`, `ignored`, `refused` | Stripe events received |
///
/// The executable also bootstraps swift-metrics with this registry, so Hummingbird's
/// per-route request counters and durations appear beside these.
public struct BillingMetrics: Sendable {
    /// The registry the counters live in.
    public let registry: PrometheusCollectorRegistry
    /// The bearer token `GET /metrics` requires; nil leaves the route out.
    let token: ServerSecret?

    /// Counters in `registry`; `GET /metrics` is served only with a `token`, which the
    /// scraper sends as `Authorization: Bearer <token>`.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), token: ServerSecret? = nil) {
        self.registry = registry
        self.token = token
    }

    func charge(_ outcome: String) { count("addon_billing_charges_total", "outcome", outcome) }
    func renewal(_ outcome: String) { count("addon_billing_renewals_total", "outcome", outcome) }
    func dunning(to status: SubscriptionStatus) {
        count("addon_billing_dunning_transitions_total", "to", status.rawValue)
    }
    func replay() { registry.makeCounter(name: "addon_billing_idempotent_replays_total").increment() }
    func webhook(_ outcome: String) { count("addon_billing_webhook_events_total", "outcome", outcome) }

    private func count(_ name: String, _ label: String, _ value: String) {
        // The registry hands back the same counter for the same name and labels.
        registry.makeCounter(name: name, labels: [(label, value)]).increment()
    }

    /// Adds `GET /metrics` (Prometheus' text format) when a token is configured.
    func addRoute(to router: Router<BillingRequestContext>) {
        guard let token else { return }
        let expected = Array(SHA256.hash(data: Data(token.value.utf8)))
        router.get("metrics") { request, _ in
            // Digests of equal length, compared in constant time.
            guard let presented = bearerToken(request.headers[.authorization]),
                AccessToken.constantTimeEquals(Array(SHA256.hash(data: Data(presented.utf8))), expected)
            else { throw APIError.unauthenticated }
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer()))
            )
        }
    }
}

/// A payment gateway whose answers are counted.
struct MeteredPaymentGateway: PaymentGateway {
    let base: any PaymentGateway
    let metrics: BillingMetrics

    func charge(_ request: ChargeRequest) async throws -> ChargeResult {
        do {
            let result = try await base.charge(request)
            metrics.charge(result.status == .captured ? "captured" : result.status == .pending ? "pending" : "declined")
            return result
        } catch let error as BillingError {
            switch error.code {
            case .paymentDeclined: metrics.charge("declined")
            case .paymentOutcomeUnknown: metrics.charge("unknown")
            case .staleProviderReference: metrics.charge("stale_reference")
            case .paymentsUnavailable: metrics.charge("unavailable")
            default: break
            }
            throw error
        }
    }

    func lookUpCharge(_ key: IdempotencyKey) async throws -> ChargeResult? { try await base.lookUpCharge(key) }
    func minimumCharge(in currency: Currency) -> Money? { base.minimumCharge(in: currency) }
    func cancelCharge(_ key: IdempotencyKey) async throws -> ChargeResult? { try await base.cancelCharge(key) }
}
