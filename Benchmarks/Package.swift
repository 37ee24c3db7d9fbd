// swift-tools-version:6.1

import PackageDescription

// The benchmarks of swift-addon-billing, kept in their own package so the main
// package stays without dependencies. Run from the repository root:
//
//     swift package --package-path Benchmarks benchmark
let package = Package(
    name: "swift-addon-billing-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "swift-addon-billing", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "AddonBillingBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "AddonBilling", package: "swift-addon-billing"),
                .product(name: "AddonBillingJSON", package: "swift-addon-billing"),
                .product(name: "AddonBillingTesting", package: "swift-addon-billing"),
            ],
            path: "Benchmarks/AddonBillingBenchmarks",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark")
            ]
        )
    ]
)
