extension CapacityUsage.Agents {
    enum CodingKeys: String, CodingKey {
        case active
        case archived
        case deleted
    }
    /// Decodes the documented shape; absent counts are zero.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            active: try container.decodeIfPresent(Int64.self, forKey: .active) ?? 0,
            archived: try container.decodeIfPresent(Int64.self, forKey: .archived) ?? 0,
            deleted: try container.decodeIfPresent(Int64.self, forKey: .deleted) ?? 0
        )
    }
}
