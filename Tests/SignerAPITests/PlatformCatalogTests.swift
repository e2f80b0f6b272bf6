import Testing
@testable import SignerAPI

@Suite("The signing-platform catalog")
struct PlatformCatalogTests {
    @Test("lists the five AWS platforms in AWS's order")
    func listsFivePlatforms() {
        #expect(PlatformCatalog.ids == [
            "AWSIoTDeviceManagement-SHA256-ECDSA", "AWSLambda-SHA384-ECDSA", "AmazonFreeRTOS-TI-CC3220SF",
            "AmazonFreeRTOS-Default", "Notation-OCI-SHA384-ECDSA",
        ])
    }

    @Test("keeps AWS's quirks: the trailing space, category AWS, SHA384 outside the model enum")
    func keepsQuirks() throws {
        let iot = try #require(PlatformCatalog.platform(id: "AWSIoTDeviceManagement-SHA256-ECDSA"))
        #expect(iot.displayName == "AWS IoT Device Management SHA256-ECDSA ")
        #expect(iot.maxSizeInMB == 2048)
        #expect(PlatformCatalog.all.allSatisfy { $0.category == "AWS" })
        let lambda = try #require(PlatformCatalog.platform(id: "AWSLambda-SHA384-ECDSA"))
        #expect(lambda.signingConfiguration.hashAlgorithmOptions.allowedValues == [.sha384])
        #expect(lambda.revocationSupported)
    }

    @Test("describes CC3220SF as SHA1-RSA JSONEmbedded up to 16 MiB")
    func describesCC3220() throws {
        let ti = try #require(PlatformCatalog.platform(id: "AmazonFreeRTOS-TI-CC3220SF"))
        #expect(ti.displayName == "Amazon FreeRTOS SHA1-RSA CC3220SF-Format")
        #expect(ti.target == "SHA1-RSA-TISHA1")
        #expect(ti.signingConfiguration.encryptionAlgorithmOptions == .init(allowedValues: [.rsa], defaultValue: .rsa))
        #expect(ti.signingConfiguration.hashAlgorithmOptions == .init(allowedValues: [.sha1], defaultValue: .sha1))
        #expect(ti.signingImageFormat == .init(supportedFormats: [.jsonEmbedded], defaultFormat: .jsonEmbedded))
        #expect(ti.maxPayloadBytes == 16 * 1_048_576)
        #expect(!ti.revocationSupported)
    }

    @Test("lets AmazonFreeRTOS-Default sign with ECDSA by default and RSA on request")
    func defaultAllowsRSA() throws {
        let platform = try #require(PlatformCatalog.platform(id: "AmazonFreeRTOS-Default"))
        #expect(platform.signingConfiguration.encryptionAlgorithmOptions.allowedValues == [.ecdsa, .rsa])
        #expect(platform.signingConfiguration.encryptionAlgorithmOptions.defaultValue == .ecdsa)
    }

    @Test("finds no platform for an unknown id")
    func unknownPlatform() {
        #expect(PlatformCatalog.platform(id: "AmazonFreeRTOS-ESP32") == nil)
    }

    @Test("names each modelled exception shape", arguments: SignerError.Code.allCases)
    func errorCodesAreShapeNames(code: SignerError.Code) {
        #expect(code.rawValue.hasSuffix("Exception"))
        #expect(SignerError(code, "m").description == "\(code.rawValue): m")
    }
}
