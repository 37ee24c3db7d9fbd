import AddonBilling

/// The `demo` command: the seed scenarios, computed by the core and told in words.
enum Demo {
    /// The whole transcript.
    static func transcript() -> String {
        var out = Transcript()
        out.heading("swift-addon-billing demo: the money rules of SaaS add-ons, step by step.")
        do {
            try seedProration(&out)
            try annualProration(&out)
            try dayProrationInNamedZone(&out)
            try monthEnds(&out)
            try rounding(&out)
            try allocation(&out)
            try schedule(&out)
            try refusals(&out)
        } catch {
            out.line("The demo stopped on an unexpected error: \(error.message)")
        }
        return out.text
    }

    /// Seed 003: 2 extra seats at $19 halfway through a monthly cycle.
    static func seedProration(_ out: inout Transcript) throws(BillingError) {
        out.heading("1. Two extra seats halfway through a monthly cycle (seed: \"Add extra team member slots\")")
        let cycle = try BillingCycle(anchor: try instant("2026-04-01T00:00:00Z"), interval: .monthly)
        let at = try instant("2026-04-16T00:00:00Z")
        let price = Money(minorUnits: 1900, currency: .usd)
        let charge = try cycle.prorate(price, quantity: 2, at: at, unit: .second, rounding: .halfEven)
        out.line("Plan cycle: monthly, anchored \(cycle.anchor), in UTC.")
        out.line("Current period: \(charge.period.start) to \(charge.period.end) (\(days(charge.period)) days).")
        out.line("Bought at \(at): \(charge.fraction) of the period remains.")
        out.line("Due today: 2 seats × \(price) × \(charge.fraction) = \(charge.amount).")
        let renewal = try price.multiplied(by: 2)
        out.line("Next renewal on \(charge.period.end): the plan's fee + 2 × \(price) = \(renewal) for the seats.")
        out.line("That is a prorated line now and a full line at renewal, not a double charge.")
    }

    /// Seed 003: on annual plans the seat fee is annualized.
    static func annualProration(_ out: inout Transcript) throws(BillingError) {
        out.heading("2. The same seats on an annual plan (fee annualized, remaining days charged)")
        let cycle = try BillingCycle(anchor: try instant("2026-01-01T00:00:00Z"), interval: .annual)
        let at = try instant("2026-10-01T00:00:00Z")
        let price = Money(minorUnits: 19_000, currency: .usd)
        let charge = try cycle.prorate(price, quantity: 2, at: at, unit: .day, rounding: .halfEven)
        out.line("Annual period \(charge.period.start) to \(charge.period.end); seats cost \(price) a year each.")
        out.line("Bought at \(at): \(charge.fraction) of the year remains (whole days).")
        out.line("Due today: 2 × \(price) × \(charge.fraction) = \(charge.amount).")
    }

    /// Whole-day proration in a named zone across a DST change.
    static func dayProrationInNamedZone(_ out: inout Transcript) throws(BillingError) {
        out.heading("3. Whole-day proration in America/New_York, across the March clock change")
        let zone = try BillingTimeZone(identifier: "America/New_York")
        let cycle = try BillingCycle(
            anchor: try instant("2026-03-01T14:00:00Z"),  // 09:00 EST
            interval: .monthly,
            timeZone: zone
        )
        let at = try instant("2026-03-20T12:00:00Z")
        let price = Money(minorUnits: 5000, currency: .usd)
        let charge = try cycle.prorate(price, quantity: 1, at: at, unit: .day, rounding: .halfUp)
        out.line("The cycle renews at 09:00 New York time: \(charge.period.start) (EST) to \(charge.period.end) (EDT).")
        out.line("A $50.00 connector added at \(at) pays \(charge.fraction) of the month: \(charge.amount).")
    }

    /// Month-end anchors return to the 31st.
    static func monthEnds(_ out: inout Transcript) throws(BillingError) {
        out.heading("4. A cycle anchored on January 31 (month ends)")
        let cycle = try BillingCycle(anchor: try instant("2028-01-31T00:00:00Z"), interval: .monthly)
        var dates: [String] = []
        for index in 0...5 { dates.append(String(try cycle.boundary(Int64(index)).description.prefix(10))) }
        out.line("Renewals: " + dates.joined(separator: ", ") + ".")
        out.line("February is clamped to its last day (29th in the leap year 2028); March returns to the 31st.")
    }

