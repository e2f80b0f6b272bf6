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
    /// The PAL families whose boards run it (a scenario about one platform's own checks); nil: every board. A board of
    /// another family gets no cell for it.
    public var onlyOn: Set<String>?

    public init(name: String, summary: String, recipe: Recipe = Recipe(), expected: Expectation, basis: String, onlyOn: Set<String>? = nil) {
        self.name = name
        self.summary = summary
        self.recipe = recipe
        self.expected = expected
        self.basis = basis
        self.onlyOn = onlyOn
    }

    /// Whether a board whose firmware has this PAL family runs the scenario.
    public func applies(to pal: String) -> Bool { onlyOn?.contains(pal) ?? true }
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
        /// The board's certificate under the certfile, issued by a root the board does not trust (CC3220SF: not in
        /// its catalog, not in its file system).
        case unknownRoot = "unknown-root"
        /// A 4096-bit RSA key (a 512-byte signature), issued by the board's chain.
        case rsa4096 = "rsa-4096"
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
        /// The intermediate certificate the board holds (CC3220SF: the file under its Issued-To name) has the real
        /// one's subject and key, but another key signed it.
        case forgedIntermediate
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
    /// The image this many bytes larger than the largest the board's PAL family takes (`Recipe.largestImage`); it
    /// overrides `imageSize`.
    public var imageOverLimit: Int?
    /// Before the cell's own delivery, this many deliveries of the update with one byte of the image flipped (each a
    /// wrong signature, a security alert on a CC3220SF); the cell's delivery meets the count they left.
    public var tamperedDeliveriesBefore = 0

    public static let baseVersion = "1.0.0"

    public init(signer: Signer = .provisioned, wrongAlgorithm: Bool = false, mutation: Mutation? = nil, revocation: Revocation? = nil,
                signatureValidityDays: Int? = nil, deviceClockOffset: Double = 0, version: String = "1.1.0", imageSize: Int? = nil,
                imageOverLimit: Int? = nil, tamperedDeliveriesBefore: Int = 0) {
        self.signer = signer
        self.wrongAlgorithm = wrongAlgorithm
        self.mutation = mutation
        self.revocation = revocation
        self.signatureValidityDays = signatureValidityDays
        self.deviceClockOffset = deviceClockOffset
        self.version = version
        self.imageSize = imageSize
        self.imageOverLimit = imageOverLimit
        self.tamperedDeliveriesBefore = tamperedDeliveriesBefore
    }

    /// The largest image a PAL family takes: the ESP32's OTA slot in the rig's layout (1.5 MiB), the CC3220SF PAL's
    /// 512 KiB (otaPal_CreateFileForRx); nil: no limit known.
    public static func largestImage(pal: String) -> Int? {
        switch pal {
        case "esp32-mbedtls": Scenario.standardSlotSize
        case "cc3220-simplelink": cc3220MaxImageSize
        default: nil
        }
    }

    /// aws/amazon-freertos cc3220_launchpad ota_pal.c: OTA_MAX_MCU_IMAGE_SIZE, 512 KiB.
    public static let cc3220MaxImageSize = 512 * 1024

    /// The image size for a PAL family: `imageOverLimit` past its largest, else `imageSize`.
    public func imageSize(pal: String) -> Int? {
        if let over = imageOverLimit, let largest = Self.largestImage(pal: pal) { return largest + over }
        return imageSize
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
    /// The PAL status's sub-code, when the scenario states it (the CC3220SF's: the SimpleLink code's low 24 bits, or
    /// the 512 KiB limit); nil: any.
    public var palSub: UInt32?

    public init(_ outcome: DeviceOutcome, _ palMain: PALMain? = nil, sub: UInt32? = nil) {
        self.outcome = outcome
        self.palMain = palMain
        self.palSub = sub
    }

    /// A refusal by the CC3220SF's close: the SimpleLink code as otaPal_CloseFile maps it (the ten certificate and
    /// signature codes SignatureCheckFailed, any other FileClose; the sub-code is the code's low 24 bits).
    public static func simpleLink(_ outcome: DeviceOutcome, _ palMain: PALMain, code: Int32) -> DeviceExpectation {
        DeviceExpectation(outcome, palMain, sub: UInt32(bitPattern: code) & 0xFF_FFFF)
    }

    public static let accepted = DeviceExpectation(.accepted)
    public var accepted: Bool { outcome.isAcceptance }

    public var description: String {
        guard let palMain else { return outcome.rawValue }
        guard let palSub else { return "\(outcome.rawValue) (\(palMain.freeRTOSName))" }
        return "\(outcome.rawValue) (\(palMain.freeRTOSName), \(PALStatus(palMain, sub: palSub).hex))"
    }
}

