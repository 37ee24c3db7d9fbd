extension QuoteNote {
    enum CodingKeys: String, CodingKey {
        case kind
        case count
        case capacity
        case name
        case date
        case amount
        case charged
        case zone
        case text
    }
    /// Decodes the data; the text is rendered again, not read.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            in: try container.decodeIfPresent(BillingTimeZone.self, forKey: .zone),
            try container.decode(Kind.self, forKey: .kind),
            count: try container.decodeIfPresent(Int64.self, forKey: .count),
            capacity: try container.decodeIfPresent(CapacityKind.self, forKey: .capacity),
            name: try container.decodeIfPresent(String.self, forKey: .name),
            date: try container.decodeIfPresent(Instant.self, forKey: .date),
            amount: try container.decodeIfPresent(Money.self, forKey: .amount),
            charged: try container.decodeIfPresent(Money.self, forKey: .charged)
        )
    }
    /// Encodes the data and its text.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encodeIfPresent(count, forKey: .count)
        try container.encodeIfPresent(capacity, forKey: .capacity)
        try container.encodeIfPresent(name, forKey: .name)
        try container.encodeIfPresent(date, forKey: .date)
        try container.encodeIfPresent(amount, forKey: .amount)
        try container.encodeIfPresent(charged, forKey: .charged)
        try container.encodeIfPresent(zone, forKey: .zone)
        try container.encode(text, forKey: .text)
    }
}
