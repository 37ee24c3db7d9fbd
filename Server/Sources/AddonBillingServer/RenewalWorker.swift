public import AddonBilling
public import Logging
public import ServiceLifecycle

/// Renews what is due: every interval it finishes what a crash left (`resume()`), then
/// runs `renewDue(limit:)` — renewals and scheduled payment retries found by the
/// store's due query.
///
/// Several servers on one PostgreSQL may run it at once: renewal keys are derived from
/// the subscription and the period, so a period is billed once however many workers
/// reach it. On graceful shutdown (SIGTERM) the pass in progress finishes and no new one
/// starts.
public struct RenewalWorker: Service {
    let service: AddonService
    let interval: Duration
    let batch: Int
    let concurrency: Int
    let logger: Logger
    let metrics: BillingMetrics
    let archive: (any DocumentArchive)?
    let maintenance: @Sendable () async -> Void
    let ready: @Sendable () async throws -> Void

    /// A worker over a service, passing every `interval`, renewing at most `batch`
    /// subscriptions per pass (`concurrency` at once), once `ready` (the migrations) returned.
    ///
    /// With an `archive`, a retry that pays an unpaid invoice issues its receipt at once, so the
    /// invoice names the payment as soon as it is paid. `maintenance` runs at the start of every
    /// pass (the server reconciles coupon reservations a crash left behind).
    public init(
        service: AddonService,
        interval: Duration,
        batch: Int,
        concurrency: Int = 1,
        logger: Logger,
        metrics: BillingMetrics = BillingMetrics(),
        archive: (any DocumentArchive)? = nil,
        maintenance: @escaping @Sendable () async -> Void = {},
        ready: @escaping @Sendable () async throws -> Void = {}
    ) {
        self.archive = archive
        self.maintenance = maintenance
        self.service = service
        self.interval = interval
        self.batch = batch
        self.concurrency = concurrency
        self.logger = logger
        self.metrics = metrics
        self.ready = ready
    }

    /// Runs passes until the service group shuts down; a pass that found a full batch due is
    /// followed by the next at once, so a backlog drains as fast as the store allows.
    ///
    /// - Throws: What `ready` throws: the server cannot run without its tables.
    public func run() async throws {
        try await ready()
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let looked = await pass()
            if looked >= batch { continue }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                break
            }
        }
        logger.info("renewal worker stopped")
    }

    /// One pass; failures are logged by code, and the subscriptions stay due for the next pass.
    ///
    /// - Returns: How many renewals and retries the pass completed.
    @discardableResult
    public func pass() async -> Int {
        await maintenance()
        // Recovery failing (a store page that cannot be read) must not stop the renewals.
        var resumed: (completed: Int, voided: Int) = (0, 0)
        do {
            let report = try await service.resume()
            resumed = (report.completed.count, report.voided.count)
        } catch {
            logger.error("resume failed", metadata: ["error.type": "\(type(of: error))"])
        }
        do {
            let (receipts, failures) = try await service.renewDue(limit: batch, concurrency: concurrency)
            if !receipts.isEmpty || !failures.isEmpty || resumed.completed > 0 || resumed.voided > 0 {
                logger.info(
                    "renewal pass",
                    metadata: [
                        "renewed": "\(receipts.count)",
                        "failed": "\(failures.count)",
                        "resumed.completed": "\(resumed.completed)",
                        "resumed.voided": "\(resumed.voided)",
                    ]
                )
            }
            for receipt in receipts {
                count(receipt)
                if let archive { await issueReceipt(of: receipt, service: service, archive: archive, logger: logger) }
            }
            for (id, error) in failures {
                let code = (error as? BillingError)?.code.rawValue ?? "\(type(of: error))"
                logger.warning("renewal failed", metadata: ["subscription": "\(id)", "code": "\(code)"])
                metrics.renewal("failed")
            }
            // Only completed steps count: a pending or failing subscription stays due and must not
            // keep the worker from resting.
            return receipts.filter { $0.status == .completed }.count
        } catch {
            logger.error("renewal pass failed", metadata: ["error.type": "\(type(of: error))"])
            return 0
        }
    }

    /// Counts a renewal or payment retry, and the dunning transition it made.
    func count(_ receipt: ServiceReceipt) {
        let decision = receipt.decision
        if let retry = decision.paymentRetry {
            if receipt.status == .completed { metrics.dunning(to: retry.paid ? .active : retry.status) }
            return
        }
        guard decision.kind == .renewal else { return }
        guard receipt.status == .completed else { return metrics.renewal("pending") }
        // A declined renewal still opens its period, with the invoice unpaid and nothing due now.
        let billed = decision.renewals.contains { !$0.invoice.total.isZero }
        guard billed, receipt.amountCharged.isZero else { return metrics.renewal("completed") }
        metrics.renewal("declined")
        // The declined renewal's own status is where dunning took the subscription.
        if let status = decision.renewals.last?.status { metrics.dunning(to: status) }
    }
}

/// Issues the receipt of a payment that settled an unpaid invoice, so that the invoice names it at
/// once; a failure is logged, and the documents are issued when first asked for instead.
func issueReceipt(
    of receipt: ServiceReceipt,
    service: AddonService,
    archive: any DocumentArchive,
    logger: Logger
) async {
    guard receipt.status == .completed, receipt.decision.paymentRetry?.paid == true else { return }
    do {
        _ = try await service.documents(for: receipt, archive: archive)
    } catch {
        let code = (error as? BillingError)?.code.rawValue ?? "\(type(of: error))"
        logger.warning("issuing a payment's receipt failed", metadata: ["code": "\(code)"])
    }
}
