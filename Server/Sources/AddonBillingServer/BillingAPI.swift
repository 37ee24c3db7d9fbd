public import AddonBilling
import AddonBillingJSON
import AddonBillingStoreSupport
import Foundation
import HTTPTypes
public import Hummingbird
import Logging
import NIOCore

/// The request context: Hummingbird's, plus the grant of the caller's token, and the server's
/// codecs — request bodies decoded within the body and JSON limits, responses written by
/// ``FastJSON``.
public struct BillingRequestContext: RequestContext {
    /// Hummingbird's storage.
    public var coreContext: CoreRequestContextStorage
    /// Who is calling, once the bearer token was checked.
    var grant: TokenGrant?
    /// The largest request body accepted; the API sets it from its configuration.
    public var maxUploadSize: Int

    /// A context for a request arriving at the server.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.grant = nil
        self.maxUploadSize = ServerConfiguration().maximumBodyBytes
    }

    /// Decodes request bodies within ``maxUploadSize`` and the wire module's JSON limits.
    public var requestDecoder: BillingRequestDecoder { BillingRequestDecoder() }
    /// Writes responses with ``FastJSON``.
    public var responseEncoder: BillingResponseEncoder { BillingResponseEncoder() }
}

/// The request decoder of every route: the body refused with `bodyTooLarge` (413) past the
/// context's `maxUploadSize` — from `Content-Length` before anything is read, else once the limit
/// is crossed — then decoded by the wire module's `JSONRequestLimits.decode`, as the command line
/// decodes: anything unreadable is `malformedRequest` naming the field, a value that breaks a rule
/// is that rule's refusal.
public struct BillingRequestDecoder: RequestDecoder {
    /// Decodes a body of `type`.
    public func decode<T: Decodable>(
        _ type: T.Type,
        from request: Request,
        context: some RequestContext
    ) async throws
        -> T
    {
        let data = try await BillingAPI.body(of: request, limit: context.maxUploadSize)
        // The command line's decoding too: a negative usage is `invalidQuantity` on both.
        return try JSONRequestLimits.decode(T.self, from: data)
    }
}

/// The response encoder of every route: ``FastJSON`` (sorted keys, one pass), `application/json`.
public struct BillingResponseEncoder: ResponseEncoder {
    /// A `200 OK` response with `value`'s JSON.
    public func encode(_ value: some Encodable, from request: Request, context: some RequestContext) throws -> Response
    {
        try Self.response(value)
    }

    static func response(_ value: some Encodable) throws -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: try FastJSON.encode(value)))
        )
    }
}

/// The HTTP API over an ``AddonService``: every route, its authentication and its errors.
///
/// Routes live under `/v1`, take and return the core's documented JSON shapes, and
/// require `Authorization: Bearer <token>`. A token reaches its own account's
/// subscriptions only; another account's are "not found", exactly as missing ones are.
/// Requests that change something require an `Idempotency-Key` header (Stripe's
/// convention), scoped to the account: the same key from two accounts is two requests.
public struct BillingAPI: Sendable {
    /// The exactly-once service over every account's subscriptions (the webhook's and the worker's).
    public let service: AddonService
    /// The same service seeing one account's subscriptions only: every request is served by its
    /// account's, so that authorizing and loading a subscription is one read.
    public let scoped: @Sendable (AccountID) -> AddonService
    /// Tokens and subscription ownership.
    public let directory: any AccountDirectory
    /// The plans the server sells, by identifier.
    public let catalog: [PlanID: Plan]
    /// The coupons customers may redeem, by code.
    public let coupons: [Coupon.Code: Coupon]
    /// The largest request body accepted.
    public let maximumBodyBytes: Int
    /// The business counters.
    public let metrics: BillingMetrics
    /// Bounds each token's and each account's writes (429 past them).
    let limiter: WriteLimiter
    /// Whether requests check ownership in the directory (no scoped stores).
    let ownershipChecked: Bool
    /// The Stripe gateway, when charges go to Stripe: customers are created there for an account
    /// and a link is accepted only for the account's own.
    var stripe: StripePaymentGateway?
    /// The state of the request recorded under a key, if any (the store's), for giving back a coupon
    /// reservation whose request will never complete.
    var intentState: @Sendable (IdempotencyKey) async throws -> IntentRecord.State? = { _ in nil }
    /// Why the server is not ready for requests, or nil when it is (`GET /health/ready`).
    var readiness: @Sendable () async -> String? = { nil }
    /// Where the API reports what it cannot answer for, such as a receipt it could not issue.
    let logger = Logger(label: "addon-billing.api")

