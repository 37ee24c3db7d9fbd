extension CapacityUsage {
    enum CodingKeys: String, CodingKey {
        case seats
        case agents
        case other
    }
    /// Decodes the documented shape; absent fields are zero.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            seats: try container.decodeIfPresent(CapacityUsage.Seats.self, forKey: .seats) ?? .init(activeMembers: 0),
            agents: try container.decodeIfPresent(CapacityUsage.Agents.self, forKey: .agents) ?? .init(active: 0),
            other: try container.decodeIfPresent(Capacities.self, forKey: .other) ?? .none
        )
        try decoder.validating { () throws(BillingError) in try validate() }
    }
}
