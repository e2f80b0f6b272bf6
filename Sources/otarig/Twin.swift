import ArgumentParser
import Foundation
import OTAVerifier
import SignerClient

/// The options `otarig verify` and `otarig explain` add to the device inputs: which PAL the twin plays, the
/// CC3220SF's root catalog, and where the policy layer's signer facts come from.
struct TwinOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The PAL profile: esp32-mbedtls, posix-openssl or cc3220-simplelink.", valueName: "profile"))
    var profile: String = PALProfile.esp32MbedTLS.rawValue

    @Option(name: .customLong("root-catalog"), help: ArgumentHelp("cc3220-simplelink: the trusted root certificates (PEM or DER files) the network processor checks the chain against; a file revoked.txt lists revoked certificates by SHA-1 or SHA-256 fingerprint. The signer and its intermediates are not here but in --cert-dir, the SimpleLink file system: the signer as DER under the job's certfile, each intermediate as DER under its own commonName (its 'Issued To' name), exactly as TI's file system holds them.", valueName: "dir"))
    var rootCatalog: String?

    @Option(name: .customLong("security-alerts"), help: ArgumentHelp("cc3220-simplelink: the security alerts the device has counted so far (default 0). The network processor counts every *_SECURITY_ALERT result of a secure close: a wrong signature (-10289), a broken chain (-10292), a revoked certificate (-10273). When the count reaches --alert-threshold the device locks: every later secure close is SL_ERROR_DEVICE_LOCKED_SECURITY_ALERT (-28674; the PAL reports OtaPalFileClose 0xeeff8ffe) until a return to factory image. The JSON's device.simpleLink.securityAlertsAfter is the count to pass to the next run.", valueName: "n"))
    var securityAlerts: Int?

    @Option(name: .customLong("alert-threshold"), help: ArgumentHelp("cc3220-simplelink: the device's SecurityAlertThreshold (default 15, what TI's image tools and mos write). With --security-alerts at or over it the device is already locked.", valueName: "n"))
    var alertThreshold: Int?

    /// The CC3220SF's security-alert count and threshold, checked: (count so far, threshold).
    func securityAlertState(for profile: PALProfile) throws -> (alerts: Int, threshold: Int) {
        guard profile == .cc3220SimpleLink else {
            if securityAlerts != nil || alertThreshold != nil {
                throw OtarigError("--security-alerts and --alert-threshold are for the cc3220-simplelink profile (the SimpleLink network processor's tamper lock); the \(profile.rawValue) PAL has none, drop them")
            }
            return (0, 15)
        }
        let alerts = securityAlerts ?? 0
        let threshold = alertThreshold ?? 15
        guard alerts >= 0 else { throw OtarigError("--security-alerts \(alerts) is negative; pass the number of alerts the device has counted (0 on a fresh device)") }
        guard threshold >= 1 else { throw OtarigError("--alert-threshold \(threshold) must be at least 1 (TI's default is 15)") }
        return (alerts, threshold)
    }

    @Option(help: ArgumentHelp("Signer facts (revocations, expiry) captured with 'otarig facts capture': otarig-signer-facts/1 JSON.", valueName: "file"))
    var revocations: String?

    @Option(help: ArgumentHelp("Read the signer facts live from this signing service (otarig serve or AWS Signer), signed with the aws CLI's credentials ($AWS_PROFILE, $AWS_SHARED_CREDENTIALS_FILE or $AWS_ACCESS_KEY_ID).", valueName: "url"))
    var signer: String?

    func palProfile() throws -> PALProfile {
        guard let palProfile = PALProfile(rawValue: profile) else {
            throw OtarigError("--profile '\(profile)' is not a profile: use esp32-mbedtls, posix-openssl or cc3220-simplelink")
        }
        return palProfile
    }

    /// The root catalog directory, read: every regular file but revoked.txt is a root.
    func loadCatalog(for profile: PALProfile, inputs: DeviceInputOptions) throws -> RootCatalog? {
        guard profile == .cc3220SimpleLink else {
            if rootCatalog != nil {
                throw OtarigError("--root-catalog is for the cc3220-simplelink profile; the \(profile.rawValue) PAL checks no certificate chain, drop it")
            }
            return nil
        }
        if inputs.fallbackCertificate != nil {
            throw OtarigError("the CC3220SF PAL has no compiled-in certificate (sl_FsClose takes only the file certfile names); drop --fallback-cert")
        }
        guard let rootCatalog else {
            throw OtarigError("the cc3220-simplelink profile needs --root-catalog DIR: the trusted roots the network processor checks the signer's chain against (on development boards TI's playground root, dummy-root-ca-cert)")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: rootCatalog, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw OtarigError("--root-catalog '\(rootCatalog)' is not a directory; pass the directory holding the trusted root certificates")
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: rootCatalog)) ?? []).sorted()
        var files: [(name: String, bytes: [UInt8])] = []
        var revocationList: String?
        for name in names {
            let path = rootCatalog + "/" + name
            var entryIsDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &entryIsDirectory), !entryIsDirectory.boolValue else { continue }
            let data = try Files.read(path, what: "root catalog entry")
            if name == "revoked.txt" {
                guard let text = String(data: data, encoding: .utf8) else {
                    throw OtarigError("'\(path)' is not UTF-8 text; write one fingerprint per line")
                }
                revocationList = text
            } else {
                files.append((name, Array(data)))
            }
        }
        guard !files.isEmpty else {
            throw OtarigError("the root catalog '\(rootCatalog)' holds no certificates; put the trusted root there (PEM or DER)")
        }
        do {
            return try RootCatalog.load(files: files, revocationList: revocationList)
        } catch {
            throw OtarigError("the root catalog '\(rootCatalog)': \(error.message)")
        }
    }

    func loadFacts() async throws -> SignerFacts? {
        if let signer {
            if revocations != nil { throw OtarigError("--signer and --revocations both give signer facts; pass one of them") }
            let client = try SignerEndpointOptions.client(endpoint: signer, region: nil, awsProfile: nil)
            do {
                return try await SignerFactsCapture.capture(client) { Console.error($0) }
            } catch {
                throw OtarigError("cannot read signer facts from \(signer): \(error.message)")
            }
        }
        return try revocations.map { path -> SignerFacts in
            do {
                return try SignerFacts.decode(try Files.read(path, what: "signer facts"))
            } catch let error as PolicyError {
                throw OtarigError("the signer facts '\(path)' do not read: \(error.message)")
            }
        }
    }
}

