import ArgumentParser
import Foundation

/// The inputs `otarig device-verify` and `otarig verify` share, so the device and its twin run side by side on the
/// same files with the same flags.
struct DeviceInputOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The OTA file as the device would receive it.", valueName: "file"))
    var image: String

    @Option(name: .customLong("job-doc"), help: ArgumentHelp("The job document (afr_ota) or job execution message (JSON).", valueName: "file"))
    var jobDocument: String

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

    /// What the files say, checked: the version word, the image's size, the bytes the device receives, the key.
    struct Loaded {
        var version: UInt32
        var imageSize: Int
        var document: PreparedDocument
        var key: SignatureKey
    }

    /// Reads and checks every input; any problem is an OtarigError (exit 2) naming the file and the fix.
    func load(defaultSignatureKey: String = "sig-sha256-ecdsa") throws -> Loaded {
        let version = try Self.parseVersion(runningVersion)
        let imageSize = try Files.size(image, what: "image")
        try checkCertificateDirectory()
        let original = try Files.read(jobDocument, what: "job document")
        guard original.count <= 64 * 1024 else {
            throw OtarigError("the job document '\(jobDocument)' is \(original.count) bytes; a job document is at most 32 KiB (AWS IoT's limit); check the file")
        }
        let prepared = try prepareJobDocument(original)
        let key = try resolveSignatureKey(prepared, defaultKey: defaultSignatureKey)
        return Loaded(version: version, imageSize: imageSize, document: prepared, key: key)
    }

    /// The header line both commands print above the console.
    func describe(_ loaded: Loaded) -> String {
        var text = "signature key \(loaded.key.name)\(loaded.key.detected ? " (from the job document)" : ""), running version \(Self.describeVersion(loaded.version)), platform image \(platformState == .pendingCommit ? "PendingCommit" : "Valid")"
        if loaded.document.wrapped { text += "; job document run as job \(Self.localJobId)" }
        return text
    }

    static func describeVersion(_ version: UInt32) -> String {
        "\(version >> 24).\((version >> 16) & 0xff).\(version & 0xffff)"
    }


    static func parseVersion(_ text: String) throws -> UInt32 {
        if text.lowercased().hasPrefix("0x"), let word = UInt32(text.dropFirst(2), radix: 16) {
            return word
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let major = UInt32(parts[0]), let minor = UInt32(parts[1]), let build = UInt32(parts[2]),
              major <= 255, minor <= 255, build <= 65535
        else {
            throw OtarigError("--running-version '\(text)' is not a FreeRTOS version: write X.Y.Z with X and Y at most 255 and Z at most 65535 (e.g. 1.0.1), or a 0x word such as 0x01000001")
        }
        return major << 24 | minor << 16 | build
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
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: certificateDirectory)) ?? []
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
        var object: [String: Any]?
    }

    /// The bytes the device receives: a bare afr_ota document becomes a job execution message around it.
    func prepareJobDocument(_ data: Data) throws -> PreparedDocument {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            if raw {
                return PreparedDocument(bytes: Array(data), wrapped: false, object: nil)
            }
            let reason = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "it does not parse"
            throw OtarigError("the job document '\(jobDocument)' is not valid JSON (\(reason)); fix it, or pass --raw to see what a device does with these bytes")
        }
        guard let object = parsed as? [String: Any] else {
            if raw { return PreparedDocument(bytes: Array(data), wrapped: false, object: nil) }
            throw OtarigError("the job document '\(jobDocument)' is not a JSON object; expected {\"afr_ota\": ...} or {\"execution\": ...}, or pass --raw")
        }
        if object["execution"] == nil, object["afr_ota"] != nil {
            var message = Array(#"{"clientToken":"0:otarig","timestamp":0,"execution":{"jobId":"\#(Self.localJobId)","status":"QUEUED","jobDocument":"#.utf8)
            message.append(contentsOf: data)
            message.append(contentsOf: Array("}}".utf8))
            return PreparedDocument(bytes: message, wrapped: true, object: ["execution": ["jobDocument": object]])
        }
        if object["execution"] == nil, !raw {
            throw OtarigError("the job document '\(jobDocument)' has neither afr_ota nor execution; it is not an OTA job (pass --raw to run it anyway)")
        }
        return PreparedDocument(bytes: Array(data), wrapped: false, object: object)
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
        let execution = document.object?["execution"] as? [String: Any]
        let job = execution?["jobDocument"] as? [String: Any]
        let files = (job?["afr_ota"] as? [String: Any])?["files"] as? [[String: Any]]
        let keys = Set((files ?? []).flatMap { $0.keys.filter { $0.hasPrefix("sig-") } }).sorted()
        switch keys.count {
        case 0: return SignatureKey(name: defaultKey, detected: false)
        case 1: return SignatureKey(name: keys[0], detected: true)
        default:
            throw OtarigError("the job document signs with \(keys.joined(separator: " and ")); pass --signature-key with the one your device's PAL reads")
        }
    }

}