    /// An API over a service, a directory and a catalog of plans.
    ///
    /// - Parameters:
    ///   - service: The service over every account's subscriptions.
    ///   - scoped: The service whose store sees only the given account's subscriptions; nil serves
    ///     every account with `service`, checking ownership in the directory first.
    ///   - directory: Tokens, accounts, document numbers and coupon redemptions.
    ///   - plans: The plans the server sells.
    ///   - coupons: The coupons customers may redeem.
    ///   - maximumBodyBytes: The largest request body accepted.
    ///   - metrics: The business counters.
    ///   - writesPerSecond: Writes one token may make per second, and one account's tokens together.
    public init(
        service: AddonService,
        scoped: (@Sendable (AccountID) -> AddonService)? = nil,
        directory: any AccountDirectory,
        plans: [Plan],
        coupons: [Coupon] = [],
        maximumBodyBytes: Int,
        metrics: BillingMetrics = BillingMetrics(),
        writesPerSecond: (token: Int, account: Int) = (25, 100)
    ) {
        self.limiter = WriteLimiter(tokenRate: writesPerSecond.token, accountRate: writesPerSecond.account)
        self.coupons = Dictionary(coupons.map { ($0.code, $0) }, uniquingKeysWith: { first, _ in first })
        self.service = service
        self.scoped = scoped ?? { _ in service }
        self.ownershipChecked = scoped == nil
        self.directory = directory
        self.catalog = Dictionary(plans.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.maximumBodyBytes = maximumBodyBytes
        self.metrics = metrics
    }

    /// The router with every route.
    public func router() -> Router<BillingRequestContext> {
        // Every GET answers HEAD too: the same status and headers, no body (RFC 9110, section 9.3.2).
        let router = Router(context: BillingRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: HeadMiddleware())
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ErrorMiddleware())
        // Liveness (the process answers) and readiness (the database answers, migrations are
        // applied, not shutting down), as load balancers and Kubernetes probes use them; `/health`
        // is liveness, as before (Server/README.md, "Health checks").
        router.get("/health") { _, _ in Response(status: .ok) }
        router.get("/health/live") { _, _ in Response(status: .ok) }
        router.get("/health/ready") { _, _ in
            guard let reason = await self.readiness() else { return Response(status: .ok) }
            return Response(
                status: .serviceUnavailable,
                headers: [.contentType: "application/json", .retryAfter: "5"],
                body: .init(
                    byteBuffer: ByteBuffer(bytes: APIError.body(code: "notReady", message: reason, status: 503))
                )
            )
        }
        metrics.addRoute(to: router)
        let v1 = router.group("v1").add(
            middleware: BearerAuthentication(directory: directory, maximumBodyBytes: maximumBodyBytes, limiter: limiter)
        )
        v1.get("plans/:plan") { _, context in try await self.plan(context) }
        v1.get("subscriptions") { _, context in try await self.subscriptions(context) }
        v1.get("subscriptions/:id") { request, context in try await self.panel(request, context) }
        v1.post("subscriptions/:id/quotes") { request, context in try await self.quote(request, context) }
        v1.post("subscriptions/:id/operations") { request, context in try await self.apply(request, context) }
        v1.post("subscriptions/:id/usage") { request, context in try await self.recordUsage(request, context) }
        v1.get("subscriptions/:id/quota/:capacity") { request, context in try await self.quota(request, context) }
        v1.get("subscriptions/:id/invoice-preview") { _, context in try await self.invoicePreview(context) }
        v1.get("subscriptions/:id/charges") { request, context in try await self.charges(request, context) }
        v1.get("subscriptions/:id/advice") { request, context in try await self.advice(request, context) }
        v1.post("subscriptions/:id/payments") { request, context in try await self.pay(request, context) }
        v1.post("subscriptions/:id/changes/quote") { request, context in try await self.quoteChange(request, context) }
        v1.post("subscriptions/:id/changes") { request, context in try await self.change(request, context) }
        v1.get("subscriptions/:id/documents/:key") { request, context in try await self.documents(request, context) }
        v1.post("subscriptions/:id/contract-amendments") { request, context in
            try await self.amendContract(request, context)
        }
        v1.get("pool") { _, context in try await self.pool(context) }
        v1.post("pool") { request, context in try await self.createPool(request, context) }
        v1.post("pool/members") { request, context in try await self.joinPool(request, context) }
        v1.post("pool/departures") { request, context in try await self.leavePool(request, context) }
        v1.post("pool/usage") { request, context in try await self.usePool(request, context) }
        v1.put("subscriptions/:id/customer") { request, context in try await self.setCustomer(request, context) }
        v1.post("subscriptions/:id/customer") { request, context in try await self.createCustomer(request, context) }
        return router
    }

    // MARK: Routes

    func plan(_ context: BillingRequestContext) async throws -> Response {
        let id = PlanID(rawValue: try context.pathParameter("plan"))
        guard let plan = catalog[id] else { throw APIError.notFound("plan") }
        return try json(plan)
    }

    func subscriptions(_ context: BillingRequestContext) async throws -> Response {
        let grant = try context.requireGrant()
        return try json(["subscriptions": try await directory.subscriptions(of: grant.account)])
    }

    func panel(_ request: Request, _ context: BillingRequestContext) async throws -> Response {
        let (grant, service, subscription) = try await loaded(context)
        try grant.actor.require(.billingRead)
        let usage = try usage(from: request)
        let charges = try await service.chargesThisPeriod(of: subscription)
        let preview =
            subscription.status.renews
            ? try subscription.previewNextInvoice(
                chargedThisPeriod: charges,
                policy: try await service.policy(for: subscription, at: service.now())
            ) : nil
        return try json(try SubscriptionPanel(subscription, usage: usage, preview: preview, charges: charges))
    }

