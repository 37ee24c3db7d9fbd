// swift-tools-version:6.1

import PackageDescription

let package = Package(
    name: "swift-addon-billing",
    // The core uses Int128; the test kit uses Synchronization's Mutex.
    platforms: [.macOS(.v15), .iOS(.v18), .tvOS(.v18), .watchOS(.v11), .visionOS(.v2)],
    products: [
        .library(name: "AddonBilling", targets: ["AddonBilling"]),
        .library(name: "AddonBillingJSON", targets: ["AddonBillingJSON"]),
        .library(name: "AddonBillingTesting", targets: ["AddonBillingTesting"]),
        .executable(name: "addon-billing", targets: ["addon-billing"]),
    ],
    targets: [
        // MARK: - Core

        .target(name: "AddonBilling"),

        // MARK: - Test kit for hosts

        .target(
            name: "AddonBillingTesting",
            dependencies: ["AddonBilling"]
        ),

        // MARK: - Wire contract (JSON requests, responses, limits)

        .target(
            name: "AddonBillingJSON",
            dependencies: ["AddonBilling"]
        ),

        // MARK: - Command line

        .target(
            name: "AddonBillingCLI",
            dependencies: ["AddonBilling", "AddonBillingJSON", "AddonBillingTesting"]
        ),
        .executableTarget(
            name: "addon-billing",
            dependencies: ["AddonBillingCLI"]
        ),

        // MARK: - Tests

        .testTarget(
            name: "AddonBillingTests",
            dependencies: ["AddonBilling", "AddonBillingCLI", "AddonBillingJSON", "AddonBillingTesting"]
        ),
    ]
)

for target in package.targets
where [.executable, .test, .regular].contains(target.type) {
    var settings = target.swiftSettings ?? []

    // Require `any` for existential types (SE-0335).
    settings.append(.enableUpcomingFeature("ExistentialAny"))

    // Imports are internal unless marked otherwise (SE-0409).
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))

    // Members are visible only from modules that are imported (SE-0444).
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))

    target.swiftSettings = settings
}
