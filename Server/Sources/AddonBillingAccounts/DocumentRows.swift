public import AddonBilling

/// A row of the `documents` table as both databases keep it: the number a request's document of a
/// kind took, and the document as issued (JSON), which rows numbered before documents were stored
/// lack.
package struct DocumentRow: Sendable {
    package let kind: String
    package let number: Int64
    package let body: String?

    package init(kind: String, number: Int64, body: String?) {
        self.kind = kind
        self.number = number
        self.body = body
    }
}

/// The one algorithm by which the SQLite and PostgreSQL directories issue a request's documents.
package enum DocumentRows {
    /// The documents a request has already, when every one of its rows holds its document;
    /// `decode` reads a row's JSON (the store's own decoder).
    package static func issued(
        _ rows: [DocumentRow],
        decode: (String) throws -> BillingDocument
    ) throws -> [BillingDocument]? {
        guard !rows.isEmpty else { return nil }
        var documents: [BillingDocument] = []
        for row in rows {
            guard let body = row.body else { return nil }
            documents.append(try decode(body))
        }
        return documents
    }

    /// The number a draft keeps from a row numbered before documents were stored (an upgrade's
    /// request asked for again), if there is one.
    package static func earlierNumber(of draft: BillingDocument, in rows: [DocumentRow]) -> Int64? {
        rows.first { $0.kind == draft.kind.rawValue }?.number
    }

    /// A draft numbered in the account's sequence.
    package static func numbered(_ draft: BillingDocument, _ number: Int64, account: AccountID) -> BillingDocument {
        draft.numbered(BillingDocument.number(number, account: account.rawValue))
    }
}
