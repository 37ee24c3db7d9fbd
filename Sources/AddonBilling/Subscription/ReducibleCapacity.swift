/// How many extra slots of an add-on a removal may take, and why not more.
///
/// Seed 003: "The quantity stepper shows the maximum reducible amount (= total seats
/// − used seats)". The total is the capacity from the next billing date (plan slots
/// plus every add-on's continuing slots); only the add-on's own extra slots can go, so
/// the maximum is `min(extra, total − used)`, and never below zero.
///
/// ## JSON
///
/// `{"addon": "extra_seats", "capacity": "seats", "total": 8, "used": 7, "extra": 3,
/// "scheduledToLeave": 0, "maximum": 1, "isLimitedByUsage": true}`.
public struct ReducibleCapacity: Sendable, Hashable, Codable {
    /// The add-on whose slots would be removed.
    public let addon: AddonCode
    /// The capacity it adds to.
    public let capacity: CapacityKind
    /// The capacity from the next billing date: the plan's plus every line's continuing slots.
    public let total: Int64
    /// What is in use: for seats, active members plus pending invitations; for agent
    /// slots, agents that are not archived or deleted.
    public let used: Int64
    /// The add-on's extra slots that continue past the period, and so may be removed.
    public let extra: Int64
    /// Slots of the add-on already scheduled to leave at the next billing date.
    public let scheduledToLeave: Int64

    /// The most slots a removal may take now: `min(extra, total − used)`, at least 0.
    public var maximum: Int64 { Swift.max(0, Swift.min(extra, total - used)) }

    /// Whether slots in use, rather than the extra slots bought, hold ``maximum`` where it
    /// is: then members must be removed (or agents archived) before more slots can go.
    public var isLimitedByUsage: Bool { total - used < extra }

    init(addon: AddonCode, capacity: CapacityKind, total: Int64, used: Int64, extra: Int64, scheduledToLeave: Int64) {
        self.addon = addon
        self.capacity = capacity
        self.total = total
        self.used = used
        self.extra = extra
        self.scheduledToLeave = scheduledToLeave
    }
}
