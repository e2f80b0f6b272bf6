import OTAVerifier

/// One thing the rig does to a board and what must happen: a recipe that makes its inputs through the signing
/// service's API (StartSigningJob, RevokeSignature, RevokeSigningProfile) and mutates them, and the verdicts it
/// expects, written down here from the FreeRTOS sources (`shared/reference/freertos-ota.md` cites them) and AWS Signer's
/// documented semantics. The twin is what the rig checks, so no expectation is ever computed by it.
public struct Scenario: Sendable, Equatable {
    public var name: String
    /// One line for people.
    public var summary: String
    public var recipe: Recipe
    public var expected: Expectation
    /// Where the expectation comes from.
    public var basis: String

    public init(name: String, summary: String, recipe: Recipe = Recipe(), expected: Expectation, basis: String) {
        self.name = name
        self.summary = summary
        self.recipe = recipe
        self.expected = expected
        self.basis = basis
    }
}

/// How a scenario makes its inputs.
public struct Recipe: Sendable, Equatable {
    /// Which certificate signs.
    public enum Signer: String, Sendable, Equatable {
        /// The certificate the board holds under the job's certfile.
        case provisioned
        /// A certificate the board has never seen (same algorithm, another key).
        case another
        /// A certificate that expired by the device's clock (valid when the service signed).
        case expiredAtDeviceClock = "expired"
        /// A certificate not yet valid by the device's clock (a device whose clock is behind).
        case notYetValidAtDeviceClock = "not-yet-valid"
    }

    /// A change made after signing, where an attacker or a broken pipeline would make it.
    public enum Mutation: Sendable, Equatable {
        /// One byte of the image flipped at this offset.
        case flipImageByte(Int)
        /// The image delivered this many bytes short (the job document still says the full size).
        case truncateImage(Int)
        /// The job document's filesize moved by this many bytes.
        case fileSizeDelta(Int)
        /// The signature value in the job document replaced by text that is not base64.
        case signatureNotBase64
        /// A required member of the file entry removed.
        case removeJobMember(String)
        /// The job's certfile names a certificate the board does not hold.
        case certfileNotProvisioned
    }

    public enum Revocation: String, Sendable, Equatable {
        /// RevokeSignature on the signing job.
        case signature
        /// RevokeSigningProfile on the profile version, effective an hour before the signing time.
        case profileBeforeSigning = "profile-before-signing"
        /// RevokeSigningProfile effective after the signing time (signatures made before it stay trusted).
        case profileAfterSigning = "profile-after-signing"
    }

    public var signer: Signer = .provisioned
    /// Sign on a platform whose algorithm the board's firmware was not built for (its signature key differs).
    public var wrongAlgorithm = false
    public var mutation: Mutation?
    public var revocation: Revocation?
    /// The profile's signatureValidityPeriod in days (nil: the platform's default).
    public var signatureValidityDays: Int?
    /// Moves the device clock from the plan's clock by this many seconds for this scenario.
    public var deviceClockOffset: Double = 0
    /// The update's version; the board runs `Recipe.baseVersion` before it.
    public var version = "1.1.0"
    /// The signed image's length in bytes, made up with zero code and 0xFF padding after the app image (highly
    /// compressible, so the flasher's deflate keeps the transfer short); nil: the standard 24 KiB of code.
    public var imageSize: Int?

    public static let baseVersion = "1.0.0"

    public init(signer: Signer = .provisioned, wrongAlgorithm: Bool = false, mutation: Mutation? = nil, revocation: Revocation? = nil,
                signatureValidityDays: Int? = nil, deviceClockOffset: Double = 0, version: String = "1.1.0", imageSize: Int? = nil) {
        self.signer = signer
        self.wrongAlgorithm = wrongAlgorithm
        self.mutation = mutation
        self.revocation = revocation
        self.signatureValidityDays = signatureValidityDays
        self.deviceClockOffset = deviceClockOffset
        self.version = version
        self.imageSize = imageSize
    }
}

/// What a scenario expects: the device's verdict per PAL family as a stock FreeRTOS build gives it, and the policy
/// checks that must fail (none: policy passes).
public struct Expectation: Sendable, Equatable {
    public var device: [String: DeviceExpectation]
    public var policyFailures: Set<PolicyFinding.Check>

    public init(device: [String: DeviceExpectation], policyFailures: Set<PolicyFinding.Check> = []) {
        self.device = device
        self.policyFailures = policyFailures
    }

    /// The same device expectation for every PAL family listed.
    public init(_ families: [String], _ device: DeviceExpectation, policyFailures: Set<PolicyFinding.Check> = []) {
        self.init(device: Dictionary(uniqueKeysWithValues: families.map { ($0, device) }), policyFailures: policyFailures)
    }
}

