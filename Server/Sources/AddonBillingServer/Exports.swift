// The account directory and the Stripe ledger live beside the stores (one storage shape per
// database); a host of the server uses them through this module.
@_exported public import AddonBillingAccounts