/// The twin on the command line's inputs: the files read and checked, then one `TwinRun` (device layer, then
/// policy layer) over them.
struct TwinSession {
    var profile: PALProfile
    var loaded: DeviceInputOptions.Loaded
    var run: TwinRun

    var deviceInputs: DeviceInputs { run.inputs }
    var device: DeviceVerdict { run.device }
    var policy: PolicyVerdict { run.policy }
    /// The fallback certificate's bytes, for explain's probes.
    var fallback: [UInt8]? { run.inputs.fallbackCertificate }

    static func run(_ options: TwinOptions, _ inputs: DeviceInputOptions, now: Date = Date()) async throws -> TwinSession {
        let profile = try options.palProfile()
        let catalog = try options.loadCatalog(for: profile, inputs: inputs)
        let loaded = try inputs.load(defaultSignatureKey: profile.signatureKey)
        let fallback = try inputs.fallbackCertificate.map { try Array(Files.read($0, what: "fallback certificate")) }
        let facts = try await options.loadFacts()
        let alerts = try options.securityAlertState(for: profile)

        let directory = inputs.certificateDirectory
        // The CC3220SF: --cert-dir is the SimpleLink file system's root; the close reads any file there by name.
        var fileSystem: SimpleLinkFileLookup?
        if profile == .cc3220SimpleLink { fileSystem = { @Sendable name in SimpleLinkDirectory.read(name, in: directory) } }
        let deviceInputs = DeviceInputs(
            profile: profile, jobDocument: loaded.document.bytes, image: loaded.image, signatureKey: loaded.key.name,
            runningVersion: loaded.version, platformPendingCommit: inputs.platformState == .pendingCommit,
            fallbackCertificate: fallback, rootCatalog: catalog, fileSystem: fileSystem, securityAlerts: alerts.alerts,
            securityAlertThreshold: alerts.threshold) { name in CertificateDirectory.lookup(name, in: directory) }
        return TwinSession(profile: profile, loaded: loaded, run: TwinRun.run(deviceInputs, facts: facts, now: now))
    }
}
