public import AddonBilling
import Foundation

/// A subscription cannot be given to an account: it does not exist, or another account owns it.
package enum DirectoryError: Error, CustomStringConvertible {
    case notAssignable(SubscriptionID)

    package var description: String {
        switch self {
        case .notAssignable(let id): "Subscription \"\(id)\" does not exist or belongs to another account."
        }
    }
}

/// The actor column's JSON, shared by both directories.
package enum DirectoryJSON {
    package static func encode(_ actor: BillingActor) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(actor), as: UTF8.self)
    }

    package static func stored(
        id: String,
        hash: String,
        account: String,
        actor: String
    ) throws -> (
        hash: String, grant: TokenGrant
    ) {
        let actor = try JSONDecoder().decode(BillingActor.self, from: Data(actor.utf8))
        return (hash, TokenGrant(id: id, account: try AccountID(account), actor: actor))
    }
}
