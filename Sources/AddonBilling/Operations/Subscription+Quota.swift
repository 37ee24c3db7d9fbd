/// What happens when recorded usage would pass the quota.
public enum OveragePolicy: String, Sendable, Hashable, CaseIterable, Codable {
    /// Refuse the usage with ``BillingError/Code/quotaExceeded`` (the default).
    case refuse
    /// Record the usage; the part beyond the quota is reported as overage.
    case record
}

extension QuotaReport {
    /// One source of quota: the plan's allowance or a pack.
    ///
    /// ## JSON
    ///
    /// `{"source": "plan", "granted": 50000, "used": 50000, "remaining": 0, "expiresAt": null}`, or for a pack
    /// `{"source": "pack", "pack": 2, "addon": "message_pack", ...}`.
    public struct Source: Sendable, Hashable, Codable {
        /// Where the quota comes from: `"plan"` (allowance and recurring add-ons) or `"pack"`.
        public let source: String
        /// The pack's number, for packs.
        public let pack: Int?
        /// The pack's add-on, for packs.
        public let addon: AddonCode?
        /// Units granted this period.
        public let granted: Int64
        /// Units drawn.
        public let used: Int64
        /// Units left.
        public let remaining: Int64
        /// When unused units expire: packs at the period's end; the plan's allowance resets then.
        public let expiresAt: Instant
    }
}

/// A capacity's quota in the current period: granted, used, remaining, per source.
///
/// `granted = used + remaining` always holds; at renewal the packs' remaining units
/// are reported as expired (``Decision/Renewal/expired``).
///
/// ## JSON
///
/// `{"capacity": "messages", "granted": 150000, "used": 60000, "remaining": 90000,
///  "expiringAtPeriodEnd": 90000, "overage": 0, "periodEnd": "...", "sources": [...]}`.
public struct QuotaReport: Sendable, Hashable, Codable {
    /// The capacity reported.
    public let capacity: CapacityKind
    /// Units granted this period: allowance plus packs.
    public let granted: Int64
    /// Units drawn this period.
    public let used: Int64
    /// Units left.
    public let remaining: Int64
    /// Pack units that expire unused at the period's end if not used before.
    public let expiringAtPeriodEnd: Int64
    /// Units recorded beyond the quota (``OveragePolicy/record``).
    public let overage: Int64
    /// The end of the current period.
    public let periodEnd: Instant
    /// The sources in the order usage draws them: the allowance, then packs oldest first.
    public let sources: [QuotaReport.Source]
}

extension Subscription {
    /// Units of `capacity` granted this period: the allowance (plan plus recurring
    /// add-on lines) plus every pack bought this period.
    ///
    /// - Throws: ``BillingError/Code/overflow``.
    public func quotaGranted(_ capacity: CapacityKind) throws(BillingError) -> Int64 {
        var total = try self.capacity(capacity)
        for pack in quota.packs where pack.capacity == capacity { total = try Change.sum(total, pack.amount) }
        return total
    }

    /// The quota of `capacity` in the current period, per source.
    ///
    /// - Parameters:
    ///   - capacity: The capacity to report, for example ``CapacityKind/messages``.
    ///   - actor: Who asks; needs `billing.read`.
    /// - Returns: Granted, used and remaining units, per source.
    /// - Throws: ``BillingError/Code/permissionDenied`` without `billing.read`;
    ///   ``BillingError/Code/overflow``.
    public func quotaReport(_ capacity: CapacityKind, by actor: BillingActor) throws(BillingError) -> QuotaReport {
        try actor.require(.billingRead)
        return try quotaReport(capacity)
    }

    /// The quota report without a permission check, for the package's own decisions.
    func quotaReport(_ capacity: CapacityKind) throws(BillingError) -> QuotaReport {
        let periodEnd = billedThrough
        let allowance = try self.capacity(capacity)
        let allowanceUsed = min(quota.allowanceUsed[capacity], allowance)
        var sources = [
            QuotaReport.Source(
                source: "plan",
                pack: nil,
                addon: nil,
                granted: allowance,
                used: allowanceUsed,
                remaining: allowance - allowanceUsed,
                expiresAt: periodEnd
            )
        ]
        var expiring: Int64 = 0
        for pack in quota.packs where pack.capacity == capacity {
            sources.append(
                QuotaReport.Source(
                    source: "pack",
                    pack: pack.number,
                    addon: pack.addon,
                    granted: pack.amount,
                    used: pack.used,
                    remaining: pack.remaining,
                    expiresAt: pack.expiresAt
                )
            )
            expiring = try Change.sum(expiring, pack.remaining)
        }
        var granted: Int64 = 0
        var used: Int64 = 0
        for source in sources {
            granted = try Change.sum(granted, source.granted)
            used = try Change.sum(used, source.used)
        }
        return QuotaReport(
            capacity: capacity,
            granted: granted,
            used: used,
            remaining: granted - used,
            expiringAtPeriodEnd: expiring,
            overage: quota.overage[capacity],
            periodEnd: periodEnd,
            sources: sources
        )
    }
}