    /// A page of the current period's charges, oldest first: `?limit=` 1 to 100 (25 by default)
    /// from `?offset=` (0 by default); `nextOffset` is null on the last page.
    func charges(_ request: Request, _ context: BillingRequestContext) async throws -> Response {
        let (grant, service, subscription) = try await loaded(context)
        try grant.actor.require(.billingRead)
        let query = request.uri.queryParameters
        let limit = try integer(query["limit"].map(String.init), "limit") ?? 25
        let offset = try integer(query["offset"].map(String.init), "offset") ?? 0
        guard (1...100).contains(limit), offset <= Int64(AddonService.maximumPeriodCharges) else {
            throw BillingError(
                code: .malformedRequest,
                message: "limit must be 1 to 100 and offset 0 to \(AddonService.maximumPeriodCharges)."
            )
        }
        let all = try await service.chargesThisPeriod(of: subscription)
        let start = min(Int(offset), all.count)
        let end = min(start + Int(limit), all.count)
        return try json(
            ChargePage(charges: Array(all[start..<end]), count: all.count, nextOffset: end < all.count ? end : nil)
        )
    }

    func quote(_ request: Request, _ context: BillingRequestContext) async throws -> Response {
        let (grant, service, subscription) = try await loaded(context)
        let body = try await decode(OperationBody.self, request, context)
        let now = service.now()
        let quote = try subscription.quote(
            body.operation,
            by: grant.actor,
            usage: body.usage,
            at: now,
            policy: try await service.policy(for: subscription, at: now)
        )
        return try json(quote)
    }

    func apply(_ request: Request, _ context: BillingRequestContext) async throws -> Response {
        let (grant, service, id) = try await owned(context)
        let key = try idempotencyKey(request, grant)
        let body = try await decode(OperationBody.self, request, context)
        let receipt = try await service.apply(
            body.operation,
            on: id,
            by: grant.actor,
            usage: body.usage,
            idempotencyKey: key
        )
        return try answer(receipt)
    }

    func recordUsage(_ request: Request, _ context: BillingRequestContext) async throws -> Response {
        let (grant, service, id) = try await owned(context)
        try grant.actor.require(.billingUpdate)
        let key = try idempotencyKey(request, grant)
        let body = try await decode(UsageBody.self, request, context)
        let receipt = try await service.recordUsage(
            body.units,
            of: body.capacity,
            on: id,
            overage: body.overage ?? .refuse,
            idempotencyKey: key
        )
        return try answer(receipt)
    }

    func quota(_ request: Request, _ context: BillingRequestContext) async throws -> Response {
        let (grant, service, subscription) = try await loaded(context)
        let capacity = CapacityKind(rawValue: try context.pathParameter("capacity"))
        // A capacity the subscription cannot have is not found, never a made-up empty quota.
        guard subscription.offers(capacity) else { throw APIError.notFound("capacity") }
        let expectedExtra =
            try integer(request.uri.queryParameters["expected_extra"].map(String.init), "expected_extra") ?? 0
        let report = try subscription.quotaReport(capacity, by: grant.actor)
        let projection = try subscription.usageProjection(
            capacity,
            at: service.now(),
            expectedExtra: expectedExtra,
            by: grant.actor
        )
        return try json(QuotaBody(report: report, projection: projection))
    }

    func invoicePreview(_ context: BillingRequestContext) async throws -> Response {
        let (grant, service, subscription) = try await loaded(context)
        try grant.actor.require(.billingRead)
        return try json(try await service.previewNextInvoice(of: subscription))
    }

    func advice(_ request: Request, _ context: BillingRequestContext) async throws -> Response {
        let (grant, service, subscription) = try await loaded(context)
        let usage = try usage(from: request)
        let advice = try subscription.upgradeAdvice(
            catalog: Array(catalog.values),
            by: grant.actor,
            policy: service.policy
        )
        let prompts = try subscription.upgradePrompts(usage: usage ?? .nothingInUse)
        return try json(AdviceBody(advice: advice, prompts: prompts))
    }

    func pay(_ request: Request, _ context: BillingRequestContext) async throws -> Response {
        let (grant, service, id) = try await owned(context)
        let key = try idempotencyKey(request, grant)
        let receipt = try await service.payUnpaidInvoice(on: id, by: grant.actor, idempotencyKey: key)
        await issueReceipt(
            of: receipt,
            service: service,
            archive: DirectoryDocumentArchive(directory: directory),
            logger: logger
        )
        return try answer(receipt)
    }

    /// Quotes a plan change, cancellation, pause or resume; open to `billing.read`.
    func quoteChange(_ request: Request, _ context: BillingRequestContext) async throws -> Response {
        let (grant, service, subscription) = try await loaded(context)
        let body = try await decode(ChangeBody.self, request, context)
        var operation = try body.change.operation(in: catalog, coupons: coupons)
        if let coupon = operation.coupon {
            operation = .redeemCoupon(coupon, timesRedeemed: try await directory.redemptions(of: coupon.code))
        }
        let now = service.now()
        let quote = try subscription.quote(
            operation,
            by: grant.actor,
            usage: body.usage,
            at: now,
            policy: try await service.policy(for: subscription, at: now)
        )
        return try json(quote)
    }