    /// The four rounding rules on one exact amount.
    static func rounding(_ out: inout Transcript) throws(BillingError) {
        out.heading("5. Rounding once per line: $0.25 × 1/2 = $0.125 exactly")
        let amount = Money(minorUnits: 25, currency: .usd)
        let half = try Fraction(1, 2)
        var parts: [String] = []
        for rule in RoundingRule.allRules {
            parts.append("\(rule) \(try amount.scaled(times: half, rounding: rule))")
        }
        out.line(parts.joined(separator: ", ") + ".")
    }

    /// Largest-remainder allocation.
    static func allocation(_ out: inout Transcript) throws(BillingError) {
        out.heading("6. Splitting amounts without losing a cent")
        let amount = Money(minorUnits: 10_000, currency: .usd)
        let even = try amount.allocatedEvenly(into: 3).map(\.description).joined(separator: " + ")
        out.line("\(amount) over 3 members: \(even).")
        let yen = Money(minorUnits: 1900, currency: .jpy)
        let weighted = try yen.allocated(byWeights: [1, 1, 1]).map(\.description).joined(separator: " + ")
        out.line("\(yen) by weights 1:1:1: \(weighted).")
        let dinar = Money(minorUnits: 1250, currency: .kwd)
        let byUse = try dinar.allocated(byWeights: [5, 3, 0]).map(\.description).joined(separator: " + ")
        out.line("\(dinar) by weights 5:3:0: \(byUse).")
    }

    /// A billing schedule with a leading partial item.
    static func schedule(_ out: inout Transcript) throws(BillingError) {
        out.heading("7. A monthly line starting 2011-01-01, billed on the 15th, through 2011-03-01")
        let schedule = try BillingSchedule(
            interval: .monthly,
            billingDay: 15,
            start: try CivilDate(parsing: "2011-01-01")
        )
        for item in try schedule.items(through: try CivilDate(parsing: "2011-03-01")) {
            let kind = item.fraction == .one ? "whole period" : "partial, \(item.fraction) of a period"
            out.line("\(item.start) to \(item.end): \(kind).")
        }
    }

    /// Refusals come back as typed errors with plain messages.
    static func refusals(_ out: inout Transcript) throws(BillingError) {
        out.heading("8. Bad input is refused with a plain message, never a crash")
        let cycle = try BillingCycle(anchor: try instant("2026-04-01T00:00:00Z"), interval: .monthly)
        let price = Money(minorUnits: 1900, currency: .usd)
        refuse(&out) { _ = try cycle.prorate(price, quantity: 0, at: cycle.anchor, unit: .second, rounding: .halfEven) }
        refuse(&out) { _ = try price.adding(Money(minorUnits: 100, currency: .eur)) }
        refuse(&out) { _ = try Money(minorUnits: .max, currency: .usd).multiplied(by: 2) }
        refuse(&out) { _ = try CivilDate(parsing: "2026-02-30") }
        refuse(&out) { _ = try BillingTimeZone(identifier: "Mars/Olympus_Mons") }
    }

    /// Runs an attempt that should be refused and prints the refusal.
    private static func refuse(_ out: inout Transcript, _ attempt: () throws -> Void) {
        do {
            try attempt()
            out.line("(accepted)")
        } catch let error as BillingError {
            out.line("[\(error.code)] \(error.message)")
        } catch {
            out.line("\(error)")
        }
    }

    private static func instant(_ text: String) throws(BillingError) -> Instant { try Instant(parsing: text) }

    private static func days(_ period: BillingPeriod) -> Int64 { period.seconds / 86_400 }
}

/// Text with headings and indented lines.
struct Transcript {
    private(set) var text = ""

    mutating func heading(_ title: String) { text += "\n" + title + "\n" }

    mutating func line(_ line: String) { text += "   " + line + "\n" }
}
