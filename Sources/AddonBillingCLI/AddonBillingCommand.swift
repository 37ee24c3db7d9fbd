import AddonBilling
import AddonBillingJSON
public import Foundation

/// The `addon-billing` command line: a demo, and JSON commands over standard input.
///
/// Each JSON command reads one request object and prints one JSON result on a
/// line. A refused request prints `{"error": {"code", "message"}}` and exits 1;
/// malformed JSON — or a request past ``JSONRequestLimits`` (over 1 MiB, nested over
/// 64 levels, a key repeated in one object) — exits 2 with the same shape and code
/// `malformedRequest`; an unknown command prints the usage to standard error and exits 2.
public enum AddonBillingCommand {
    /// What a run printed and how it ended.
    public struct CommandResult: Sendable, Hashable {
        /// Bytes for standard output.
        public var output: Data
        /// Bytes for standard error.
        public var diagnostics: Data
        /// The process exit status: 0 success, 1 refused, 2 malformed or unknown.
        public var exitCode: Int32
    }

    /// The JSON commands, each a request type and what it answers.
    static let jsonCommands: [String: @Sendable (Data) throws -> Data] = [
        "prorate": { try answer(ProrationRequest.self, $0) { request throws(BillingError) in try request.evaluate() } },
        "schedule": { try answer(ScheduleRequest.self, $0) { request throws(BillingError) in try request.evaluate() } },
        "quote": { try answer(OperationRequest.self, $0) { request throws(BillingError) in try request.quote() } },
        "apply": { try answer(OperationRequest.self, $0) { request throws(BillingError) in try request.apply() } },
        "renew": { try answer(RenewalRequest.self, $0) { request throws(BillingError) in try request.renew() } },
        "preview": { try answer(PreviewRequest.self, $0) { request throws(BillingError) in try request.preview() } },
        "consume": { try answer(UsageRequest.self, $0) { request throws(BillingError) in try request.record() } },
        "quota": { try answer(QuotaRequest.self, $0) { request throws(BillingError) in try request.answer() } },
        "advice": { try answer(AdviceRequest.self, $0) { request throws(BillingError) in try request.answer() } },
    ]

    /// The usage text.
    public static let usage = """
        USAGE: addon-billing <command>

        COMMANDS:
          demo       Walk through the seed scenarios and print what happens, in words.
          prorate    Read a proration request (JSON) on standard input; print the charge.
          schedule   Read a billing schedule request (JSON) on standard input; print its items.
          quote      Read an operation on a subscription (JSON); print what it would charge and change.
          apply      Read an operation on a subscription (JSON); print the new subscription and the charge.
          renew      Read a subscription and an instant (JSON); print each period's invoice and the result.
          preview    Read a subscription (JSON); print the next invoice and this period's prorated charges.
          consume    Record usage of a capacity (JSON); print where it was drawn from and any auto-recharge.
          quota      Read a subscription and a capacity (JSON); print the quota report and projection.
          advice     Read a subscription and a catalog (JSON); print add-ons against higher tiers.
          help       Show this text.

        See Docs/JSONCommands.md for the request and response shapes.

        """

    /// Whether the command named by `arguments` reads standard input.
    public static func readsInput(_ arguments: [String]) -> Bool {
        arguments.first.map { jsonCommands[$0] != nil } ?? false
    }

    /// Runs a command line.
    ///
    /// - Parameters:
    ///   - arguments: The arguments after the program name.
    ///   - input: Standard input, for the JSON commands.
    /// - Returns: What to print and the exit status.
    public static func run(_ arguments: [String], input: Data) async -> CommandResult {
        guard arguments.count == 1, let command = arguments.first else {
            return CommandResult(output: Data(), diagnostics: Data(usage.utf8), exitCode: 2)
        }
        switch command {
        case "demo":
            return CommandResult(output: Data(await Demo.transcript().utf8), diagnostics: Data(), exitCode: 0)
        case "help", "--help", "-h":
            return CommandResult(output: Data(usage.utf8), diagnostics: Data(), exitCode: 0)
        default:
            return answer(command, input: input)
        }
    }

    /// Runs one JSON command on its input, synchronously.
    ///
    /// - Parameters:
    ///   - command: The command's name, for example `"prorate"`.
    ///   - input: The JSON request.
    /// - Returns: What to print and the exit status; an unknown command exits 2.
    public static func answer(_ command: String, input: Data) -> CommandResult {
        guard let handler = jsonCommands[command] else {
            let message = "Unknown command \"\(command)\".\n\n" + usage
            return CommandResult(output: Data(), diagnostics: Data(message.utf8), exitCode: 2)
        }
        do {
            try JSONRequestLimits.check(input)
        } catch {
            return failure(error, exitCode: 2)
        }
        do {
            return CommandResult(output: try handler(input) + Data("\n".utf8), diagnostics: Data(), exitCode: 0)
        } catch let error as UnreadableRequest {
            return failure(error.refusal, exitCode: 2)
        } catch let error as BillingError {
            return failure(error, exitCode: 1)
        } catch {
            let message = "The request could not be read: \(error)."
            return failure(BillingError(code: .malformedRequest, message: message), exitCode: 2)
        }
    }

    private static func answer<Request: Decodable, Response: Encodable>(
        _ type: Request.Type,
        _ input: Data,
        _ body: (Request) throws(BillingError) -> Response
    ) throws -> Data {
        // The one decoding every front end shares (the HTTP server's too): a value that decodes but
        // breaks a rule is that rule's refusal; only a request that cannot be read is malformed.
        let request: Request
        do {
            request = try JSONRequestLimits.decode(Request.self, from: input)
        } catch let error where error.code == .malformedRequest {
            throw UnreadableRequest(refusal: error)
        }
        return try encoder.encode(try body(request))
    }

    /// A request that could not be read as its command's shape (exit status 2).
    private struct UnreadableRequest: Error {
        var refusal: BillingError
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    private struct ErrorEnvelope: Encodable {
        var error: Body
        struct Body: Encodable {
            var code: BillingError.Code
            var message: String
        }
    }

    private static func failure(_ error: BillingError, exitCode: Int32) -> CommandResult {
        let envelope = ErrorEnvelope(error: .init(code: error.code, message: error.message))
        let output = (try? encoder.encode(envelope)) ?? Data()
        return CommandResult(output: output + Data("\n".utf8), diagnostics: Data(), exitCode: exitCode)
    }
}
