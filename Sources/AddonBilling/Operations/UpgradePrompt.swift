/// A prompt the product shows to sell more capacity or a better plan.
///
/// ## JSON
///
/// `{"kind": "buyMoreSeats", "title": "Buy more seats", "addon": "extra_seats", "message": "..."}`.
public struct UpgradePrompt: Sendable, Hashable, Codable {
    /// Which prompt.
    public struct Kind: StringValue {
        /// The kind's wire name.
        public let rawValue: String
        /// Creates a kind; an open vocabulary.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The seat total is fully used; links to the seat add-on.
        public static let buyMoreSeats: Kind = "buyMoreSeats"
        /// The plan has no team option at all; move to a plan with teams.
        public static let upgradeToUseTeam: Kind = "upgradeToUseTeam"
    }

    /// Which prompt.
    public let kind: Kind
    /// The button's title, as the product shows it.
    public let title: String
    /// The add-on the prompt links to, if any.
    public let addon: AddonCode?
    /// A sentence explaining why the prompt appears.
    public let message: String
}

extension Subscription {
    /// The upgrade prompts to show, given what the organization uses.
    ///
    /// "Buy more seats" appears when every seat is used and the plan sells extra
    /// seats; "Upgrade to use team" appears when the plan has no team option.
    ///
    /// - Throws: ``BillingError/Code/overflow``.
    public func upgradePrompts(usage: CapacityUsage) throws(BillingError) -> [UpgradePrompt] {
        var prompts: [UpgradePrompt] = []
        if !plan.hasTeams {
            prompts.append(
                UpgradePrompt(
                    kind: .upgradeToUseTeam,
                    title: "Upgrade to use team",
                    addon: nil,
                    message: "Your current plan has no team option; move to a plan that includes teams first."
                )
            )
        }
        let seats = try capacity(.seats)
        if usage.seats.used >= seats,
            let offer = plan.addons.first(where: { $0.kind == .recurringSlots(.seats) && $0.availability == .selfServe }
            )
        {
            prompts.append(
                UpgradePrompt(
                    kind: .buyMoreSeats,
                    title: "Buy more seats",
                    addon: offer.code,
                    message: "All \(seats) seats are in use (members and pending invitations); buy extra seats "
                        + "to invite more people."
                )
            )
        }
        return prompts
    }
}
