/// A change a person asks for on a subscription's add-ons.
///
/// An open vocabulary of operations, built with the static functions below.
///
/// ## JSON
///
/// `{"type": "addSlots", "addon": "extra_seats", "quantity": 2}`; `type` is one of
/// `addSlots`, `removeSlots`, `removeAddon`, `withdrawRemoval`, `addFeature`,
/// `cancelAddon`, `setAutoRenew` (with `"autoRenew": true|false`), `buyPack`.
/// `quantity` is for the slot operations and `buyPack` (default 1).
public struct AddonOperation: Sendable, Hashable, Codable, CustomStringConvertible {
    enum Kind: String, CaseIterable {
        case addSlots
        case removeSlots
        case removeAddon
        case withdrawRemoval
        case addFeature
        case cancelAddon
        case setAutoRenew
        case buyPack
    }

    let kind: Kind
    /// The add-on the operation is about.
    public let addon: AddonCode
    /// How many slots (``addSlots(_:quantity:)``, ``removeSlots(_:quantity:)``) or packs
    /// (``buyPack(_:quantity:)``); 1 otherwise.
    public let quantity: Int64
    /// The switch's new position, for ``setAutoRenew(_:to:)``.
    public let autoRenew: Bool?

    init(_ kind: Kind, _ addon: AddonCode, quantity: Int64 = 1, autoRenew: Bool? = nil) {
        self.kind = kind
        self.addon = addon
        self.quantity = quantity
        self.autoRenew = autoRenew
    }

    /// Buy `quantity` more slots of a recurring-slots add-on, prorated for the rest of the period.
    public static func addSlots(_ addon: AddonCode, quantity: Int64) -> AddonOperation {
        AddonOperation(.addSlots, addon, quantity: quantity)
    }

    /// Remove `quantity` extra slots, refund-free; the price drops from the next billing date.
    public static func removeSlots(_ addon: AddonCode, quantity: Int64) -> AddonOperation {
        AddonOperation(.removeSlots, addon, quantity: quantity)
    }

    /// Remove an add-on entirely, under the same rules as removing slots.
    public static func removeAddon(_ addon: AddonCode) -> AddonOperation { AddonOperation(.removeAddon, addon) }

    /// Withdraw a scheduled removal of slots, free of charge.
    public static func withdrawRemoval(_ addon: AddonCode) -> AddonOperation { AddonOperation(.withdrawRemoval, addon) }

    /// Buy a recurring feature (a connector, SLA support), prorated; auto-renew starts on.
    public static func addFeature(_ addon: AddonCode) -> AddonOperation { AddonOperation(.addFeature, addon) }

    /// Cancel a recurring add-on: it serves out the period and ends, without refund.
    public static func cancelAddon(_ addon: AddonCode) -> AddonOperation { AddonOperation(.cancelAddon, addon) }

    /// Buy `quantity` one-time packs at full price: capacity for the current period only.
    public static func buyPack(_ addon: AddonCode, quantity: Int64 = 1) -> AddonOperation {
        AddonOperation(.buyPack, addon, quantity: quantity)
    }

    /// Turn a recurring add-on's auto-renew switch on or off.
    public static func setAutoRenew(_ addon: AddonCode, to autoRenew: Bool) -> AddonOperation {
        AddonOperation(.setAutoRenew, addon, autoRenew: autoRenew)
    }

    /// The operation's wire name, for example `"addSlots"`.
    public var name: String { kind.rawValue }

    /// For example `addSlots extra_seats × 2`.
    public var description: String {
        switch kind {
        case .addSlots, .removeSlots, .buyPack: "\(name) \(addon) × \(quantity)"
        case .setAutoRenew: "\(name) \(addon) \(autoRenew == true ? "on" : "off")"
        default: "\(name) \(addon)"
        }
    }
}
