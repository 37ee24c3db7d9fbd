// swift-tools-version:6.1

import PackageDescription

// The reference host of swift-addon-billing: real stores (PostgreSQL, SQLite) behind
// the core's `SubscriptionStore`. The main package stays without dependencies; this
// nested package may use the Swift server ecosystem. From the repository root:
//
//     swift test --package-path Server
let package = Package(
    name: "swift-addon-billing-server",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "AddonBillingPostgres", targets: ["AddonBillingPostgres"]),
        .library(name: "AddonBillingSQLite", targets: ["AddonBillingSQLite"]),
    ],
    dependencies: [
        .package(name: "swift-addon-billing", path: ".."),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // MARK: - Stores

        .target(
            name: "AddonBillingStoreSupport",
            dependencies: [.product(name: "AddonBilling", package: "swift-addon-billing")]
        ),
        .target(
            name: "AddonBillingPostgres",
            dependencies: [
                "AddonBillingStoreSupport",
                .product(name: "AddonBilling", package: "swift-addon-billing"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "AddonBillingSQLite",
            dependencies: [
                "AddonBillingStoreSupport",
                .product(name: "AddonBilling", package: "swift-addon-billing"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),

        // MARK: - Tests, their helper process, and the store benchmark

        .target(
            name: "StoreTestSupport",
            dependencies: [
                "AddonBillingPostgres",
                .product(name: "AddonBilling", package: "swift-addon-billing"),
                .product(name: "AddonBillingTesting", package: "swift-addon-billing"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "addon-billing-store-client",
            dependencies: [
                "StoreTestSupport",
                "AddonBillingPostgres",
                .product(name: "AddonBilling", package: "swift-addon-billing"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .executableTarget(
            name: "addon-billing-store-bench",
            dependencies: [
                "StoreTestSupport",
                "AddonBillingPostgres",
                .product(name: "AddonBilling", package: "swift-addon-billing"),
                .product(name: "AddonBillingTesting", package: "swift-addon-billing"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "StoreTestSupport",
                "AddonBillingPostgres",
                "AddonBillingSQLite",
                .product(name: "AddonBilling", package: "swift-addon-billing"),
                .product(name: "AddonBillingTesting", package: "swift-addon-billing"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
    ]
)

for target in package.targets where [.executable, .test, .regular].contains(target.type) {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    target.swiftSettings = settings
}
