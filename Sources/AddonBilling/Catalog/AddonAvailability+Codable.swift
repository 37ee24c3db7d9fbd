extension AddonOffer.Availability {
    enum CodingKeys: String, CodingKey {
        case type
        case reason
    }
    /// Decodes the tagged object form.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "selfServe": self = .selfServe
        case "unavailable": self = .unavailable(reason: try container.decode(String.self, forKey: .reason))
        case "contractManaged": self = .contractManaged
        case "requiresTeamPlan": self = .requiresTeamPlan
        default:
            self = try decoder.validating { () throws(BillingError) in
                throw BillingError.unknownName(
                    type,
                    of: "availability",
                    accepted: ["selfServe", "unavailable", "contractManaged", "requiresTeamPlan"]
                )
            }
        }
    }
    /// Encodes the tagged object form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .selfServe:
            try container.encode("selfServe", forKey: .type)
        case .unavailable(let reason):
            try container.encode("unavailable", forKey: .type)
            try container.encode(reason, forKey: .reason)
        case .contractManaged:
            try container.encode("contractManaged", forKey: .type)
        case .requiresTeamPlan:
            try container.encode("requiresTeamPlan", forKey: .type)
        }
    }
}
