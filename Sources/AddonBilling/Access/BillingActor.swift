extension BillingActor {
    /// A permission a person needs for a billing action.
    ///
    /// An open vocabulary, named as the seed pages name them.
    public struct Permission: StringValue {
        /// The permission's name, for example `"billing.update"`.
        public let rawValue: String
        /// A permission by its name, as the host's access system spells it.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// See active add-ons, quotas and invoices.
        public static let billingRead: BillingActor.Permission = "billing.read"
        /// Purchase, cancel and configure add-ons.
        public static let billingUpdate: BillingActor.Permission = "billing.update"
        /// Link the subscription to the payment provider's customer whose card pays it.
        public static let paymentDetailsUpdate: BillingActor.Permission = "billing.paymentDetails"
        /// Amend the seats of a contract-managed plan (seed 004: "through the account manager").
        public static let contractAmend: BillingActor.Permission = "billing.contracts"
    }
}

extension BillingActor {
    /// A person's role in the organization, which grants permissions.
    ///
    /// | role | permissions | owner-only add-ons |
    /// |---|---|---|
    /// | ``owner`` | billing.read, billing.update, billing.paymentDetails | yes |
    /// | ``admin`` | billing.read, billing.update, billing.paymentDetails | no |
    /// | ``billingManager`` | billing.read, billing.update | no |
    /// | ``viewer`` | billing.read | no |
    /// | ``member`` | none | no |
    /// | ``accountManager`` | billing.read, billing.contracts | no |
    ///
    /// A custom role grants nothing by itself; give the ``BillingActor`` its permissions.
    public struct Role: StringValue {
        /// The role's name, for example `"owner"`.
        public let rawValue: String
        /// A role by its name; a custom role grants no permission by itself.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The organization owner: every permission, and owner-only add-ons.
        public static let owner: BillingActor.Role = "owner"
        /// An administrator: reads and changes billing.
        public static let admin: BillingActor.Role = "admin"
        /// A billing manager: reads and changes billing.
        public static let billingManager: BillingActor.Role = "billingManager"
        /// A viewer: reads billing.
        public static let viewer: BillingActor.Role = "viewer"
        /// A member: no billing permissions.
        public static let member: BillingActor.Role = "member"
        /// The vendor's account manager of a contract-managed plan: reads billing and amends the
        /// contract's seats; buys nothing self-serve.
        public static let accountManager: BillingActor.Role = "accountManager"

        /// The permissions the role grants by default.
        public var defaultPermissions: Set<BillingActor.Permission> {
            switch self {
            case .owner, .admin: [.billingRead, .billingUpdate, .paymentDetailsUpdate]
            case .billingManager: [.billingRead, .billingUpdate]
            case .viewer: [.billingRead]
            case .accountManager: [.billingRead, .contractAmend]
            default: []
            }
        }
    }
}

/// Who asks for a billing operation.
///
/// ## JSON
///
/// `{"id": "user_1", "role": "owner"}`; an optional `"permissions": ["billing.read"]`
/// replaces the role's default permissions.
public struct BillingActor: Sendable, Hashable, Codable {
    /// The person's identifier in the host's system.
    public let id: BillingActor.ID
    /// The person's role.
    public let role: BillingActor.Role
    /// What the person may do.
    public let permissions: Set<BillingActor.Permission>
    /// Whether ``permissions`` holds billing.read and billing.update, read once (no hashing on hot paths).
    private let canRead: Bool
    private let canUpdate: Bool

    /// Creates an actor with the role's default permissions, or explicit ones.
    public init(id: BillingActor.ID, role: BillingActor.Role, permissions: Set<BillingActor.Permission>? = nil) {
        self.id = id
        self.role = role
        let granted = permissions ?? role.defaultPermissions
        self.permissions = granted
        self.canRead = granted.contains(.billingRead)
        self.canUpdate = granted.contains(.billingUpdate)
    }

    /// Whether the actor is the organization owner, who alone may change owner-only add-ons.
    public var isOwner: Bool { role == .owner }

    /// Throws unless the actor holds `permission`.
    ///
    /// - Throws: ``BillingError/Code/permissionDenied``.
    public func require(_ permission: BillingActor.Permission) throws(BillingError) {
        let granted =
            switch permission {
            case .billingRead: canRead
            case .billingUpdate: canUpdate
            default: permissions.contains(permission)
            }
        guard granted else {
            let action =
                switch permission {
                case .billingRead: "see add-ons and quotas"
                case .paymentDetailsUpdate: "change the payment details"
                default: "purchase, change or cancel add-ons"
                }
            throw BillingError.permissionDenied(permission, action: action)
        }
    }
}
