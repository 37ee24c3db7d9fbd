import AddonBilling
import AddonBillingPostgres
import Foundation
import PostgresNIO
import StoreTestSupport

// A client process for the server package's tests: it buys seats through AddonService on a
// shared PostgreSQL store and a shared ledger gateway, printing "ok <index>" after each
// purchase, until it is done or killed.
//
//     addon-billing-store-client <postgres-url> <schema> <key-prefix> <count> <subscription,...>
let arguments = CommandLine.arguments
guard arguments.count == 6, let count = Int(arguments[4]) else {
    FileHandle.standardError.write(
        Data("usage: addon-billing-store-client <url> <schema> <prefix> <count> <ids>\n".utf8)
    )
    exit(2)
}
let configuration = try PostgresTestServer.configuration(arguments[1])
let schema = arguments[2]
let prefix = arguments[3]
let ids = arguments[5].split(separator: ",").map { SubscriptionID(rawValue: String($0)) }
let database = try PostgresBillingDatabase(configuration: configuration, schema: schema)
let client = database.client

/// Writes a line unbuffered, so every acknowledgement reaches the pipe before a kill.
func report(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

await withThrowingTaskGroup(of: Void.self) { group in
    group.addTask { await client.run() }
    group.addTask {
        let store = database.store
        let gateway = PostgresLedgerGateway(client: client, schema: schema, declinePercent: 10)
        let service = AddonService(
            store: store,
            gateway: gateway,
            clock: BillingClock { Instant(secondsSinceEpoch: Int64(Date().timeIntervalSince1970)) }
        )
        for index in 0..<count {
            let id = ids[index % ids.count]
            // A host retries the same key after a connection error; the key makes it safe.
            for attempt in 1...5 {
                do {
                    _ = try await service.apply(
                        .addSlots("extra_seats", quantity: 1),
                        on: id,
                        by: BillingActor(id: "client", role: .owner),
                        idempotencyKey: IdempotencyKey("\(prefix)-\(index)")
                    )
                    report("ok \(index)")
                    break
                } catch let error as BillingError {
                    report("refused \(index) \(error.code)")
                    break
                } catch {
                    // The error's type and text, for the test to show (test URLs carry no password).
                    report(
                        "retry \(index) after attempt \(attempt): \(type(of: error)): \(String(describing: error).prefix(300))"
                    )
                    try await Task.sleep(nanoseconds: 300_000_000)
                }
            }
        }
        exit(0)
    }
    try? await group.next()
}
