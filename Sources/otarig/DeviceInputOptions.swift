import ArgumentParser
import CodeSigning
import Foundation
import HILRunner
import OTAVerifier
import SignerAPI

/// The inputs `otarig device-verify` and `otarig verify` share, so the device and its twin run side by side on the
/// same files with the same flags.
struct DeviceInputOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The OTA file as the device would receive it.", valueName: "file"))
    var image: String?

    @Option(name: .customLong("job-doc"), help: ArgumentHelp("The job document (afr_ota) or job execution message (JSON). With --signed-object it may be left out: the document AWS IoT's CreateOTAUpdate would make is used.", valueName: "file"))
    var jobDocument: String?

    @Option(name: .customLong("signed-object"), help: ArgumentHelp("Instead of --image: the signed object a signing job wrote (JSONEmbedded, or JSONDetached with --payload).", valueName: "file"))
    var signedObject: String?

    @Option(help: ArgumentHelp("The payload a JSONDetached signed object points at (its payloadLocation).", valueName: "file"))
    var payload: String?

    @Option(help: ArgumentHelp("The certfile of the job document made from --signed-object (the profile's certname); by default the one file in --cert-dir.", valueName: "name"))
    var certfile: String?

    @Option(name: .customLong("cert-dir"), help: ArgumentHelp("Where the device's certificates are, named as the job's certfile.", valueName: "dir"))
    var certificateDirectory: String

    @Option(name: .customLong("fallback-cert"), help: ArgumentHelp("The certificate compiled into the image (PEM or DER), used when certfile is not found.", valueName: "file"))
    var fallbackCertificate: String?

    @Option(name: .customLong("running-version"), help: ArgumentHelp("The running firmware's version, X.Y.Z or a 0x word (major<<24|minor<<16|build).", valueName: "version"))
    var runningVersion: String = "1.0.0"

    @Option(name: .customLong("signature-key"), help: ArgumentHelp("The job-document key the device's PAL reads (sig-sha256-ecdsa on ESP32, sig-sha1-rsa on CC3220SF); 'auto' takes the one the document has.", valueName: "key"))
    var signatureKey: String = "auto"

    @Option(name: .customLong("platform-state"), help: ArgumentHelp("The running image's PAL state: valid, or pending-commit (just activated, in self test).", valueName: "state"))
    var platformState: PlatformState = .valid

    @Flag(help: "Hand the job document's bytes to the device even when they are not valid JSON.")
    var raw = false

    enum PlatformState: String, ExpressibleByArgument, CaseIterable {
        case valid
        case pendingCommit = "pending-commit"
    }

    /// The job id given to a bare afr_ota document when it is run as a job execution.
    static let localJobId = "AFR_OTA-otarig-device-verify"

    /// What the files say, checked: the version word, the image, the bytes the device receives, the key.
    struct Loaded {
        var version: UInt32
        var image: Data
        /// The file the image came from (--image, --payload); nil when a signed object embeds it.
        var imagePath: String?
        /// Where the image came from, for messages.
        var imageName: String
        var document: PreparedDocument
        var key: SignatureKey
        /// The signed object's own fields, when the inputs came from one.
        var signedObject: SignedObjectDocument?

        var imageSize: Int { image.count }

        /// Runs `body` with a file holding the image (the C port reads it block by block): the input file, or a
        /// temporary copy of an embedded payload, removed afterwards.
        func withImageFile<T>(_ body: (String) throws -> T) throws -> T {
            if let imagePath { return try body(imagePath) }
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("otarig-payload-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).bin").path
            try Files.writeAtomically(image, to: path, mode: 0o600)
            defer { try? FileManager.default.removeItem(atPath: path) }
            return try body(path)
        }
    }

    /// Reads and checks every input; any problem is an OtarigError (exit 2) naming the file and the fix.
    func load(defaultSignatureKey: String = "sig-sha256-ecdsa") throws -> Loaded {
        let version = try Self.parseVersion(runningVersion)
        try checkCertificateDirectory()
        var (image, imagePath, imageName, signed) = try loadImage()
        let prepared: PreparedDocument
        if let jobDocument {
            let original = try Files.read(jobDocument, what: "job document")
            guard original.count <= 64 * 1024 else {
                throw OtarigError("the job document '\(jobDocument)' is \(original.count) bytes; a job document is at most 32 KiB (AWS IoT's limit); check the file")
            }
            prepared = try prepareJobDocument(original)
        } else if let signed {
            prepared = try prepareJobDocument(Data(try jobDocument(for: signed).encoded().utf8))
        } else {
            throw OtarigError("--job-doc is missing: pass the job document that goes with --image (or use --signed-object, from which otarig makes one)")
        }
        let key = try resolveSignatureKey(prepared, defaultKey: defaultSignatureKey)
        if signed != nil { imageName = signedObject ?? imageName }
        return Loaded(version: version, image: image, imagePath: imagePath, imageName: imageName, document: prepared,
                      key: key, signedObject: signed)
    }

    /// The image bytes, a path holding them when there is one, a name for messages, and the signed object.
    private func loadImage() throws -> (Data, String?, String, SignedObjectDocument?) {
        switch (image, signedObject) {
        case (nil, nil):
            throw OtarigError("no image: pass --image FILE with --job-doc FILE, or --signed-object FILE (a signing job's output)")
        case (_?, _?):
            throw OtarigError("--image and --signed-object both give the image; pass one of them")
        case (let image?, nil):
            if payload != nil { throw OtarigError("--payload goes with a JSONDetached --signed-object; with --image it is not used, drop it") }
            return (try Files.read(image, what: "image", mapped: true), image, image, nil)
        case (nil, let path?):
            let signed: SignedObjectDocument
            do {
                signed = try SignedObjectDocument(decoding: try Files.read(path, what: "signed object"))
            } catch let error as CodeSigningError {
                throw OtarigError("'\(path)': \(error.message)")
            }
            switch signed.payload {
            case .embedded(let bytes):
                if payload != nil {
                    throw OtarigError("the signed object '\(path)' is JSONEmbedded: it carries its payload, so drop --payload")
                }
                return (bytes, nil, path, signed)
            case .detached(let location):
                guard let payload else {
                    throw OtarigError("the signed object '\(path)' is JSONDetached; its payload is s3://\(location.bucketName)/\(location.key)?versionId=\(location.version): pass that object's bytes with --payload FILE")
                }
                return (try Files.read(payload, what: "payload", mapped: true), payload, payload, signed)
            }
        }
    }

    /// The job document CreateOTAUpdate makes from a signed object: filesize = rawPayloadSize, the signature under
    /// the key its algorithm names, certfile = the profile's certname.
    private func jobDocument(for signed: SignedObjectDocument) throws -> OTAJobDocument {
        let name: String
        if let certfile {
            name = certfile
        } else {
            let entries = ((try? FileManager.default.contentsOfDirectory(atPath: certificateDirectory)) ?? []).sorted()
            guard entries.count == 1 else {
                throw OtarigError("--certfile is missing: the job document made from the signed object needs the certfile the device looks up (the signing profile's certname); '\(certificateDirectory)' holds \(entries.count) files, so pass --certfile NAME")
            }
            name = entries[0]
        }
        do {
            return try OTAJobDocument(signedObject: signed, certname: name, streamname: "otarig-stream", filepath: "firmware.bin")
        } catch {
            throw OtarigError("the signed object '\(signedObject ?? "")': \(error.message); the signature algorithms FreeRTOS devices verify are SHA256withECDSA, SHA256withRSA and SHA1withRSA")
        }
    }

    /// What the verdict's wording needs to know about these inputs.
    func context(_ loaded: Loaded) -> DeviceConsole.Context {
        DeviceConsole.Context(certificateDirectory: certificateDirectory, imageSize: loaded.imageSize, signatureKey: loaded.key.name)
    }

    /// The header line both commands print above the console.
    func describe(_ loaded: Loaded) -> String {
        var text = "signature key \(loaded.key.name)\(loaded.key.detected ? " (from the job document)" : ""), running version \(AppVersion.text(loaded.version)), platform image \(platformState == .pendingCommit ? "PendingCommit" : "Valid")"
        if loaded.document.wrapped { text += "; job document run as job \(Self.localJobId)" }
        return text
    }

    static func parseVersion(_ text: String) throws -> UInt32 {
        if text.lowercased().hasPrefix("0x"), let word = UInt32(text.dropFirst(2), radix: 16) {
            return word
        }
        guard let word = AppVersion.word(text) else {
            throw OtarigError("--running-version '\(text)' is not a FreeRTOS version: write X.Y.Z with X and Y at most 255 and Z at most 65535 (e.g. 1.0.1), or a 0x word such as 0x01000001")
        }
        return word
    }

    func checkCertificateDirectory() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: certificateDirectory, isDirectory: &isDirectory) else {
            throw OtarigError("the certificate directory '\(certificateDirectory)' does not exist; pass the directory that holds the certificate the job's certfile names")
        }
        guard isDirectory.boolValue else {
            throw OtarigError("--cert-dir '\(certificateDirectory)' is a file, not a directory; pass its directory, or pass the file as --fallback-cert")
        }
        if let fallbackCertificate {
            _ = try Files.size(fallbackCertificate, what: "fallback certificate")
            return
        }
        // certfile may be a path (/cert/ota.crt), so a certificate may sit in a subdirectory.
        let entries = FileManager.default.enumerator(atPath: certificateDirectory)?.compactMap { $0 as? String } ?? []
        let files = entries.filter { name in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: certificateDirectory + "/" + name, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
        guard !files.isEmpty else {
            throw OtarigError("the certificate directory '\(certificateDirectory)' is empty; put the code-signing certificate there under the job's certfile name, or pass --fallback-cert")
        }
    }

    struct PreparedDocument {
        var bytes: [UInt8]
        var wrapped: Bool
    }

    /// The bytes the device receives: a bare afr_ota document becomes a job execution message around it. Read with
    /// the twin's coreJSON, as the agent reads it.
    func prepareJobDocument(_ data: Data) throws -> PreparedDocument {
        let bytes = Array(data)
        switch JobExecution.shape(of: bytes) {
        case .invalid(let status):
            if raw { return PreparedDocument(bytes: bytes, wrapped: false) }
            throw OtarigError("the job document '\(jobDocument ?? "")' is not valid JSON (coreJSON's JSON_Validate says \(status)); fix it, or pass --raw to see what a device does with these bytes")
        case .notAnObject:
            if raw { return PreparedDocument(bytes: bytes, wrapped: false) }
            throw OtarigError("the job document '\(jobDocument ?? "")' is not a JSON object; expected {\"afr_ota\": ...} or {\"execution\": ...}, or pass --raw")
        case .bareJobDocument:
            return PreparedDocument(bytes: JobExecution.wrap(bytes, jobId: Self.localJobId, clientToken: "0:otarig"), wrapped: true)
        case .otherObject:
            if raw { return PreparedDocument(bytes: bytes, wrapped: false) }
            throw OtarigError("the job document '\(jobDocument ?? "")' has neither afr_ota nor execution; it is not an OTA job (pass --raw to run it anyway)")
        case .executionMessage:
            return PreparedDocument(bytes: bytes, wrapped: false)
        }
    }

    struct SignatureKey {
        var name: String
        var detected: Bool
    }

    func resolveSignatureKey(_ document: PreparedDocument, defaultKey: String) throws -> SignatureKey {
        guard signatureKey == "auto" else {
            guard signatureKey.hasPrefix("sig-"), signatureKey.utf8.count <= 32 else {
                throw OtarigError("--signature-key '\(signatureKey)' is not a signature key: use sig-<hash>-<alg> (sig-sha256-ecdsa, sig-sha256-rsa, sig-sha1-rsa) or auto")
            }
            return SignatureKey(name: signatureKey, detected: false)
        }
        let keys = JobExecution.signatureKeys(in: document.bytes)
        switch keys.count {
        case 0: return SignatureKey(name: defaultKey, detected: false)
        case 1: return SignatureKey(name: keys[0], detected: true)
        default:
            throw OtarigError("the job document signs with \(keys.joined(separator: " and ")); pass --signature-key with the one your device's PAL reads")
        }
    }

}
