// swift-tools-version:6.0
// otarig: a hardware-in-the-loop rig for signed firmware. Targets and their layering: ARCHITECTURE.md.
import PackageDescription

let package = Package(
    name: "otarig",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "otarig", targets: ["otarig"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // Layer 0: pure. No sockets, files, clocks or logging.
        .target(
            name: "SignerAPI",
            exclude: ["Resources/README.md"],
            resources: [.embedInCode("Resources/platforms.json")]
        ),
        .target(
            name: "CodeSigning",
            dependencies: [
                "SignerAPI",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        .target(
            name: "OTAVerifier",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .target(
            name: "FlashProtocol",
            dependencies: ["CZlib", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(name: "BoardModel", dependencies: [.product(name: "Yams", package: "Yams")]),
        .target(name: "SigV4", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // Layer 1: services and adapters.
        .target(name: "CSerialIO", path: "Sources/CSerialIO"),
        .systemLibrary(name: "CUdev", path: "Sources/CUdev", pkgConfig: "libudev"),
        .systemLibrary(name: "CUSB", path: "Sources/CUSB", pkgConfig: "libusb-1.0", providers: [.apt(["libusb-1.0-0-dev"])]),
        .target(name: "DurableFiles"),
        .target(name: "SerialIO", dependencies: ["CSerialIO", "CUdev", "CUSB", "BoardModel"]),
        .target(
            name: "BoardSim",
            dependencies: ["FlashProtocol", "SerialIO", "DurableFiles", "DeviceFirmware", "OTAVerifier", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "HILRunner",
            dependencies: [
                "FlashProtocol", "BoardModel", "OTAVerifier", "SignerAPI", "SignerClient", "CodeSigning",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "X509", package: "swift-certificates"),
            ]
        ),
        .target(
            name: "SignerService",
            dependencies: [
                "SignerAPI", "CodeSigning", "DurableFiles",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "SignerPostgres",
            dependencies: [
                "SignerService", "SignerAPI", "SigV4", "CodeSigning",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "SignerHTTP",
            dependencies: [
                "SignerAPI", "SignerService", "SigV4",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(
            name: "SignerClient",
            dependencies: [
                "SigV4", "SignerAPI", "CodeSigning", "OTAVerifier",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        .target(
            name: "ObjectStoreS3",
            dependencies: [
                "SignerAPI", "SignerService", "SigV4",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The device-side verifier in C (Firmware/), over Debian's mbedTLS 2.28 as FreeRTOS PALs use it.
        .target(
            name: "DeviceFirmware",
            path: "Firmware",
            sources: ["source"],
            publicHeadersPath: "include",
            linkerSettings: [.linkedLibrary("mbedx509"), .linkedLibrary("mbedcrypto")]
        ),
        // Layer 2: the one executable.
        .executableTarget(
            name: "otarig",
            dependencies: [
                "SignerAPI", "CodeSigning", "SignerService", "SignerHTTP", "SignerPostgres", "ObjectStoreS3", "SigV4", "SignerClient", "DeviceFirmware", "OTAVerifier", "BoardSim", "FlashProtocol", "SerialIO", "BoardModel", "HILRunner", "DurableFiles",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "SignerAPITests", dependencies: ["SignerAPI"]),
        .testTarget(
            name: "CodeSigningTests",
            dependencies: ["CodeSigning", "SignerAPI", .product(name: "Crypto", package: "swift-crypto"), .product(name: "CryptoExtras", package: "swift-crypto"), .product(name: "X509", package: "swift-certificates"), .product(name: "SwiftASN1", package: "swift-asn1")],
            exclude: ["Fixtures"]
        ),
        // Test support (not a product): a PostgreSQL cluster of its own per test process, for the tests that need one.
        .target(
            name: "PostgresTestSupport",
            dependencies: ["SignerPostgres", .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log")],
            path: "Tests/PostgresTestSupport"
        ),
        .testTarget(name: "SignerServiceTests", dependencies: ["SignerService", "SignerPostgres", "PostgresTestSupport", "CodeSigning", "SignerAPI"]),
        .testTarget(
            name: "SignerPostgresTests",
            dependencies: ["SignerPostgres", "PostgresTestSupport", "SignerService", "SignerAPI", "SigV4", "CodeSigning",
                           .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "SignerHTTPTests", dependencies: ["SignerHTTP", "SignerService", "SignerAPI", "CodeSigning", "SigV4"]),
        .testTarget(name: "SigV4Tests", dependencies: ["SigV4"]),
        .testTarget(
            name: "ObjectStoreS3Tests",
            dependencies: ["ObjectStoreS3", "SignerService", .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "SignerClientTests",
            dependencies: ["SignerClient", "SignerHTTP", "SignerAPI", "SigV4", .product(name: "Hummingbird", package: "hummingbird")]
        ),
        .testTarget(
            name: "OTAVerifierTests",
            dependencies: ["OTAVerifier", "DeviceFirmware", .product(name: "Crypto", package: "swift-crypto"), .product(name: "X509", package: "swift-certificates"), .product(name: "SwiftASN1", package: "swift-asn1")]
        ),
        .testTarget(name: "FlashProtocolTests", dependencies: ["FlashProtocol", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "BoardModelTests", dependencies: ["BoardModel"]),
        .testTarget(
            name: "BoardSimTests",
            dependencies: ["BoardSim", "FlashProtocol", "OTAVerifier", .product(name: "Crypto", package: "swift-crypto"), .product(name: "CryptoExtras", package: "swift-crypto"), .product(name: "X509", package: "swift-certificates"), .product(name: "SwiftASN1", package: "swift-asn1")]
        ),
        .testTarget(name: "SerialIOTests", dependencies: ["SerialIO"]),
        .testTarget(name: "HILRunnerTests", dependencies: ["HILRunner", "FlashProtocol", "BoardModel", "BoardSim", "OTAVerifier", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "OtarigTests", dependencies: ["otarig", "SignerAPI", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
    ],
    swiftLanguageModes: [.v6]
)

// Every Swift target: existentials are spelled `any` (SE-0335), and a member is visible only where its module is
// imported (SE-0444), so an import a file relies on is written in that file.
for target in package.targets where target.type != .system && !["DeviceFirmware", "CSerialIO"].contains(target.name) {
    target.swiftSettings = (target.swiftSettings ?? []) + [
        .enableUpcomingFeature("ExistentialAny"),
        .enableUpcomingFeature("MemberImportVisibility"),
    ]
}
