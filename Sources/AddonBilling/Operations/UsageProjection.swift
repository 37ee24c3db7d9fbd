/// Where usage of a capacity is heading at the current pace, and how many packs to buy ahead.
///
/// ## JSON
///
/// `{"capacity": "messages", "used": 60000, "granted": 150000, "projectedAtPeriodEnd": 124000,
///  "runsOutAt": null, "packsToBuy": 0, "pack": "message_pack", "expectedOverage": 0,
///  "expectedOverageCharge": {...}, "advice": "..."}`; `expectedOverageCharge` appears when the
///  plan prices the capacity's overage.
public struct UsageProjection: Sendable, Hashable, Codable {
    /// The capacity projected.
    public let capacity: CapacityKind
    /// Units used so far this period, overage included.
    public let used: Int64
    /// Units granted this period.
    public let granted: Int64
    /// Units projected by the period's end at the current pace, plus any expected extra.
    public let projectedAtPeriodEnd: Int64
    /// When the quota runs out at the current pace; nil when it lasts the period.
    public let runsOutAt: Instant?
    /// How many packs to buy ahead so the projection fits.
    public let packsToBuy: Int64
    /// The pack the advice counts in, if the plan sells one for the capacity.
    public let pack: AddonCode?
    /// Units projected beyond the quota by the period's end, without buying packs.
    public let expectedOverage: Int64
    /// What that overage would cost on the next invoice, when the plan prices it (``OverageRate``).
    public let expectedOverageCharge: Money?
    /// The advice in a sentence.
    public let advice: String
}

extension Subscription {
    /// Projects usage of a capacity to the period's end at the current pace.
    ///
    /// The pace is the usage so far over the time elapsed in the period. With
    /// `expectedExtra`, a known event (a campaign, a launch) is added on top, so the
    /// advice says how many packs to buy ahead ("buy ahead for known events").
    ///
    /// - Parameters:
    ///   - capacity: The capacity, for example ``CapacityKind/messages``.
    ///   - at: Now; within the current period.
    ///   - expectedExtra: Units a known event will use before the period ends; zero or more.
    ///   - actor: Who asks; needs `billing.read`.
    /// - Returns: When the quota runs out at the current pace, and how many packs to buy ahead.
    /// - Throws: ``BillingError/Code/permissionDenied``, ``BillingError/Code/invalidQuantity``
    ///   for a negative extra, ``BillingError/Code/renewalDue`` after the paid period.
    public func usageProjection(
        _ capacity: CapacityKind,
        at: Instant,
        expectedExtra: Int64 = 0,
        by actor: BillingActor
    ) throws(BillingError) -> UsageProjection {
        try actor.require(.billingRead)
        guard expectedExtra >= 0 else { throw BillingError.negativeCapacity(capacity, expectedExtra) }
        let period = try currentPeriod()
        guard at >= period.start else { throw BillingError.instantOutsidePeriod(at, period, zone: cycle.timeZone) }
        guard at < period.end else {
            throw BillingError.renewalDue(at: at, billedThrough: billedThrough, zone: cycle.timeZone)
        }
        let report = try quotaReport(capacity)
        let used = try Change.sum(report.used, report.overage)
        let elapsed = Int128(at.secondsSinceEpoch - period.start.secondsSinceEpoch)
        let length = Int128(period.seconds)
        // At the current pace: used × length / elapsed, rounded up; no pace yet at the first instant.
        var projected = Int128(used)
        if elapsed > 0 { projected = (Int128(used) * length + elapsed - 1) / elapsed }
        projected += Int128(expectedExtra)
        let projectedUnits = Int64(clamping: projected)

        var runsOut: Instant?
        if report.remaining == 0 {
            runsOut = at
        } else if used > 0, elapsed > 0 {
            let secondsLeft = Int128(report.remaining) * elapsed / Int128(used)
            if secondsLeft < Int128(period.end.secondsSinceEpoch - at.secondsSinceEpoch) {
                runsOut = Instant(secondsSinceEpoch: at.secondsSinceEpoch + Int64(secondsLeft))
            }
        }

        let offer = plan.addons
            .filter {
                if case .oneTimePack(capacity, _) = $0.kind { return $0.price != nil && $0.availability == .selfServe }
                return false
            }
            .min { ($0.price?.minorUnits ?? 0) < ($1.price?.minorUnits ?? 0) }
        var packs: Int64 = 0
        let shortfall = projected - Int128(report.granted)
        if let offer, case .oneTimePack(_, let size) = offer.kind, shortfall > 0 {
            packs = Int64(clamping: (shortfall + Int128(size) - 1) / Int128(size))
        }
        let expectedOverage = shortfall > 0 ? Int64(clamping: shortfall) : 0
        let expectedCharge = try plan.overageRate(capacity).map { rate throws(BillingError) in
            try rate.charge(for: expectedOverage)
        }
        var billed = ""
        if let expectedCharge, expectedOverage > 0 {
            billed =
                " Without a pack, \(capacity.count(expectedOverage)) beyond the quota would add about "
                + "\(expectedCharge) to the next invoice."
        }
        let advice: String
        if shortfall <= 0 {
            advice =
                "At this pace \(capacity.count(projectedUnits)) will be used of \(report.granted.grouped); no pack needed."
        } else if let offer, packs > 0 {
            var when = ""
            if let runsOut { when = " The quota runs out around \(try cycle.timeZone.readableDate(runsOut))." }
            advice =
                "At this pace \(capacity.count(projectedUnits)) will be used of \(report.granted.grouped).\(when) Buy "
                + "\(packs) × \(offer.name) ahead so you don't run out mid-period.\(billed)"
        } else {
            advice =
                "At this pace \(capacity.count(projectedUnits)) will be used of \(report.granted.grouped); "
                + "this plan sells no pack for \(capacity.unitName.plural).\(billed)"
        }
        return UsageProjection(
            capacity: capacity,
            used: used,
            granted: report.granted,
            projectedAtPeriodEnd: projectedUnits,
            runsOutAt: runsOut,
            packsToBuy: packs,
            pack: offer?.code,
            expectedOverage: expectedOverage,
            expectedOverageCharge: expectedCharge,
            advice: advice
        )
    }
}
