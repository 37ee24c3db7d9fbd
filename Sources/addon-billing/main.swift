import AddonBillingCLI
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
let input = AddonBillingCommand.readsInput(arguments) ? FileHandle.standardInput.readDataToEndOfFile() : Data()
let result = await AddonBillingCommand.run(arguments, input: input)
FileHandle.standardOutput.write(result.output)
FileHandle.standardError.write(result.diagnostics)
exit(result.exitCode)
