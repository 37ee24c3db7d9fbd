extension CapacityUsage.Seats {
    enum CodingKeys: String, CodingKey {
        case activeMembers
        case pendingInvitations
    }
    /// Decodes the documented shape; absent counts are zero.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            activeMembers: try container.decodeIfPresent(Int64.self, forKey: .activeMembers) ?? 0,
            pendingInvitations: try container.decodeIfPresent(Int64.self, forKey: .pendingInvitations) ?? 0
        )
    }
}
