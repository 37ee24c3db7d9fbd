extension BillingActor {
    enum CodingKeys: String, CodingKey {
        case id
        case role
        case permissions
    }
    /// Decodes `{"id", "role", "permissions"?}`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try container.decode(BillingActor.ID.self, forKey: .id),
            role: try container.decode(BillingActor.Role.self, forKey: .role),
            permissions: try container.decodeIfPresent(Set<BillingActor.Permission>.self, forKey: .permissions)
        )
    }
    /// Encodes `{"id", "role"}`, with `"permissions"` (sorted) only when they differ from the role's.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(role, forKey: .role)
        if permissions != role.defaultPermissions {
            try container.encode(permissions.map(\.rawValue).sorted(), forKey: .permissions)
        }
    }
}