    /// Applies a plan change, cancellation, pause or resume exactly once under the request's key.
    func change(_ request: Request, _ context: BillingRequestContext) async throws -> Response {
        let (grant, service, id) = try await owned(context)
        let key = try idempotencyKey(request, grant)
        let body = try await decode(ChangeBody.self, request, context)
        let operation = try body.change.operation(in: catalog, coupons: coupons)
        guard let coupon = operation.coupon else {
            let receipt = try await service.change(
                operation,
                on: id,
                by: grant.actor,
                usage: body.usage,
                idempotencyKey: key
            )
            return try answer(receipt)
        }
        return try answer(try await redeem(coupon, on: id, by: grant.actor, key: key, service: service))
    }

    /// Redeems a coupon of the catalog exactly once under `key`, counting it atomically against its
    /// maximum: the redemption is reserved first (the same reservation for the same key), then
    /// applied, and a refused one does not count.
    func redeem(
        _ coupon: Coupon,
        on subscription: SubscriptionID,
        by actor: BillingActor,
        key: IdempotencyKey,
        service: AddonService
    ) async throws -> ServiceReceipt {
        // Past the maximum, the core refuses the redemption and the service records that refusal.
        let reservation = try await directory.reserveRedemption(
            of: coupon.code,
            for: key,
            limit: coupon.maxRedemptions
        )
        do {
            let receipt = try await service.change(
                .redeemCoupon(coupon, timesRedeemed: reservation?.before ?? coupon.maxRedemptions ?? 0),
                on: subscription,
                by: actor,
                idempotencyKey: key
            )
            // Completed, the redemption counts for good; were this write lost, reconciliation confirms it.
            if reservation != nil, receipt.status == .completed {
                try? await directory.confirmRedemption(of: coupon.code, for: key)
            }
            return receipt
        } catch {
            if let reservation, reservation.isNew, await !mayStillComplete(key, after: error) {
                try await directory.releaseRedemption(of: coupon.code, for: key)
            }
            throw error
        }
    }

    /// Whether the request under `key` may still complete after `error`: it is under way — claimed,
    /// or waiting for its charge's confirmation — so its reservation must stand until it settles.
    ///
    /// Anything else gives the reservation back: a refusal, a key used for another request, a busy
    /// or missing subscription. When the state cannot be read the reservation stands (a redemption
    /// counted too early is safer than a coupon redeemed past its maximum).
    func mayStillComplete(_ key: IdempotencyKey, after error: any Error) async -> Bool {
        if let error = error as? BillingError, error.code == .idempotencyKeyReused { return false }
        let state: IntentRecord.State?
        do { state = try await intentState(key) } catch { return true }
        switch state {
        case .claimed, .awaitingConfirmation, .recorded: return true
        case .completed, .failed, nil: return false
        }
    }

    /// How old, in seconds, a coupon reservation must be before reconciliation looks at it: far past
    /// any request's deadline, so that no request still running on this or another server is judged.
    public static let redemptionGraceSeconds: Int64 = 600

    /// Settles coupon reservations that a crash left waiting, one page (100) per call.
    ///
    /// A reservation whose request completed counts for good; one whose request failed, or was never recorded
    /// (the process died between reserving and deciding), is given back; one whose request is still
    /// under way waits for the next call. The renewal worker calls it every pass, the first at start.
    ///
    /// - Returns: How many reservations were confirmed and how many released.
    public func reconcileRedemptions(
        olderThan seconds: Int64 = BillingAPI.redemptionGraceSeconds
    ) async throws -> (confirmed: Int, released: Int) {
        var settled = (confirmed: 0, released: 0)
        for (coupon, key) in try await directory.pendingRedemptions(olderThan: seconds, limit: 100) {
            switch try await intentState(key) {
            case .completed:
                try await directory.confirmRedemption(of: coupon, for: key)
                settled.confirmed += 1
            case .failed, nil:
                try await directory.releaseRedemption(of: coupon, for: key)
                settled.released += 1
            case .claimed, .awaitingConfirmation, .recorded:
                continue
            }
        }
        return settled
    }

    /// Amends the seats of a contract-managed add-on exactly once (seed 004): the account
    /// manager's token (`accountManager`, `billing.contracts`) only; seats added now are prorated
    /// to the term and charged, seats removed leave at the contract's renewal.
    func amendContract(_ request: Request, _ context: BillingRequestContext) async throws -> Response {
        let (grant, service, id) = try await owned(context)
        let key = try idempotencyKey(request, grant)
        let body = try await decode(AmendmentBody.self, request, context)
        let receipt = try await service.amendContract(
            body.seats,
            of: body.addon,
            on: id,
            by: grant.actor,
            usage: body.usage,
            idempotencyKey: key
        )
        return try answer(receipt)
    }

    // MARK: Credit pools (seed 004): the caller's account is the organization

    /// The account's credit pool as it stands: its seats, credits and the seed's sentence.
    func pool(_ context: BillingRequestContext) async throws -> Response {
        let grant = try context.requireGrant()
        try grant.actor.require(.billingRead)
        guard let pool = try await scoped(grant.account).creditPool(of: grant.account.rawValue) else {
            throw BillingError(code: .poolNotFound, message: "\(grant.account) has no credit pool.")
        }
        return try json(PoolPanel(pool))
    }

    /// Creates the account's pool for a tier (`{"tier": "pro"}`), exactly once under the key.
    func createPool(_ request: Request, _ context: BillingRequestContext) async throws -> Response {
        let grant = try context.requireGrant()
        let key = try idempotencyKey(request, grant)
        let body = try await decode(PoolBody.self, request, context)
        guard let tier = body.tier else { throw BillingError(code: .malformedRequest, message: "tier is required.") }
        let receipt = try await scoped(grant.account).createPool(
            for: grant.account.rawValue,
            tier: tier,
            by: grant.actor,
            idempotencyKey: key
        )
        return try json(PoolPanel(receipt.pool))
    }

