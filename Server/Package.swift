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
        .library(name: "AddonBillingAccounts", targets: ["AddonBillingAccounts"]),
        .library(name: "AddonBillingServer", targets: ["AddonBillingServer"]),
        .library(name: "AddonBillingServerTesting", targets: ["AddonBillingServerTesting"]),
        .executable(name: "addon-billing-server", targets: ["addon-billing-server"]),
    ],
    dependencies: [
        .package(name: "swift-addon-billing", path: ".."),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // MARK: - Stores

        .target(
            name: "AddonBillingStoreSupport",
            dependencies: [.product(name: "AddonBilling", package: "swift-addon-billing")]
        ),
        .target(
            name: "AddonBillingAccounts",
            dependencies: [
                .product(name: "AddonBilling", package: "swift-addon-billing"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "AddonBillingPostgres",
            dependencies: [
                "AddonBillingStoreSupport",
                "AddonBillingAccounts",
                .product(name: "AddonBilling", package: "swift-addon-billing"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "AddonBillingSQLite",
            dependencies: [
                "AddonBillingStoreSupport",
                "AddonBillingAccounts",
                .product(name: "AddonBilling", package: "swift-addon-billing"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),

        // MARK: - The billing server

        .target(
            name: "AddonBillingServer",
            dependencies: [
                "AddonBillingAccounts",
                "AddonBillingPostgres",
                "AddonBillingSQLite",
                "AddonBillingStoreSupport",
                .product(name: "AddonBilling", package: "swift-addon-billing"),
                .product(name: "AddonBillingJSON", package: "swift-addon-billing"),
                .product(name: "AddonBillingTesting", package: "swift-addon-billing"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "addon-billing-server",
            dependencies: [
                "AddonBillingServer",
                .product(name: "AddonBilling", package: "swift-addon-billing"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),

        // MARK: - Tests, their helper process, and the store benchmark

        .target(
            name: "AddonBillingServerTesting",
            dependencies: [
                "AddonBillingServer",
                .product(name: "AddonBilling", package: "swift-addon-billing"),
            ]
        ),

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
        .executableTarget(
            name: "addon-billing-load",
            dependencies: [
                "StoreTestSupport",
                "AddonBillingPostgres",
                "AddonBillingSQLite",
                "AddonBillingServer",
                .product(name: "AddonBilling", package: "swift-addon-billing"),
                .product(name: "AddonBillingTesting", package: "swift-addon-billing"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "StoreTestSupport",
                "AddonBillingServerTesting",
                "AddonBillingStoreSupport",
                "AddonBillingPostgres",
                "AddonBillingSQLite",
                "AddonBillingServer",
                .product(name: "AddonBilling", package: "swift-addon-billing"),
                .product(name: "AddonBillingTesting", package: "swift-addon-billing"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
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
