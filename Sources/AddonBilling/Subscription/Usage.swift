extension CapacityUsage {
    /// How many seats are in use: active members plus pending invitations.
    ///
    /// ## JSON
    ///
    /// `{"activeMembers": 4, "pendingInvitations": 1}`.
    public struct Seats: Sendable, Hashable, Codable {
        /// Members who have joined.
        public var activeMembers: Int64
        /// Invitations sent and not yet accepted; each holds a seat.
        public var pendingInvitations: Int64

        /// Creates seat usage.
        public init(activeMembers: Int64, pendingInvitations: Int64 = 0) {
            self.activeMembers = activeMembers
            self.pendingInvitations = pendingInvitations
        }

        /// Seats in use (saturating at `Int64.max`).
        public var used: Int64 {
            let (sum, overflow) = activeMembers.addingReportingOverflow(pendingInvitations)
            return overflow ? (activeMembers < 0 ? .min : .max) : sum
        }
    }
}

extension CapacityUsage {
    /// How many agent slots are in use: agents that are neither archived nor deleted.
    ///
    /// ## JSON
    ///
    /// `{"active": 3, "archived": 2, "deleted": 1}`.
    public struct Agents: Sendable, Hashable, Codable {
        /// Agents in service.
        public var active: Int64
        /// Archived agents; they hold no slot.
        public var archived: Int64
        /// Deleted agents; they hold no slot.
        public var deleted: Int64

        /// Creates agent usage.
        public init(active: Int64, archived: Int64 = 0, deleted: Int64 = 0) {
            self.active = active
            self.archived = archived
            self.deleted = deleted
        }

        /// Slots in use: active agents only.
        public var used: Int64 { active }
    }
}

/// What an organization uses of each capacity, as the host counts it now.
///
/// ## JSON
///
/// `{"seats": {"activeMembers": 4, "pendingInvitations": 1}, "agents": {"active": 3}, "other": {"knowledgeStorage": 120}}`;
/// every field may be left out (zero).
public struct CapacityUsage: Sendable, Hashable, Codable {
    /// Seats in use.
    public var seats: CapacityUsage.Seats
    /// Agent slots in use.
    public var agents: CapacityUsage.Agents
    /// Usage of any other capacity kind.
    public var other: Capacities

    /// Creates usage; everything defaults to zero.
    public init(
        seats: CapacityUsage.Seats = .init(activeMembers: 0),
        agents: CapacityUsage.Agents = .init(active: 0),
        other: Capacities = .none
    ) {
        self.seats = seats
        self.agents = agents
        self.other = other
    }

    /// Nothing in use: a deliberate statement that every slot is free (a reduction needs
    /// the usage; there is no default).
    public static let nothingInUse = CapacityUsage()

    /// How much of `kind` is in use.
    public func used(_ kind: CapacityKind) -> Int64 {
        switch kind {
        case .seats: seats.used
        case .agentSlots: agents.used
        default: other[kind]
        }
    }

    /// Throws unless every count is zero or more.
    func validate() throws(BillingError) {
        if seats.activeMembers < 0 { throw BillingError.negativeUsage("active members", seats.activeMembers) }
        if seats.pendingInvitations < 0 {
            throw BillingError.negativeUsage("pending invitations", seats.pendingInvitations)
        }
        if agents.active < 0 { throw BillingError.negativeUsage("active agents", agents.active) }
        if agents.archived < 0 { throw BillingError.negativeUsage("archived agents", agents.archived) }
        if agents.deleted < 0 { throw BillingError.negativeUsage("deleted agents", agents.deleted) }
        let (_, overflow) = seats.activeMembers.addingReportingOverflow(seats.pendingInvitations)
        if overflow { throw BillingError.moneyOverflow("counting seats in use") }
    }
}