    /// Adds one of the account's subscriptions to its pool with its seat's credits
    /// (`{"subscription": "sub_ana", "credits": 500}`), exactly once under the key.
    func joinPool(_ request: Request, _ context: BillingRequestContext) async throws -> Response {
        let grant = try context.requireGrant()
        let key = try idempotencyKey(request, grant)
        let body = try await decode(PoolBody.self, request, context)
        let (member, credits) = try body.member(withCredits: true)
        // Only the account's own subscriptions join its pool; another's is not found, as a missing one is.
        guard try await directory.owner(of: member) == grant.account else { throw APIError.notFound("subscription") }
        let receipt = try await scoped(grant.account).joinPool(
            of: grant.account.rawValue,
            subscription: member,
            credits: credits,
            by: grant.actor,
            idempotencyKey: key
        )
        return try json(PoolPanel(receipt.pool))
    }

    /// Removes a subscription's seat from the pool (`{"subscription": "sub_ana"}`), exactly once.
    func leavePool(_ request: Request, _ context: BillingRequestContext) async throws -> Response {
        let grant = try context.requireGrant()
        let key = try idempotencyKey(request, grant)
        let (member, _) = try await decode(PoolBody.self, request, context).member(withCredits: false)
        let receipt = try await scoped(grant.account).leavePool(
            of: grant.account.rawValue,
            subscription: member,
            by: grant.actor,
            idempotencyKey: key
        )
        return try json(PoolPanel(receipt.pool))
    }

    /// Draws credits from the pool for a member (`{"subscription": "sub_ana", "credits": 120}`),
    /// exactly once under the key.
    func usePool(_ request: Request, _ context: BillingRequestContext) async throws -> Response {
        let grant = try context.requireGrant()
        let key = try idempotencyKey(request, grant)
        let (member, credits) = try await decode(PoolBody.self, request, context).member(withCredits: true)
        let receipt = try await scoped(grant.account).consumePoolCredits(
            credits,
            of: grant.account.rawValue,
            by: member,
            actor: grant.actor,
            idempotencyKey: key
        )
        return try json(PoolPanel(receipt.pool))
    }

    /// The documents of a completed request, numbered gap-free per account and frozen when first
    /// issued (an invoice's payment state excepted): `key` is the request's
    /// `Idempotency-Key`, or the key of a renewal or retry the service derived (`renewal:…`), and
    /// `format` is `json` (the default), `text` or `html`.
    func documents(_ request: Request, _ context: BillingRequestContext) async throws -> Response {
        let (grant, service, subscription) = try await loaded(context)
        try grant.actor.require(.billingRead)
        let raw = try context.pathParameter("key")
        // A renewal's or a retry's derived key as it is stored; otherwise the caller's own key.
        let derived = raw.hasPrefix("renewal:") || raw.hasPrefix("dunning:")
        let key = derived ? IdempotencyKey(stored: raw) : IdempotencyKey("\(grant.account.rawValue)/\(raw)")
        // Only a completed request of this subscription has documents; anything else is not found.
        guard let receipt = try await service.completedReceipt(for: key, on: subscription.id) else {
            throw APIError.notFound("document")
        }
        let documents = try await service.documents(
            for: receipt,
            archive: DirectoryDocumentArchive(directory: directory)
        )
        switch request.uri.queryParameters["format"].map(String.init) ?? "json" {
        case "json": return try json(["documents": documents])
        case "text": return text(documents.map(\.plainText).joined(separator: "\n"), type: "text/plain; charset=utf-8")
        case "html": return text(documents.map(\.html).joined(separator: "\n"), type: "text/html; charset=utf-8")
        default: throw BillingError(code: .malformedRequest, message: "format must be json, text or html.")
        }
    }

    /// Links the subscription to its customer at the payment provider (Stripe's `cus_…`).
    ///
    /// The customer's default payment method pays the subscription's charges. A request of the
    /// service like any other: owners and admins only (`billing.paymentDetails`), exactly once under the
    /// `Idempotency-Key` when one is sent (a PUT without one is idempotent by itself), and refused
    /// with 409 while a charge is in flight.
    func setCustomer(_ request: Request, _ context: BillingRequestContext) async throws -> Response {
        let (grant, service, id) = try await owned(context)
        let body = try await decode(CustomerBody.self, request, context)
        try requirePaymentDetails(grant)
        // Only a customer created for this account (its metadata names it) may pay: another
        // tenant's customer id, or one typed in, is not found — as a missing one is.
        if let stripe, try await stripe.account(of: body.customer) != grant.account.rawValue {
            throw APIError.notFound("customer")
        }
        let key =
            request.headers[.idempotencyKey] == nil
            ? IdempotencyKey("\(grant.account.rawValue)/customer/\(UUID().uuidString)")
            : try idempotencyKey(request, grant)
        do {
            _ = try await service.linkCustomer(body.customer, on: id, by: grant.actor, idempotencyKey: key)
        } catch let error as BillingError where error.code == .invalidOption {
            throw BillingError(code: .malformedRequest, message: "customer has 1 to 255 printable ASCII characters.")
        }
        return try json(CustomerBody(customer: body.customer))
    }

