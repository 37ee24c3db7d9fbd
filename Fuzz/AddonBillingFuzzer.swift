import AddonBilling
import AddonBillingJSON
import Foundation

// The libFuzzer entry point; build it with `bash Fuzz/build` (it has no `main`, so it is
// not part of the package).

/// Feeds arbitrary bytes to every JSON command's request decoder and, when they
/// decode, to the operation. The first byte picks the command. Anything but a
/// crash, a hang or a leak is fine: refusals are the expected answer.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    let selector = bytes[0]
    let json = Data(bytes.dropFirst())
    // The gate every command runs first: size, depth and duplicate keys, in one pass.
    guard (try? JSONRequestLimits.check(json)) != nil else { return 0 }
    let decoder = JSONDecoder()
    let encoder = JSONEncoder()
    switch selector % 9 {
    case 0:
        if let request = try? decoder.decode(ProrationRequest.self, from: json) {
            _ = try? encoder.encode(try request.evaluate())
        }
    case 1:
        if let request = try? decoder.decode(ScheduleRequest.self, from: json) {
            _ = try? encoder.encode(try request.evaluate())
        }
    case 2:
        if let request = try? decoder.decode(OperationRequest.self, from: json) {
            _ = try? encoder.encode(try request.quote())
        }
    case 3:
        if let request = try? decoder.decode(OperationRequest.self, from: json) {
            _ = try? encoder.encode(try request.apply())
        }
    case 4:
        if let request = try? decoder.decode(RenewalRequest.self, from: json) {
            _ = try? encoder.encode(try request.renew())
        }
    case 5:
        if let request = try? decoder.decode(PreviewRequest.self, from: json) {
            _ = try? encoder.encode(try request.preview())
        }
    case 6:
        if let request = try? decoder.decode(UsageRequest.self, from: json) {
            _ = try? encoder.encode(try request.record())
        }
    case 7:
        if let request = try? decoder.decode(QuotaRequest.self, from: json) {
            _ = try? encoder.encode(try request.answer())
        }
    default:
        if let request = try? decoder.decode(AdviceRequest.self, from: json) {
            _ = try? encoder.encode(try request.answer())
        }
    }
    return 0
}