/// A device verdict as a scenario states it: accepted, or refused at a named step with a status.
public struct DeviceExpectation: Sendable, Equatable, CustomStringConvertible {
    public var outcome: DeviceOutcome
    /// The PAL status's main code, when the outcome comes from the PAL's close (nil: none is expected).
    public var palMain: PALMain?

    public init(_ outcome: DeviceOutcome, _ palMain: PALMain? = nil) {
        self.outcome = outcome
        self.palMain = palMain
    }

    public static let accepted = DeviceExpectation(.accepted)
    public var accepted: Bool { outcome.isAcceptance }

    public var description: String {
        palMain.map { "\(outcome.rawValue) (\($0.freeRTOSName))" } ?? outcome.rawValue
    }
}

extension Scenario {
    /// The PAL families the standard scenarios declare expectations for today (the CC3220SF's join with its board).
    static let mbedTLSFamilies = ["esp32-mbedtls"]

    /// The standard matrix, in the order it runs.
    public static let standard: [Scenario] = {
        let families = mbedTLSFamilies
        let ota = "shared/reference/freertos-ota.md"
        return [
            Scenario(name: "valid", summary: "signed by the service with the board's certificate, delivered as signed",
                     expected: Expectation(families, .accepted),
                     basis: "\(ota) §3.1: the ESP32 PAL verifies SHA-256 over [0, filesize) with the certfile's key"),
            Scenario(name: "tampered-payload", summary: "one byte of the image flipped after signing",
                     recipe: Recipe(mutation: .flipImageByte(4096)),
                     expected: Expectation(families, DeviceExpectation(.rejectedSignature, .signatureCheckFailed)),
                     basis: "\(ota) §3.1/§3.3: mbedtls_pk_verify fails → OtaPalSignatureCheckFailed"),
            Scenario(name: "truncated", summary: "the image delivered 1000 bytes short of the job's filesize",
                     recipe: Recipe(mutation: .truncateImage(1000)),
                     expected: Expectation(families, DeviceExpectation(.rejectedBlock)),
                     basis: "\(ota) §3 (the close-file contract): blocks are checked for size; the last must be exactly the remainder, so a short file never completes"),
            Scenario(name: "filesize-mismatch", summary: "the job document's filesize 16 bytes below the image's",
                     recipe: Recipe(mutation: .fileSizeDelta(-16)),
                     expected: Expectation(families, DeviceExpectation(.rejectedBlock)),
                     basis: "\(ota) §3 (the close-file contract): the block count comes from filesize and the last block must be exactly the remainder, so the stream's last block is refused"),
            Scenario(name: "other-certificate", summary: "signed by a certificate the board does not hold, under the same certfile",
                     recipe: Recipe(signer: .another),
                     expected: Expectation(families, DeviceExpectation(.rejectedSignature, .signatureCheckFailed)),
                     basis: "\(ota) §3.1: the key under the certfile label does not verify another key's signature"),
            Scenario(name: "certificate-missing", summary: "the job's certfile names a certificate the board was never given",
                     recipe: Recipe(mutation: .certfileNotProvisioned),
                     expected: Expectation(families, DeviceExpectation(.rejectedSignature, .badSignerCert)),
                     basis: "\(ota) §3.1: no certificate under the label and none compiled in → OtaPalBadSignerCert (the simulated board has no otapalconfigCODE_SIGNING_CERTIFICATE)"),
            Scenario(name: "wrong-algorithm", summary: "signed for SHA1-RSA (sig-sha1-rsa) on firmware built to read sig-sha256-ecdsa",
                     recipe: Recipe(wrongAlgorithm: true),
                     expected: Expectation(families, DeviceExpectation(.rejectedSignature, .signatureCheckFailed)),
                     basis: "\(ota) §1 item 4 and §2.6: the v3 job model treats the signature key as optional, so the document is taken with no signature for the compiled-in OTA_JsonFileSignatureKey and the PAL's check fails"),
            Scenario(name: "jobdoc-bad-base64", summary: "the job document's signature is not base64",
                     recipe: Recipe(mutation: .signatureNotBase64),
                     expected: Expectation(families, DeviceExpectation(.rejectedJobDocument)),
                     basis: "\(ota) §2.3/§2.5: the signature is base64-decoded while the document is parsed; a decode error refuses the job"),
            Scenario(name: "jobdoc-missing-filesize", summary: "the job document's file entry lacks filesize",
                     recipe: Recipe(mutation: .removeJobMember("filesize")),
                     expected: Expectation(families, DeviceExpectation(.rejectedJobDocument)),
                     basis: "\(ota) §2.2/§2.3: filesize is required; a missing required key is DocParseErrMalformedDoc"),
            Scenario(name: "downgrade", summary: "a correctly signed image of version 0.9.0 on a board running 1.0.0",
                     recipe: Recipe(version: "0.9.0"),
                     expected: Expectation(families, DeviceExpectation(.rejectedVersion)),
                     basis: "\(ota) §1 item 5 and §4.6: after the reboot the self test finds updatedBy (1.0.0) above the running version: OtaErrDowngradeNotAllowed, the image is rejected"),
            Scenario(name: "same-version", summary: "a correctly signed image of the version the board already runs (1.0.0)",
                     recipe: Recipe(version: "1.0.0"),
                     expected: Expectation(families, DeviceExpectation(.rejectedVersion)),
                     basis: "\(ota) §1 item 5 and §4.6: the new version must be strictly greater: OtaErrSameFirmwareVersion"),
            Scenario(name: "signature-revoked", summary: "RevokeSignature on the signing job before the update",
                     recipe: Recipe(revocation: .signature),
                     expected: Expectation(families, .accepted, policyFailures: [.signatureRevoked]),
                     basis: "stock PALs check no revocation (\(ota) §6); AWS Signer: a revoked signature is not trusted"),
            Scenario(name: "profile-revoked-before-signing", summary: "RevokeSigningProfile effective an hour before the signature was made",
                     recipe: Recipe(revocation: .profileBeforeSigning),
                     expected: Expectation(families, .accepted, policyFailures: [.profileRevoked]),
                     basis: "AWS Signer RevokeSigningProfile: signatures made after effectiveTime are not trusted; stock PALs do not know"),
            Scenario(name: "profile-revoked-after-signing", summary: "RevokeSigningProfile effective after the signature was made",
                     recipe: Recipe(revocation: .profileAfterSigning),
                     expected: Expectation(families, .accepted),
                     basis: "AWS Signer RevokeSigningProfile: signatures made before effectiveTime stay trusted"),
            Scenario(name: "validity-period-elapsed", summary: "a 1-day signatureValidityPeriod on the profile, the device clock 3 days on",
                     recipe: Recipe(signatureValidityDays: 1, deviceClockOffset: 3 * 86_400),
                     expected: Expectation(families, .accepted),
                     basis: "\(ota) §6 (AWS Signer docs): the signature validity period applies only to AWSLambda-SHA384-ECDSA and Notation-OCI-SHA384-ECDSA, so a FreeRTOS signature does not expire"),
            Scenario(name: "certificate-expired", summary: "the signer certificate expires a day after signing; the device clock is 3 days on",
                     recipe: Recipe(signer: .expiredAtDeviceClock, deviceClockOffset: 3 * 86_400),
                     expected: Expectation(families, .accepted, policyFailures: [.certificateValidity]),
                     basis: "\(ota) §6 and aws/amazon-freertos#2924: stock PALs ignore certificate dates"),
            Scenario(name: "certificate-not-yet-valid", summary: "the device clock 2 days behind the signer certificate's notBefore",
                     recipe: Recipe(signer: .notYetValidAtDeviceClock, deviceClockOffset: -2 * 86_400),
                     expected: Expectation(families, .accepted, policyFailures: [.certificateValidity]),
                     basis: "\(ota) §6: stock PALs ignore certificate dates"),
            Scenario(name: "oversize", summary: "a correctly signed image 4 KiB larger than the OTA slot (1.5 MiB + 4 KiB)",
                     recipe: Recipe(imageSize: Self.standardSlotSize + 4096),
                     expected: Expectation(families, DeviceExpectation(.rejectedWrite, .uninitialized)),
                     basis: "amazon-freertos @39640ad6 ota_pal.c: otaPal_CreateFileForRx calls esp_ota_begin with OTA_SIZE_UNKNOWN (no size check), "
                         + "otaPal_WriteBlock returns -1 when esp_ota_write_with_offset fails, as esp_partition_write does past the partition "
                         + "(ESP_ERR_INVALID_SIZE); ota-for-aws-iot-embedded-sdk @477ee9a5 ota.c processDataBlock → IngestResultWriteBlockFailed (-9), "
                         + "processDataHandler rejects the image and publishes FAILED with the close result it never set (OtaPalUninitialized, 0xe0)"),
        ]
    }()

    /// The OTA slot's size in the rig's layout (`PartitionTable.twoOTAWithStaging`, Boards/README.md): 1.5 MiB.
    public static let standardSlotSize = 0x18_0000

    /// Every scenario by name.
    public static let catalog: [String: Scenario] = Dictionary(uniqueKeysWithValues: standard.map { ($0.name, $0) })
}