    /// Creates the account's customer at Stripe and links it, answering the SetupIntent through
    /// which the customer's browser saves a card (`{"customer": "cus_…", "setupIntent": "seti_…",
    /// "clientSecret": "seti_…_secret_…"}`); owners and admins, exactly once under the key.
    func createCustomer(_ request: Request, _ context: BillingRequestContext) async throws -> Response {
        let (grant, service, subscription) = try await loaded(context)
        let id = subscription.id
        try requirePaymentDetails(grant)
        let key = try idempotencyKey(request, grant)
        let body = try await decode(NewCustomerBody.self, request, context)
        guard let stripe else {
            throw APIError(
                status: .unprocessableContent,
                code: "noPaymentProvider",
                message: "No payment provider is configured; the demo gateway needs no customer."
            )
        }
        let created = try await stripe.createCustomer(of: grant.account.rawValue, email: body.email, key: key.rawValue)
        _ = try await service.linkCustomer(created.customer, on: id, by: grant.actor, idempotencyKey: key)
        return try json(
            NewCustomer(
                customer: created.customer,
                setupIntent: created.setupIntent,
                clientSecret: created.clientSecret
            )
        )
    }

    // MARK: Helpers

    /// Refuses a caller who may not change the payment details (only owners and admins may),
    /// before anything is asked of Stripe.
    func requirePaymentDetails(_ grant: TokenGrant) throws {
        guard grant.actor.permissions.contains(.paymentDetailsUpdate) else {
            throw APIError(
                status: .forbidden,
                code: BillingError.Code.permissionDenied.rawValue,
                message: "Only the Owner or an Admin can change the payment details."
            )
        }
    }

    /// The caller's grant, its account's service and the subscription named in the path — loaded
    /// in one read that also checks the account owns it (another account's is "not found",
    /// exactly as a missing one is, so that no one learns whether it exists).
    func loaded(_ context: BillingRequestContext) async throws -> (TokenGrant, AddonService, Subscription) {
        let (grant, service, id) = try await owned(context)
        do {
            return (grant, service, try await service.subscription(id))
        } catch let error as BillingError where error.code == .subscriptionNotFound {
            throw APIError.notFound("subscription")
        }
    }

    /// The caller's grant, its account's service and the subscription identifier in the path; the
    /// account's service finds only the account's subscriptions.
    func owned(_ context: BillingRequestContext) async throws -> (TokenGrant, AddonService, SubscriptionID) {
        let grant = try context.requireGrant()
        let id = SubscriptionID(rawValue: try context.pathParameter("id"))
        if ownershipChecked {
            guard try await directory.owner(of: id) == grant.account else { throw APIError.notFound("subscription") }
        }
        return (grant, scoped(grant.account), id)
    }

    /// The `Idempotency-Key` header as a service key scoped to the caller's account.
    func idempotencyKey(_ request: Request, _ grant: TokenGrant) throws -> IdempotencyKey {
        guard let header = request.headers[.idempotencyKey] else { throw APIError.idempotencyKeyRequired }
        guard !header.isEmpty, header.utf8.count <= Self.maximumKeyBytes,
            header.utf8.allSatisfy({ (0x21...0x7e).contains($0) })
        else {
            throw APIError(
                status: .badRequest,
                code: BillingError.Code.invalidIdempotencyKey.rawValue,
                message:
                    "An Idempotency-Key has 1 to \(Self.maximumKeyBytes) printable ASCII characters without spaces."
            )
        }
        return IdempotencyKey("\(grant.account.rawValue)/\(header)")
    }

    /// The receipt as JSON, counting a replay.
    func answer(_ receipt: ServiceReceipt) throws -> Response {
        if receipt.isReplay { metrics.replay() }
        return try json(receipt)
    }

    /// The longest `Idempotency-Key` header: the service's 255 bytes less the account scope.
    static let maximumKeyBytes = IdempotencyKey.maximumLength - AccountID.maximumLength - 1

    /// Decodes the body with the context's ``BillingRequestDecoder``.
    func decode<Body: Decodable>(
        _ type: Body.Type,
        _ request: Request,
        _ context: BillingRequestContext
    ) async throws -> Body {
        try await context.requestDecoder.decode(type, from: request, context: context)
    }

