import Foundation

/// The same quotes written the way teams usually write them by hand: Foundation
/// `Calendar` for the period, `Decimal` for the money, rounded with `NSDecimalRound`.
enum Baseline {
    struct Subscription: @unchecked Sendable {
        var anchor: Date
        var planPrice: Decimal
        var seatPrice: Decimal
        var lines: [(price: Decimal, quantity: Int)]
    }

    struct Quote {
        var pricePerSlot: Decimal
        var quantity: Int
        var dueNow: Decimal
        var newRecurringTotal: Decimal
        var nextRenewalTotal: Decimal
        var effectiveDate: Date
        var nextBillingDate: Date
    }

    static func calendar() -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }

    /// The period containing `at`: count months from the anchor, step back if past.
    static func period(anchor: Date, at: Date, calendar: Calendar) -> (start: Date, end: Date) {
        var months = calendar.dateComponents([.month], from: anchor, to: at).month ?? 0
        var start = calendar.date(byAdding: .month, value: months, to: anchor)!
        if start > at {
            months -= 1
            start = calendar.date(byAdding: .month, value: months, to: anchor)!
        }
        let end = calendar.date(byAdding: .month, value: months + 1, to: anchor)!
        return (start, end)
    }

    static func prorate(anchor: Date, at: Date, unitPrice: Decimal, quantity: Int) -> Decimal {
        let calendar = calendar()
        let (start, end) = period(anchor: anchor, at: at, calendar: calendar)
        let remaining = Decimal(end.timeIntervalSince(at)) / Decimal(end.timeIntervalSince(start))
        var amount = unitPrice * Decimal(quantity) * remaining
        var rounded = Decimal()
        NSDecimalRound(&rounded, &amount, 2, .bankers)
        return rounded
    }

    static func addSlotsQuote(_ subscription: Subscription, adding quantity: Int, at: Date) -> Quote {
        let calendar = calendar()
        let (_, end) = period(anchor: subscription.anchor, at: at, calendar: calendar)
        let dueNow = prorate(anchor: subscription.anchor, at: at, unitPrice: subscription.seatPrice, quantity: quantity)
        var lines = subscription.lines
        lines[0].quantity += quantity
        let recurring = lines[0].price * Decimal(lines[0].quantity)
        var total = subscription.planPrice
        for line in lines { total += line.price * Decimal(line.quantity) }
        return Quote(
            pricePerSlot: subscription.seatPrice,
            quantity: quantity,
            dueNow: dueNow,
            newRecurringTotal: recurring,
            nextRenewalTotal: total,
            effectiveDate: at,
            nextBillingDate: end
        )
    }
}