extension Scenario {
    /// The PAL families the standard scenarios declare expectations for.
    static let esp32 = "esp32-mbedtls"
    static let cc3220 = "cc3220-simplelink"

    /// The standard matrix, in the order it runs. The CC3220SF's expectations come from the network processor's close
    /// as TI documents it (shared/reference/cc3220-bootloader.md §5) and otarig models it (spec/simplelink-close.md,
    /// "rows" are its numbered checks), mapped as the FreeRTOS CC3220SF PAL maps it (aws/amazon-freertos
    /// vendors/ti/boards/cc3220_launchpad/ports/ota_pal_for_aws/ota_pal.c, otaPal_CloseFile and
    /// otaPal_CreateFileForRx); the agent's steps are the same v3 agent's as on the ESP32.
    public static let standard: [Scenario] = {
        let ota = "shared/reference/freertos-ota.md"
        let close = "spec/simplelink-close.md"
        let ti = "shared/reference/cc3220-bootloader.md §5"
        let pal = "amazon-freertos cc3220_launchpad ota_pal.c"
        /// The same device expectation on both families.
        func both(_ device: DeviceExpectation, policyFailures: Set<PolicyFinding.Check> = []) -> Expectation {
            Expectation([esp32, cc3220], device, policyFailures: policyFailures)
        }
        func each(esp32 esp: DeviceExpectation, cc3220 cc: DeviceExpectation) -> Expectation {
            Expectation(device: [esp32: esp, cc3220: cc])
        }
        let signatureFailed = DeviceExpectation(.rejectedSignature, .signatureCheckFailed)
        return [
            Scenario(name: "valid", summary: "signed by the service with the board's certificate, delivered as signed",
                     expected: both(.accepted),
                     basis: "\(ota) §3.1: the ESP32 PAL verifies SHA-256 over [0, filesize) with the certfile's key; CC3220SF: \(close) row 10 "
                         + "(the chain ends in a catalog root, RSA PKCS#1 v1.5 over SHA-1 verifies) → 0 → OtaPalSuccess (\(pal)); the self test finds 1.1.0 above 1.0.0"),
            Scenario(name: "tampered-payload", summary: "one byte of the image flipped after signing",
                     recipe: Recipe(mutation: .flipImageByte(4096)),
                     expected: each(esp32: signatureFailed, cc3220: .simpleLink(.rejectedSignature, .signatureCheckFailed, code: -10289)),
                     basis: "\(ota) §3.1/§3.3: mbedtls_pk_verify fails → OtaPalSignatureCheckFailed; CC3220SF: \(close) row 9 → "
                         + "-10289 SL_ERROR_FS_WRONG_SIGNATURE_SECURITY_ALERT [\(ti)], which \(pal) maps to SignatureCheckFailed"),
            Scenario(name: "truncated", summary: "the image delivered 1000 bytes short of the job's filesize",
                     recipe: Recipe(mutation: .truncateImage(1000)),
                     expected: both(DeviceExpectation(.rejectedBlock)),
                     basis: "\(ota) §3 (the close-file contract): blocks are checked for size; the last must be exactly the remainder, so a short file never completes (the agent's check, before any PAL close)"),
            Scenario(name: "filesize-mismatch", summary: "the job document's filesize 16 bytes below the image's",
                     recipe: Recipe(mutation: .fileSizeDelta(-16)),
                     expected: both(DeviceExpectation(.rejectedBlock)),
                     basis: "\(ota) §3 (the close-file contract): the block count comes from filesize and the last block must be exactly the remainder, so the stream's last block is refused"),
            Scenario(name: "other-certificate", summary: "signed by a certificate the board does not hold, under the same certfile",
                     recipe: Recipe(signer: .another),
                     expected: each(esp32: signatureFailed, cc3220: .simpleLink(.rejectedSignature, .signatureCheckFailed, code: -10289)),
                     basis: "\(ota) §3.1: the key under the certfile label does not verify another key's signature; CC3220SF: the held certificate's chain is "
                         + "good, \(close) row 9 → -10289"),
            Scenario(name: "certificate-missing", summary: "the job's certfile names a certificate the board was never given",
                     recipe: Recipe(mutation: .certfileNotProvisioned),
                     expected: each(esp32: DeviceExpectation(.rejectedSignature, .badSignerCert),
                                    cc3220: .simpleLink(.rejectedSignature, .signatureCheckFailed, code: -10372)),
                     basis: "\(ota) §3.1: no certificate under the label and none compiled in → OtaPalBadSignerCert (the simulated board has no otapalconfigCODE_SIGNING_CERTIFICATE); "
                         + "CC3220SF: \(close) row 3 → -10372 SL_ERROR_FS_WRONG_CERTIFICATE_FILE_NAME, one of the ten codes \(pal) maps to SignatureCheckFailed"),
            Scenario(name: "wrong-algorithm", summary: "signed for the other platform's algorithm than the firmware reads (ESP32: sig-sha1-rsa; CC3220SF: sig-sha256-ecdsa)",
                     recipe: Recipe(wrongAlgorithm: true),
                     expected: each(esp32: signatureFailed, cc3220: .simpleLink(.rejectedSignature, .signatureCheckFailed, code: -10290)),
                     basis: "\(ota) §1 item 4 and §2.6: the v3 job model treats the signature key as optional, so the document is taken with no signature for the compiled-in OTA_JsonFileSignatureKey and the PAL's check fails; "
                         + "CC3220SF: the close gets an empty signature, \(close) row 2 → -10290 SL_ERROR_FS_WRONG_SIGNATURE_OR_CERTIFIC_NAME_LENGTH"),
            Scenario(name: "jobdoc-bad-base64", summary: "the job document's signature is not base64",
                     recipe: Recipe(mutation: .signatureNotBase64),
                     expected: both(DeviceExpectation(.rejectedJobDocument)),
                     basis: "\(ota) §2.3/§2.5: the signature is base64-decoded while the document is parsed; a decode error refuses the job"),
            Scenario(name: "jobdoc-missing-filesize", summary: "the job document's file entry lacks filesize",
                     recipe: Recipe(mutation: .removeJobMember("filesize")),
                     expected: both(DeviceExpectation(.rejectedJobDocument)),
                     basis: "\(ota) §2.2/§2.3: filesize is required; a missing required key is DocParseErrMalformedDoc"),
            Scenario(name: "downgrade", summary: "a correctly signed image of version 0.9.0 on a board running 1.0.0",
                     recipe: Recipe(version: "0.9.0"),
                     expected: both(DeviceExpectation(.rejectedVersion)),
                     basis: "\(ota) §1 item 5 and §4.6: after the reboot the self test finds updatedBy (1.0.0) above the running version: OtaErrDowngradeNotAllowed, the image is rejected "
                         + "(CC3220SF: the PAL rolls the bundle back, \(pal) otaPal_SetPlatformImageState)"),
            Scenario(name: "same-version", summary: "a correctly signed image of the version the board already runs (1.0.0)",
                     recipe: Recipe(version: "1.0.0"),
                     expected: both(DeviceExpectation(.rejectedVersion)),
                     basis: "\(ota) §1 item 5 and §4.6: the new version must be strictly greater: OtaErrSameFirmwareVersion"),
            Scenario(name: "signature-revoked", summary: "RevokeSignature on the signing job before the update",
                     recipe: Recipe(revocation: .signature),
                     expected: both(.accepted, policyFailures: [.signatureRevoked]),
                     basis: "stock PALs check no revocation (\(ota) §6; the CC3220SF's revoked.txt is TI's catalog, which AWS Signer does not feed); AWS Signer: a revoked signature is not trusted"),
            Scenario(name: "profile-revoked-before-signing", summary: "RevokeSigningProfile effective an hour before the signature was made",
                     recipe: Recipe(revocation: .profileBeforeSigning),
                     expected: both(.accepted, policyFailures: [.profileRevoked]),
                     basis: "AWS Signer RevokeSigningProfile: signatures made after effectiveTime are not trusted; stock PALs do not know"),
            Scenario(name: "profile-revoked-after-signing", summary: "RevokeSigningProfile effective after the signature was made",
                     recipe: Recipe(revocation: .profileAfterSigning),
                     expected: both(.accepted),
                     basis: "AWS Signer RevokeSigningProfile: signatures made before effectiveTime stay trusted"),
            Scenario(name: "validity-period-elapsed", summary: "a 1-day signatureValidityPeriod on the profile, the device clock 3 days on",
                     recipe: Recipe(signatureValidityDays: 1, deviceClockOffset: 3 * 86_400),
                     expected: both(.accepted),
                     basis: "\(ota) §6 (AWS Signer docs): the signature validity period applies only to AWSLambda-SHA384-ECDSA and Notation-OCI-SHA384-ECDSA, so a FreeRTOS signature does not expire"),
            Scenario(name: "certificate-expired", summary: "the signer certificate expires a day after signing; the device clock is 3 days on",
                     recipe: Recipe(signer: .expiredAtDeviceClock, deviceClockOffset: 3 * 86_400),
                     expected: both(.accepted, policyFailures: [.certificateValidity]),
                     basis: "\(ota) §6 and aws/amazon-freertos#2924: stock PALs ignore certificate dates; CC3220SF: \(close) step 6, dates are not checked"),
            Scenario(name: "certificate-not-yet-valid", summary: "the device clock 2 days behind the signer certificate's notBefore",
                     recipe: Recipe(signer: .notYetValidAtDeviceClock, deviceClockOffset: -2 * 86_400),
                     expected: both(.accepted, policyFailures: [.certificateValidity]),
                     basis: "\(ota) §6: stock PALs ignore certificate dates; CC3220SF: \(close) step 6, dates are not checked"),
            Scenario(name: "oversize", summary: "a correctly signed image 4 KiB larger than the board takes (ESP32: the 1.5 MiB OTA slot; CC3220SF: the PAL's 512 KiB)",
                     recipe: Recipe(imageOverLimit: 4096),
                     expected: each(esp32: DeviceExpectation(.rejectedWrite, .uninitialized),
                                    cc3220: DeviceExpectation(.rejectedFileCreate, .rxFileTooLarge, sub: UInt32(Recipe.cc3220MaxImageSize))),
                     basis: "amazon-freertos @39640ad6 ota_pal.c: otaPal_CreateFileForRx calls esp_ota_begin with OTA_SIZE_UNKNOWN (no size check), "
                         + "otaPal_WriteBlock returns -1 when esp_ota_write_with_offset fails, as esp_partition_write does past the partition "
                         + "(ESP_ERR_INVALID_SIZE); ota-for-aws-iot-embedded-sdk @477ee9a5 ota.c processDataBlock → IngestResultWriteBlockFailed (-9), "
                         + "processDataHandler rejects the image and publishes FAILED with the close result it never set (OtaPalUninitialized, 0xe0); "
                         + "CC3220SF: \(pal) otaPal_CreateFileForRx refuses a file over OTA_MAX_MCU_IMAGE_SIZE (512 KiB) → OtaPalRxFileTooLarge, sub 0x80000 (\(close), Create)"),
            // The CC3220SF's own checks.
            Scenario(name: "size-limit", summary: "a correctly signed image of exactly 512 KiB, the CC3220SF PAL's limit",
                     recipe: Recipe(imageSize: Recipe.cc3220MaxImageSize),
                     expected: Expectation([cc3220], .accepted),
                     basis: "\(pal) otaPal_CreateFileForRx refuses only fileSize > OTA_MAX_MCU_IMAGE_SIZE (\(close), Create); the close then verifies (row 10)",
                     onlyOn: [cc3220]),
            Scenario(name: "unknown-root", summary: "the board's certificate issued by a root that is neither in the catalog nor in the file system",
                     recipe: Recipe(signer: .unknownRoot),
                     expected: Expectation([cc3220], .simpleLink(.rejectedSignature, .signatureCheckFailed, code: -10287)),
                     basis: "\(ti) (\"the root must be in the catalog\"); \(close) row 6b: no file under the issuer's commonName → -10287 SL_ERROR_FS_ROOT_CA_IS_UNKOWN, mapped to SignatureCheckFailed by \(pal)",
                     onlyOn: [cc3220]),
            Scenario(name: "chain-error", summary: "the intermediate the board holds has the real subject and key but was signed by another key",
                     recipe: Recipe(mutation: .forgedIntermediate),
                     expected: Expectation([cc3220], .simpleLink(.rejectedSignature, .signatureCheckFailed, code: -10292)),
                     basis: "\(close) row 6a: the catalog root names the intermediate's issuer but its key does not verify it → -10292 SL_ERROR_FS_CERT_CHAIN_ERROR_SECURITY_ALERT (a security alert), SignatureCheckFailed by \(pal)",
                     onlyOn: [cc3220]),
            Scenario(name: "rsa4096-signature", summary: "signed with a 4096-bit RSA key of the board's chain (a 512-byte signature)",
                     recipe: Recipe(signer: .rsa4096),
                     expected: Expectation([cc3220], DeviceExpectation(.rejectedJobDocument)),
                     basis: "\(ota) §2.3/§2.5: the agent decodes the signature into its 384-byte buffer (kOTA_MaxSignatureSize) while it parses the document, so the 512-byte one "
                         + "refuses the job before any close; the close itself would answer -10290 (\(close) row 2; TI E2E 1159293), which the device never reaches",
                     onlyOn: [cc3220]),
            Scenario(name: "alert-lock", summary: "15 deliveries with a flipped byte (15 security alerts, TI's default threshold), then the valid update",
                     recipe: Recipe(tamperedDeliveriesBefore: 15),
                     expected: Expectation([cc3220], .simpleLink(.rejectedWrite, .fileClose, code: -28674)),
                     basis: "\(ti): *_SECURITY_ALERT codes count towards the tamper lock, SecurityAlertThreshold 15; \(close) row 0: at the threshold every close is "
                         + "-28674 SL_ERROR_DEVICE_LOCKED_SECURITY_ALERT, not one of the ten codes, so \(pal) maps it to OtaPalFileClose (0xeeff8ffe) and the agent rejects the image",
                     onlyOn: [cc3220]),
        ]
    }()

    /// The OTA slot's size in the rig's layout (`PartitionTable.twoOTAWithStaging`, Boards/README.md): 1.5 MiB.
    public static let standardSlotSize = 0x18_0000

    /// Every scenario by name.
    public static let catalog: [String: Scenario] = Dictionary(uniqueKeysWithValues: standard.map { ($0.name, $0) })
}