    /// The request body, refused with `bodyTooLarge` (413) past `limit` bytes — from the
    /// `Content-Length` header before anything is read, else once the limit is crossed.
    static func body(of request: Request, limit: Int) async throws -> Data {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw APIError.bodyTooLarge(limit)
        }
        var request = request
        do {
            return Data(try await request.collectBody(upTo: limit).readableBytesView)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError.bodyTooLarge(limit)
        } catch is NIOTooManyBytesError {
            // A chunked body (no Content-Length) crossing the limit while it is collected.
            throw APIError.bodyTooLarge(limit)
        }
    }

    /// The usage named by query parameters `seats_used`, `pending_invitations`, `agents_used`.
    func usage(from request: Request) throws -> CapacityUsage? {
        let query = request.uri.queryParameters
        let seats = try integer(query["seats_used"].map(String.init), "seats_used")
        let pending = try integer(query["pending_invitations"].map(String.init), "pending_invitations")
        let agents = try integer(query["agents_used"].map(String.init), "agents_used")
        guard seats != nil || pending != nil || agents != nil else { return nil }
        return CapacityUsage(
            seats: CapacityUsage.Seats(activeMembers: seats ?? 0, pendingInvitations: pending ?? 0),
            agents: CapacityUsage.Agents(active: agents ?? 0)
        )
    }

    func integer(_ text: String?, _ name: String) throws -> Int64? {
        guard let text else { return nil }
        guard let value = Int64(text), value >= 0 else {
            throw BillingError(code: .malformedRequest, message: "\(name) must be a whole number, 0 or more.")
        }
        return value
    }

    func text(_ body: String, type: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: type],
            body: .init(byteBuffer: ByteBuffer(string: body))
        )
    }

    /// The value as a JSON response, written as the context's ``BillingResponseEncoder`` writes it.
    func json(_ value: some Encodable) throws -> Response {
        try BillingResponseEncoder.response(value)
    }

}

extension HTTPField.Name {
    /// Stripe's header for idempotent requests.
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
}

extension BillingRequestContext {
    func requireGrant() throws -> TokenGrant {
        guard let grant else { throw APIError.unauthenticated }
        return grant
    }

    /// The path parameter `name`, percent-decoded (RFC 3986, section 2.1).
    ///
    /// A key `order/42` is reached as `…/documents/order%2F42`; a malformed escape is
    /// `malformedRequest`.
    func pathParameter(_ name: String) throws -> String {
        let raw = try parameters.require(name)
        guard raw.contains("%") else { return raw }
        guard let decoded = raw.removingPercentEncoding else {
            throw BillingError(code: .malformedRequest, message: "The path has a malformed percent escape.")
        }
        return decoded
    }
}

extension Subscription {
    /// Whether the subscription has `capacity` at all: included in its plan, sold by the plan as an
    /// add-on or a pack, or held through a line or a pack bought earlier.
    func offers(_ capacity: CapacityKind) -> Bool {
        plan.included.quantities[capacity] != nil || plan.addons.contains { $0.kind.capacity == capacity }
            || quota.packs.contains { $0.capacity == capacity } || ((try? self.capacity(capacity)) ?? 0) > 0
    }
}

/// The body of a quote or an operation: what to do, and what is in use now.
struct OperationBody: Decodable {
    var operation: AddonOperation
    var usage: CapacityUsage?
}

/// The provider's customer of a subscription.
struct CustomerBody: Codable {
    var customer: String
}

/// The body of a contract amendment: `{"addon": "seats", "seats": 5}`, or `"seats": -3` with
/// `"usage"` to remove seats at the contract's renewal.
struct AmendmentBody: Decodable {
    var addon: AddonCode
    var seats: Int64
    var usage: CapacityUsage?
}

/// The body of a pool request: `{"tier": "pro"}` to create, `{"subscription": "sub_ana",
/// "credits": 500}` to join or draw, `{"subscription": "sub_ana"}` to leave.
struct PoolBody: Decodable {
    var tier: PlanTier?
    var subscription: SubscriptionID?
    var credits: Int64?

    /// The member named, and the credits when the request needs them.
    func member(withCredits: Bool) throws -> (SubscriptionID, Int64) {
        guard let subscription, !subscription.rawValue.isEmpty else {
            throw BillingError(code: .malformedRequest, message: "subscription is required.")
        }
        guard withCredits else { return (subscription, 0) }
        guard let credits else { throw BillingError(code: .malformedRequest, message: "credits is required.") }
        return (subscription, credits)
    }
}

/// A credit pool as its page shows it (seed 004): `{"organization": "acme", "tier": "pro",
/// "seats": [{"subscription": "sub_ana", "credits": 500, "used": 120}], "total": 1000, "used":
/// 650, "remaining": 350, "summary": "2 Pro seats pool 1,000 credits: 650 used, 350 left this
/// period."}`.
struct PoolPanel: Encodable {
    struct Seat: Encodable {
        var subscription: String
        var credits: Int64
        var used: Int64
    }

    var organization: String
    var tier: PlanTier
    var seats: [Seat]
    var total: Int64
    var used: Int64
    var remaining: Int64
    var summary: String

    init(_ pool: CreditPool) {
        organization = pool.organization
        tier = pool.tier
        seats = pool.members.map { Seat(subscription: $0.id, credits: $0.credits, used: $0.used) }
        total = pool.total
        used = pool.used
        remaining = pool.remaining
        summary = pool.summary
    }
}

/// A page of the current period's charges.
struct ChargePage: Encodable {
    var charges: [InvoiceLine]
    /// How many charges the period holds in all.
    var count: Int
    /// The offset of the next page, or nil on the last.
    var nextOffset: Int?
}

/// The optional body of a customer created by the server.
struct NewCustomerBody: Decodable {
    var email: String?
}

/// A customer created at Stripe, with the SetupIntent that saves its card.
struct NewCustomer: Encodable {
    var customer: String
    var setupIntent: String
    var clientSecret: String
}

/// The body of a usage report.
struct UsageBody: Decodable {
    var capacity: CapacityKind
    var units: Int64
    var overage: OveragePolicy?
}

/// A quota report with its projection.
struct QuotaBody: Encodable {
    var report: QuotaReport
    var projection: UsageProjection
}

