import AddonBilling
import AddonBillingServer
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus

// The billing server.
//
//     addon-billing-server                      serve (SQLite in ./addon-billing.sqlite by default)
//     addon-billing-server token create <account> <actor> <role>
//     addon-billing-server token revoke <account> <token-id>
//
// Settings come from environment variables (see ServerConfiguration); DATABASE_URL
// switches to PostgreSQL. SIGTERM and SIGINT shut down gracefully.

let usage = """
    usage: addon-billing-server
           addon-billing-server token create <account> <actor> <owner|admin|member|viewer|accountManager>
           addon-billing-server token revoke <account> <token-id>

    """

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(2)
}

let arguments = Array(CommandLine.arguments.dropFirst())
var configuration: ServerConfiguration
do {
    configuration = try ServerConfiguration(environment: ProcessInfo.processInfo.environment)
} catch {
    fail("\(error)")
}
var logger = Logger(label: "addon-billing.server")
logger.logLevel = .info

switch arguments.first {
case nil, "serve":
    let paymentNote =
        configuration.stripeSecretKey == nil
        ? "No payment provider is configured: the demo gateway captures every charge and moves no money."
        : "Charges go to Stripe: link a customer with PUT /v1/subscriptions/sub_acme_starter/customer."
    let assembly: BillingServer.Assembly
    do {
        assembly = try BillingServer.assemble(configuration, logger: logger) { token in
            // Written unbuffered, so that it shows before the server's log lines.
            FileHandle.standardOutput.write(
                Data(
                    """
                    Demo account "acme" with subscription sub_acme_starter (Starter, $19 a month, 2 seats).
                    Its owner's API token (shown once; only its SHA-256 is stored):

                        \(token)

                    \(paymentNote)

                    """.utf8
                )
            )
        }
    } catch {
        fail("addon-billing-server cannot start: \(BillingServer.startupFailure(error))")
    }
    // Hummingbird's request metrics join the business counters in one registry.
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: assembly.metrics.registry))
    do {
        try await assembly.run()
    } catch {
        // One line for the operator (an unreachable or read-only database, a port in use), never a backtrace.
        fail("addon-billing-server stopped: \(BillingServer.startupFailure(error))")
    }
case "token":
    let rest = Array(arguments.dropFirst())
    // Nil: the arguments were not a token command.
    let output: String?
    do {
        output = try await BillingServer.withDirectory(configuration, logger: logger) { directory in
            if rest.count == 4, rest[0] == "create" {
                let role = BillingActor.Role(rawValue: rest[3])
                guard [BillingActor.Role.owner, .admin, .member, .viewer, .accountManager].contains(role) else {
                    return nil
                }
                let actor = BillingActor(id: BillingActor.ID(rawValue: rest[2]), role: role)
                let (token, grant) = try await directory.createToken(for: try AccountID(rest[1]), actor: actor)
                return "\(grant.id) \(token)"
            }
            if rest.count == 3, rest[0] == "revoke" {
                guard try await directory.revokeToken(id: rest[2], of: try AccountID(rest[1])) else {
                    fail("No live token \(rest[2]) in account \(rest[1]).")
                }
                return "revoked \(rest[2])"
            }
            return nil
        }
    } catch let error as BillingError {
        // A malformed account or actor name: its message, not a backtrace.
        fail(error.message)
    } catch {
        fail("addon-billing-server token: \(BillingServer.startupFailure(error))")
    }
    guard let output else { fail(usage) }
    print(output)
default:
    fail(usage)
}
