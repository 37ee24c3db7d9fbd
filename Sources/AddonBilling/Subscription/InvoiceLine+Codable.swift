extension InvoiceLine {
    enum CodingKeys: String, CodingKey {
        case kind
        case addon
        case name
        case units
        case capacity
        case description
        case quantity
        case unitPrice
        case span
        case fraction
        case amount
        case prorated
        case discount
        case tax
        case total
    }
    /// Decodes the documented shape, refusing an amount that is not
    /// `unitPrice × quantity × fraction` rounded by some rule.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.kind = try container.decode(Kind.self, forKey: .kind)
        self.addon = try container.decodeIfPresent(AddonCode.self, forKey: .addon)
        self.name = try container.decode(String.self, forKey: .name)
        if let units = try container.decodeIfPresent(Int64.self, forKey: .units),
            let capacity = try container.decodeIfPresent(CapacityKind.self, forKey: .capacity)
        {
            self.grants = (units, capacity)
        } else {
            self.grants = nil
        }
        self.quantity = try container.decode(Int64.self, forKey: .quantity)
        self.unitPrice = try container.decode(Money.self, forKey: .unitPrice)
        self.span = try container.decode(BillingPeriod.self, forKey: .span)
        self.fraction = try container.decode(Fraction.self, forKey: .fraction)
        self.amount = try container.decode(Money.self, forKey: .amount)
        self.prorated = fraction != .one
        let (down, up) = (
            try? unitPrice.scaled(by: quantity, times: fraction, rounding: .down),
            try? unitPrice.scaled(by: quantity, times: fraction, rounding: .up)
        )
        self.discount = try container.decodeIfPresent(DiscountAmount.self, forKey: .discount)
        self.tax = try container.decodeIfPresent(TaxAmount.self, forKey: .tax)
        var total = amount
        if let discount {
            guard discount.amount.minorUnits >= 0, discount.amount.minorUnits <= max(amount.minorUnits, 0),
                let less = try? total.subtracting(discount.amount)
            else { throw Self.corrupt(decoder, "The line's discount \(discount.amount) exceeds its amount \(amount).") }
            total = less
        }
        if let tax, !tax.rate.inclusive {
            guard let more = try? total.adding(tax.amount) else {
                throw Self.corrupt(decoder, "The line's tax \(tax.amount) does not fit its total.")
            }
            total = more
        }
        self.total = total
        if let stated = try container.decodeIfPresent(Money.self, forKey: .total), stated != total {
            throw Self.corrupt(decoder, "The line's total \(stated) is not amount − discount + tax (\(total)).")
        }
        guard amount == down || amount == up else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "The line's amount \(amount) is not \(unitPrice) × \(quantity) × \(fraction)."
                )
            )
        }
    }
    private static func corrupt(_ decoder: any Decoder, _ message: String) -> DecodingError {
        DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: message))
    }

    /// Encodes the documented shape.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encodeIfPresent(addon, forKey: .addon)
        try container.encode(name, forKey: .name)
        try container.encodeIfPresent(grants?.units, forKey: .units)
        try container.encodeIfPresent(grants?.capacity, forKey: .capacity)
        try container.encode(description, forKey: .description)
        try container.encode(quantity, forKey: .quantity)
        try container.encode(unitPrice, forKey: .unitPrice)
        try container.encode(span, forKey: .span)
        try container.encode(fraction, forKey: .fraction)
        try container.encode(amount, forKey: .amount)
        try container.encode(prorated, forKey: .prorated)
        guard discount != nil || tax != nil else { return }
        try container.encodeIfPresent(discount, forKey: .discount)
        try container.encodeIfPresent(tax, forKey: .tax)
        try container.encode(total, forKey: .total)
    }
}