/// Upgrade advice and prompts.
struct AdviceBody: Encodable {
    var advice: [UpgradeAdvice]
    var prompts: [UpgradePrompt]
}

/// Checks the bearer token and puts its grant in the context.
struct BearerAuthentication: RouterMiddleware {
    typealias Context = BillingRequestContext
    let directory: any AccountDirectory
    /// The largest request body the API accepts.
    let maximumBodyBytes: Int
    /// Bounds each token's and each account's writes.
    let limiter: WriteLimiter

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let token = bearerToken(request.headers[.authorization]),
            let grant = try await directory.authenticate(token)
        else { throw APIError.unauthenticated }
        if request.method != .get, request.method != .head,
            let wait = limiter.admit(token: grant.id, account: grant.account.rawValue)
        {
            throw APIError.rateLimited(wait)
        }
        var context = context
        context.grant = grant
        context.maxUploadSize = maximumBodyBytes
        return try await next(request, context)
    }
}

/// Answers HEAD without a body, errors included: an error's response keeps its status and
/// headers (its `Content-Length` too) and drops the body, which a HEAD response must not carry
/// (RFC 9110, section 9.3.2) — over keep-alive, a body would be read as the next response.
struct HeadMiddleware: RouterMiddleware {
    typealias Context = BillingRequestContext

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard request.method == .head else { return try await next(request, context) }
        do {
            return try await next(request, context).createHeadResponse()
        } catch let error as any HTTPResponseError {
            return try error.response(from: request, context: context).createHeadResponse()
        }
    }
}

/// Turns every error into the one JSON error shape; unexpected errors are logged by type
/// only (no message, which might carry a secret) and answered with `internal`.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = BillingRequestContext

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as BillingError where error.code == .subscriptionNotFound {
            // The same answer for another account's subscription as for a missing one.
            throw APIError.notFound("subscription")
        } catch let error as BillingError {
            throw APIError(error)
        } catch let error as StoreUnavailable {
            context.logger.warning("database unavailable", metadata: ["reason": "\(error.reason)"])
            throw APIError.storeUnavailable
        } catch let error as HTTPError {
            let code = error.status == .notFound ? "notFound" : "malformedRequest"
            throw APIError(status: error.status, code: code, message: error.body ?? error.status.reasonPhrase)
        } catch {
            context.logger.error("request failed", metadata: ["error.type": "\(type(of: error))"])
            throw APIError.internal
        }
    }
}

/// The body of a subscription change: the operation, naming its plan from the server's catalog
/// (a client never sends a plan's prices), and what is in use now.
///
/// `{"change": {"type": "changePlan", "plan": "pro_monthly", "timing": "now", "addonPrices": "keepLocked",
/// "dropUnsold": false}, "usage": {...}}`; `type` is also `cancel` (with `timing`, `atPeriodEnd` by default),
/// `withdrawPlanChange`, `withdrawCancellation`, `pause` or `resume`.
struct ChangeBody: Decodable {
    struct Change: Decodable {
        var type: SubscriptionOperation.Kind
        var plan: PlanID?
        var timing: ChangeTiming?
        var addonPrices: AddonPriceRule?
        var dropUnsold: Bool?
        var coupon: Coupon.Code?

        /// The core's operation, with the plan read from `catalog` and the coupon from `coupons`.
        func operation(in catalog: [PlanID: Plan], coupons: [Coupon.Code: Coupon]) throws -> SubscriptionOperation {
            switch type {
            case .redeemCoupon:
                guard let code = coupon else {
                    throw BillingError(code: .malformedRequest, message: "A redemption names its coupon.")
                }
                guard let known = coupons[code] else { throw APIError.notFound("coupon") }
                return .redeemCoupon(known)
            case .removeDiscount: return .removeDiscount
            case .changePlan:
                guard let id = plan else {
                    throw BillingError(code: .malformedRequest, message: "A plan change names its plan.")
                }
                guard let target = catalog[id] else { throw APIError.notFound("plan") }
                return .changePlan(
                    to: target,
                    timing: timing ?? .now,
                    addonPrices: addonPrices ?? .keepLocked,
                    dropUnsold: dropUnsold ?? false
                )
            case .cancel: return .cancel(timing: timing ?? .atPeriodEnd)
            case .withdrawPlanChange: return .withdrawPlanChange
            case .withdrawCancellation: return .withdrawCancellation
            case .pause: return .pause
            case .resume: return .resume
            default:
                throw BillingError(
                    code: .malformedRequest,
                    message: "change.type must be changePlan, cancel, withdrawPlanChange, withdrawCancellation, "
                        + "pause, resume, redeemCoupon or removeDiscount."
                )
            }
        }
    }

    var change: Change
    var usage: CapacityUsage?
}

/// The token of an `Authorization: Bearer <token>` header, or nil.
///
/// The scheme is matched without regard to case and may be followed by more than one space
/// (RFC 9110, section 11.1; RFC 6750).
func bearerToken(_ header: String?) -> String? {
    guard let header, header.utf8.count > 7, header.prefix(6).lowercased() == "bearer",
        header.dropFirst(6).first == " "
    else { return nil }
    let token = header.dropFirst(6).drop { $0 == " " }
    return token.isEmpty ? nil : String(token)
}
