// swift-tools-version:6.1

import PackageDescription

// A libFuzzer target for the JSON requests, kept in its own package: it has no
// `main` and builds only with `--sanitize fuzzer`. `--no-gc-sections` keeps the coverage
// counters the linker would otherwise drop (without it libFuzzer sees no coverage).
// From the repository root:
//
//     swift build --package-path Fuzz -c release --product AddonBillingFuzzer -Xlinker --no-gc-sections \
//         --sanitize fuzzer --sanitize address --scratch-path Fuzz/.build-fuzz
//     Fuzz/.build-fuzz/release/AddonBillingFuzzer Fuzz/Corpus -max_total_time=60
let package = Package(
    name: "swift-addon-billing-fuzz",
    dependencies: [
        .package(name: "swift-addon-billing", path: "..")
    ],
    targets: [
        .executableTarget(
            name: "AddonBillingFuzzer",
            dependencies: [
                .product(name: "AddonBilling", package: "swift-addon-billing")
            ]
        )
    ]
)
