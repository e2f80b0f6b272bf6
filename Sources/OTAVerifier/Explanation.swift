import Crypto
import CryptoExtras
import Foundation
import SwiftASN1
import X509

/// `otarig explain`: the twin's run walked step by step in the device's order, with the evidence engineers ask for
/// when a device says 0xe3: the hash it computed, what the signature decodes to, the RSA length against the modulus,
/// which certificate was picked and why, whether filesize matches the image, which base64 rule broke. After the
/// device's steps come probes the device never makes (another certificate, the other hash, the whole file) that
/// point at the likely cause.
public struct Explanation: Sendable {
    public enum Result: String, Sendable {
        case ok
        case fail
        case skipped = "skip"
        case notReached = "not-reached"
    }

    public struct Step: Sendable {
        public var name: String
        public var result: Result
        public var lines: [String]
    }

    public var steps: [Step] = []
    /// What the device does not try, and what it shows.
    public var probes: [String] = []

    /// The first failing step.
    public var failedStep: Step? { steps.first { $0.result == .fail } }
}

/// A certificate the twin could also try: the other files in the certificate directory, the fallback.
public struct CandidateCertificate: Sendable {
    public var name: String
    public var bytes: [UInt8]

    public init(name: String, bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
    }
}

public enum Explainer {
    /// The signature value's raw characters in a job execution document, as the agent's JSON search finds them
    /// (escapes not undone), for the first file entry.
    public static func signatureText(in document: [UInt8], key: String) -> [UInt8]? {
        let found = CoreJSON.search(document, query: "execution.jobDocument.afr_ota.files[0].\(key)")
        guard found.status == .success else { return nil }
        return Array(document[found.value])
    }

    /// Explains `verdict`, the twin's run on `inputs`. `signatureText` is the signature value's raw characters in
    /// the job document (for the base64 diagnosis), when the caller found them.
    public static func explain(_ inputs: DeviceInputs, _ verdict: DeviceVerdict, signatureText: [UInt8]?,
                               candidates: [CandidateCertificate]) -> Explanation {
        var builder = Builder(inputs: inputs, verdict: verdict, signatureText: signatureText, candidates: candidates)
        builder.build()
        return builder.explanation
    }

    private struct Builder {
        let inputs: DeviceInputs
        let verdict: DeviceVerdict
        let signatureText: [UInt8]?
        let candidates: [CandidateCertificate]
        var explanation = Explanation()
        var stopped = false

        init(inputs: DeviceInputs, verdict: DeviceVerdict, signatureText: [UInt8]?, candidates: [CandidateCertificate]) {
            self.inputs = inputs
            self.verdict = verdict
            self.signatureText = signatureText
            self.candidates = candidates
        }

        mutating func step(_ name: String, _ result: Explanation.Result, _ lines: [String]) {
            if stopped {
                explanation.steps.append(.init(name: name, result: .notReached, lines: []))
                return
            }
            explanation.steps.append(.init(name: name, result: result, lines: lines))
            if result == .fail { stopped = true }
        }

        var job: ParsedJobDocument { verdict.job ?? ParsedJobDocument() }
        var fileSize: Int { Int(job.fileSize) }

        mutating func build() {
            jobDocument()
            selfTest()
            protocols()
            fileCreate()
            receive()
            hash()
            securityLock()
            certificate()
            signatureEncoding()
            signatureCheck()
            probe()
        }

        // MARK: the device's steps

        mutating func jobDocument() {
            var lines: [String] = []
            if job.docError == .none, job.jobError == .none, job.otaError == .none {
                lines.append("job \(job.text(\.jobId)): filesize \(job.fileSize), fileid \(job.fileId), certfile '\(job.text(\.certFile))'")
            } else {
                lines.append("\(job.jobError.freeRTOSName), \(job.docError.freeRTOSName)" + (job.otaError == .none ? "" : ", \(job.otaError.freeRTOSName)"))
                if !job.jsonValid { lines.append("the bytes are not JSON the agent's coreJSON validator accepts") }
                for line in job.log where line.level == .error || line.level == .warn { lines.append("agent: \(line.text)") }
            }
            if job.base64Status != .success || job.docError == .base64Decode {
                if let signatureText {
                    let diagnosis = FreeRTOSBase64.diagnose(signatureText, capacity: inputs.limits.maxSignatureSize)
                    lines.append("\(inputs.signatureKey): \(diagnosis.status.freeRTOSName): \(diagnosis.rule)")
                } else {
                    lines.append("\(inputs.signatureKey): \(job.base64Status.freeRTOSName)")
                }
            } else if verdict.outcome != .noActiveJob {
                if signatureText == nil, job.signature.isEmpty {
                    lines.append("no \(inputs.signatureKey) in the file entry: this PAL reads only that key, so it has no signature to check")
                } else {
                    lines.append("\(inputs.signatureKey): \(signatureText?.count ?? 0) base64 characters decode to \(job.signature.count) bytes")
                }
            }
            let failed = verdict.outcome == .rejectedJobDocument || verdict.outcome == .noActiveJob
                || (job.jobError == .none && job.otaError != .none && verdict.outcome != .accepted)
            step("job document", failed ? .fail : .ok, lines)
        }

        mutating func selfTest() {
            let running = AppVersion.text(inputs.runningVersion)
            switch verdict.outcome {
            case .rejectedVersion:
                step("self test", .fail, ["the job is in self test and the new image's version (\(running), what is running now) is not above the updater's (\(AppVersion.text(job.updatedBy))): \(verdict.otaError.freeRTOSName)"])
            case .rejectedImageState:
                step("self test", .fail, [job.inSelfTest
                    ? "the job is in self test but the platform's image is not PendingCommit (pass --platform-state pending-commit if the device just rebooted into the new image)"
                    : "the platform's image is PendingCommit (in self test) but the job is a download job; the device rejects and resets"])
            case .selfTestStarted:
                step("self test", .ok, ["running \(running) is above the updater's \(AppVersion.text(job.updatedBy)); image state Testing"])
            default:
                step("self test", .skipped, ["a download job (no self_test in statusDetails); the platform image is \(inputs.platformPendingCommit ? "PendingCommit" : "Valid")"])
            }
        }

        mutating func protocols() {
            guard verdict.outcome != .selfTestStarted else { return }
            let text = job.text(\.protocols)
            step("protocols", verdict.outcome == .rejectedProtocol ? .fail : .ok,
                 [verdict.outcome == .rejectedProtocol ? "\(text.isEmpty ? "(none)" : text) names neither \"MQTT\" nor \"HTTP\"" : "\(text)"])
        }

        mutating func fileCreate() {
            guard verdict.outcome != .selfTestStarted else { return }
            if verdict.outcome == .rejectedFileCreate {
                step("file create", .fail, ["filesize \(fileSize) is over the CC3220SF PAL's 512 KiB (\(SimpleLinkClose.maxFileSize) bytes): \(verdict.palStatus.mainName) \(verdict.palStatus.hex)"])
            } else if inputs.profile == .cc3220SimpleLink {
                step("file create", .ok, ["filesize \(fileSize) is within the CC3220SF PAL's 512 KiB"])
            } else if let partitionSize = inputs.partitionSize, inputs.profile == .esp32MbedTLS {
                step("file create", .ok, ["the PAL opens a \(fileSize)-byte file in a \(partitionSize)-byte partition (esp_ota_begin with OTA_SIZE_UNKNOWN checks no size)"])
            } else {
                step("file create", .ok, ["the PAL opens a \(fileSize)-byte file"])
            }
        }

        mutating func receive() {
            guard verdict.outcome != .selfTestStarted else { return }
            let blockSize = inputs.limits.fileBlockSize
            let blocks = (fileSize + blockSize - 1) / blockSize
            let image = inputs.image.count
            if verdict.outcome == .rejectedWrite, verdict.ingestResult == -9 {
                let offset = verdict.blockIndex * blockSize
                step("receive", .fail, [
                    "block \(verdict.blockIndex) of \(blocks) (offset \(offset), \(verdict.blockSize) bytes) ends past the \(inputs.partitionSize ?? 0)-byte partition: the PAL's write fails",
                    "the image is \(fileSize) bytes; the OTA partition takes at most \(inputs.partitionSize ?? 0) (and the ESP32 PAL appends an \(inputs.profile.closeTrailerSize)-byte signature block after it)",
                ])
            } else if verdict.outcome == .rejectedBlock {
                let relation = image < fileSize ? "\(fileSize - image) bytes short of" : "\(image - fileSize) bytes longer than"
                step("receive", .fail, [
                    "block \(verdict.blockIndex) of \(blocks) arrived with \(verdict.blockSize) bytes; filesize \(fileSize) allows \(verdict.blockIndex + 1 < blocks ? blockSize : fileSize - verdict.blockIndex * blockSize)",
                    "the image is \(image) bytes, \(relation) the job's filesize: they must be equal (AWS IoT sets filesize from the signed object's rawPayloadSize)",
                ])
            } else {
                var lines = ["\(verdict.bytesReceived) bytes in \(blocks) block\(blocks == 1 ? "" : "s") of up to \(blockSize)"]
                if image != fileSize {
                    lines.append("the image is \(image) bytes; the stream carries only [0, \(fileSize)), the rest never reaches the device")
                } else {
                    lines.append("the image's \(image) bytes match the job's filesize")
                }
                step("receive", .ok, lines)
            }
        }

        mutating func hash() {
            guard verdict.outcome != .selfTestStarted else { return }
            var lines = ["\(verdict.hash.rawValue) over [0, \(fileSize)): \(Hex.string(verdict.digest))"]
            switch inputs.profile {
            case .posixOpenSSL:
                if inputs.signatureKey.contains("sha1") { lines.append("the POSIX PAL hashes SHA-256 whatever the key (\(inputs.signatureKey)) says") }
            case .cc3220SimpleLink:
                lines.append("the network processor always hashes SHA-1")
            case .esp32MbedTLS:
                lines.append("the hash the key \(inputs.signatureKey) names")
            }
            step("hash", verdict.digest.isEmpty ? .fail : .ok, lines)
        }

        /// The CC3220SF's tamper lock, checked before anything else in the close, and what this close adds to it.
        mutating func securityLock() {
            guard inputs.profile == .cc3220SimpleLink, verdict.outcome != .selfTestStarted, let simpleLink = verdict.simpleLink else { return }
            let before = simpleLink.securityAlertsBefore, after = simpleLink.securityAlertsAfter, threshold = simpleLink.securityAlertThreshold
            if simpleLink.error == .deviceLockedSecurityAlert {
                step("security alerts", .fail, [
                    "\(before) security alerts counted, threshold \(threshold): the device is locked and checks nothing",
                    "\(SimpleLinkError.deviceLockedSecurityAlert.name) (\(SimpleLinkError.deviceLockedSecurityAlert.rawValue)): \(verdict.palStatus.mainName) \(verdict.palStatus.hex); only a return to factory image (or reprogramming) resets the count",
                ])
                return
            }
            var lines = ["\(before) security alert\(before == 1 ? "" : "s") counted before this close, threshold \(threshold): not locked"]
            if after > before, let error = simpleLink.error {
                lines.append("this close's \(error.name) is a security alert: the count becomes \(after)" + (simpleLink.lockedAfter
                    ? ", the threshold: every later secure close gets \(SimpleLinkError.deviceLockedSecurityAlert.name) (\(SimpleLinkError.deviceLockedSecurityAlert.rawValue))"
                    : " (\(threshold - after) more before the device locks)"))
            } else {
                lines.append("this close adds no security alert; the count stays \(after)")
            }
            step("security alerts", .ok, lines)
        }

        var usedCertificate: [UInt8]? {
            if case .found(let bytes) = verdict.certificateLookup { return bytes }
            return verdict.usedFallbackCertificate ? inputs.fallbackCertificate : nil
        }

        mutating func certificate() {
            guard verdict.outcome != .selfTestStarted else { return }
            let certFile = job.text(\.certFile)
            var lines: [String] = []
            var failed = false
            switch verdict.certificateLookup {
            case .found?: lines.append("'\(certFile)' found by the job's certfile" + (inputs.profile == .cc3220SimpleLink ? " in the SimpleLink file system" : ""))
            case .notFound?:
                if verdict.usedFallbackCertificate {
                    lines.append("no certificate named '\(certFile)'; the PAL fell back to its compiled-in certificate")
                } else {
                    lines.append("no certificate named '\(certFile)'" + (inputs.profile == .cc3220SimpleLink ? " in the SimpleLink file system" : ", and no compiled-in fallback"))
                    failed = true
                }
            case .unreadable?:
                lines.append("'\(certFile)' exists but cannot be read as a file (empty, a directory, or over 8 KiB)" + (verdict.usedFallbackCertificate ? "; the PAL fell back to its compiled-in certificate" : ""))
                failed = !verdict.usedFallbackCertificate
            case nil: break
            }
            if let bytes = usedCertificate {
                lines += inputs.profile == .cc3220SimpleLink ? Self.describeSimpleLinkCertificate(bytes) : describeCertificate(bytes)
            }
            switch verdict.signatureFailure {
            case .certificateUnparsable(let why)?, .unsupportedKey(let why)?:
                lines.append("refused: \(why)")
                failed = true
            default: break
            }
            if verdict.palStatus.main == UInt32(PALMain.badSignerCert.rawValue) { failed = true }
            if let simpleLink = verdict.simpleLink {
                for (index, link) in simpleLink.steps.enumerated() {
                    lines.append("chain step \(index + 1): '\(link.certificate)' was issued by '\(link.issuer)': " + Self.describe(link.lookup))
                }
                if !simpleLink.chain.isEmpty { lines.append("chain: " + simpleLink.chain.joined(separator: " <- issued by <- ")) }
                if let root = simpleLink.root { lines.append("the chain ends in the catalog root from '\(root)'") }
                if let error = simpleLink.error, Self.isCertificateError(error) {
                    lines.append("\(error.name) (\(error.rawValue)): \(simpleLink.detail ?? "")")
                    failed = true
                }
            }
            step("certificate", failed ? .fail : .ok, lines)
        }

        static func describe(_ lookup: SimpleLinkEvidence.ChainStep.Lookup) -> String {
            switch lookup {
            case .catalogRoot(let file?): "a catalog root of that name (from '\(file)') verifies its signature"
            case .catalogRoot(nil): "catalog roots have that name, but none of their keys verifies its signature"
            case .noCommonName: "no catalog root has that name, and it has no commonName to look up as a file"
            case .file(let name, true): "no catalog root has that name; looked up the file '\(name)' (its commonName): found"
            case .file(let name, false): "no catalog root has that name; looked up the file '\(name)' (its commonName): not found"
            }
        }

        /// The certificate as the network processor reads it (DER only, RSA keys from 1024 bits).
        static func describeSimpleLinkCertificate(_ bytes: [UInt8]) -> [String] {
            switch SimpleLinkCertificate.read(bytes) {
            case .failure(let why): return ["\(bytes.count) bytes that are not one DER certificate: \(why.message)"]
            case .success(let certificate):
                return [
                    "subject \(certificate.subjectText), issuer \(certificate.issuerText), \(certificate.keyDescription), signed \(certificate.signatureAlgorithmName)",
                    "SHA-256 fingerprint \(Hex.string(SHA256.hash(data: bytes))); the device does not check dates",
                ]
            }
        }

        static func isCertificateError(_ error: SimpleLinkError) -> Bool {
            switch error {
            case .wrongSignatureSecurityAlert, .illegalSignature, .deviceLockedSecurityAlert: false
            case .wrongSignatureOrCertificateNameLength: false
            default: true
            }
        }

        func describeCertificate(_ bytes: [UInt8]) -> [String] {
            guard let (certificate, der) = Self.parseCertificate(bytes) else {
                return ["\(bytes.count) bytes that are not an X.509 certificate"]
            }
            let key = SignatureChecker.signerKey(certificate)?.description ?? "\(certificate.publicKey)"
            return [
                "subject \(certificate.subject), issuer \(certificate.issuer), \(key)",
                "SHA-256 fingerprint \(Hex.string(SHA256.hash(data: der)))",
                "valid \(iso(certificate.notValidBefore)) to \(iso(certificate.notValidAfter)); the device does not check dates",
            ]
        }

        static func parseCertificate(_ bytes: [UInt8]) -> (Certificate, [UInt8])? {
            let der = SignatureChecker.pemBlocks(bytes)?.first ?? bytes
            guard let certificate = try? Certificate(derEncoded: der) else { return nil }
            return (certificate, der)
        }

        var signerKey: SignerKey? {
            guard let bytes = usedCertificate, let (certificate, _) = Self.parseCertificate(bytes) else { return nil }
            return SignatureChecker.signerKey(certificate)
        }

        mutating func signatureEncoding() {
            guard verdict.outcome != .selfTestStarted else { return }
            var lines = SignatureAnatomy.describe(job.signature, key: signerKey)
            if inputs.profile == .cc3220SimpleLink {
                // The network processor's own reading: the modulus the chain walk found, and TI's 256-byte bound.
                let count = job.signature.count
                if let modulus = verdict.simpleLink?.modulusBytes, let key = verdict.simpleLink?.signerKey {
                    lines = ["\(count) bytes for an \(key) key whose modulus is \(modulus) bytes" + (count == modulus ? " (equal, as PKCS#1 v1.5 needs)" : ": they must be equal")]
                } else {
                    lines = [count == 0 ? "no signature bytes" : "\(count) bytes; sl_FsClose takes 1 to \(SimpleLinkClose.maxSignatureLength) (RSA-1024 or RSA-2048)"]
                }
            }
            var failed = false
            switch verdict.signatureFailure {
            case .emptySignature?:
                failed = true
            case .signatureEncoding(let why)?:
                lines.append("refused: \(why)")
                failed = true
            case .rsaLengthMismatch?:
                failed = true
            default: break
            }
            if let error = verdict.simpleLink?.error, error == .illegalSignature || error == .wrongSignatureOrCertificateNameLength {
                lines.append("\(error.name) (\(error.rawValue)): \(verdict.simpleLink?.detail ?? "")")
                failed = true
            }
            step("signature encoding", failed ? .fail : .ok, lines)
        }

        mutating func signatureCheck() {
            guard verdict.outcome != .selfTestStarted else { return }
            if verdict.accepted {
                step("signature check", .ok, ["verifies with \(verdict.signerKey ?? "the certificate's key") over the \(verdict.hash.rawValue): \(verdict.palStatus.mainName)"])
            } else if verdict.signatureFailure == .signatureMismatch || verdict.simpleLink?.error == .wrongSignatureSecurityAlert {
                step("signature check", .fail, ["does not verify with the certificate's key over the \(verdict.hash.rawValue): \(verdict.palStatus.mainName) \(verdict.palStatus.hex)"])
            } else {
                step("signature check", verdict.outcome == .rejectedSignature ? .fail : .notReached,
                     verdict.outcome == .rejectedSignature ? ["\(verdict.palStatus.mainName) \(verdict.palStatus.hex)"] : [])
            }
        }

        // MARK: probes the device does not make

        mutating func probe() {
            guard !verdict.accepted, verdict.outcome == .rejectedSignature || verdict.outcome == .rejectedBlock else { return }
            let signature = job.signature
            guard !signature.isEmpty else { return }
            let image = Array(inputs.image)
            let covered = Array(image.prefix(fileSize))
            let hashes: [ImageHash] = [verdict.hash, verdict.hash == .sha256 ? .sha1 : .sha256]

            func verifies(_ key: SignerKey, _ bytes: [UInt8], _ hash: ImageHash, raw: Bool = false) -> Bool {
                let digest = hash.digest(bytes[...])
                if raw { return SignatureAnatomy.verifiesAsRaw(signature, key: key, digest: digest) }
                return SignatureChecker.verify(signature: signature, digest: digest, key: key, profile: .esp32MbedTLS) == nil
            }

            // The device's own certificate first (or, when it stopped before the close, the one it would have
            // looked up), then the other candidates; the device's own body and hash come first too.
            var keys: [(name: String, isDevices: Bool, key: SignerKey)] = []
            var used = usedCertificate
            if used == nil {
                if case .found(let bytes) = inputs.certificates(job.text(\.certFile)) { used = bytes } else { used = inputs.fallbackCertificate }
            }
            if let used, let (certificate, _) = Self.parseCertificate(used), let key = SignatureChecker.signerKey(certificate) {
                keys.append(("the certificate the device used", true, key))
            }
            for candidate in candidates where candidate.bytes != used {
                if let (certificate, _) = Self.parseCertificate(candidate.bytes), let key = SignatureChecker.signerKey(certificate) {
                    keys.append(("'\(candidate.name)'", false, key))
                }
            }
            var bodies: [(name: String, isDevices: Bool, bytes: [UInt8])] = [("[0, filesize)", true, covered)]
            if image.count != fileSize && !image.isEmpty { bodies.append(("the whole \(image.count)-byte image", false, image)) }
            for key in keys {
                for body in bodies {
                    for hash in hashes where !(key.isDevices && body.isDevices && hash == verdict.hash) {
                        guard verifies(key.key, body.bytes, hash) else { continue }
                        let meaning: String
                        if !key.isDevices {
                            meaning = ": the job's certfile names the wrong certificate; point it at \(key.name)"
                        } else if hash != verdict.hash {
                            meaning = inputs.profile == .posixOpenSSL
                                ? ": the image was signed with \(hash.rawValue), but the POSIX PAL always hashes SHA-256"
                                : ": the signer used \(hash.rawValue) but the PAL hashes \(verdict.hash.rawValue) (check the signature key: \(inputs.signatureKey))"
                        } else {
                            // The device's key and hash over the whole image, not [0, filesize).
                            meaning = ": the job's filesize is wrong; it must be the image's size"
                        }
                        explanation.probes.append("the signature verifies with \(key.name) over \(body.name) hashed with \(hash.rawValue)\(meaning)")
                    }
                    if verifies(key.key, body.bytes, verdict.hash, raw: true) {
                        explanation.probes.append("read as raw r‖s (IEEE P1363), the signature verifies with \(key.name) over \(body.name): the signer wrote raw r‖s where FreeRTOS PALs expect DER")
                    }
                }
            }
            if explanation.probes.isEmpty {
                explanation.probes.append("the signature verifies with none of the \(keys.count) certificate\(keys.count == 1 ? "" : "s") tried, over [0, filesize) or the whole image, with SHA-256 or SHA-1: the image or the signature changed after signing, or another key signed it")
            }
        }
    }

    static func iso(_ date: Date) -> String { UTCTimestamp.string(date) }
}

/// What a signature's bytes are: strict DER, DER that only mbedTLS reads, raw r‖s, or an RSA block.
enum SignatureAnatomy {
    static func describe(_ signature: [UInt8], key: SignerKey?) -> [String] {
        guard !signature.isEmpty else { return ["no signature bytes"] }
        if case .rsa(let rsa)? = key?.key {
            let modulus = (rsa.keySizeInBits + 7) / 8
            return ["\(signature.count) bytes for an RSA-\(rsa.keySizeInBits) key whose modulus is \(modulus) bytes" + (signature.count == modulus ? " (equal, as PKCS#1 v1.5 needs)" : ": they must be equal")]
        }
        var lines: [String] = []
        let width = key.map(coordinateWidth) ?? 32
        guard signature.first == 0x30 else {
            if signature.count == 2 * width {
                lines.append("\(signature.count) bytes, not DER (it starts with 0x\(Hex.byte(signature[0]))): the size of raw r‖s (IEEE P1363) for a \(width * 8)-bit curve; FreeRTOS PALs take a DER ECDSA-Sig-Value")
            } else {
                lines.append("\(signature.count) bytes, not DER: it starts with 0x\(Hex.byte(signature[0])), not a SEQUENCE (0x30)")
            }
            return lines
        }
        var notes: [String] = []
        var position = 1
        guard let (length, minimal) = readLength(signature, &position) else {
            return ["\(signature.count) bytes: a SEQUENCE whose length does not read"]
        }
        if !minimal { notes.append("the SEQUENCE length is not minimally encoded") }
        let available = signature.count - position
        var header = "DER SEQUENCE of \(length) bytes"
        if length < available {
            header += ", followed by \(available - length) trailing bytes"
            notes.append("\(available - length) bytes after the SEQUENCE")
        } else if length > available {
            header += ", but only \(available) bytes follow"
        }
        lines.append("\(signature.count) bytes: \(header)")
        var parts: [ArraySlice<UInt8>] = []
        for name in ["r", "s"] {
            guard position < signature.count, signature[position] == 0x02 else {
                lines.append("\(name): not an INTEGER")
                return lines
            }
            position += 1
            guard let (intLength, intMinimal) = readLength(signature, &position), position + intLength <= signature.count else {
                lines.append("\(name): its length does not fit")
                return lines
            }
            let value = signature[position..<position + intLength]
            position += intLength
            let zeros = value.prefix { $0 == 0 }.count
            var detail = "\(name): INTEGER of \(intLength) bytes"
            let signByte = zeros >= 1 && value.count > zeros && value[value.startIndex + zeros] & 0x80 != 0
            let redundant = zeros - (signByte ? 1 : 0)
            if signByte { detail += ", a 0x00 sign byte (the next byte's high bit is set)" }
            if redundant > 0 {
                detail += ", \(redundant) redundant leading zero byte\(redundant == 1 ? "" : "s")"
                notes.append("\(name) has \(redundant) redundant leading zero byte\(redundant == 1 ? "" : "s")")
            }
            detail += ", \(value.count - zeros) value bytes"
            if !intMinimal { notes.append("\(name)'s length is not minimally encoded") }
            if let first = value.first, first & 0x80 != 0 {
                detail += ", high bit set without a 0x00 (negative in DER)"
                notes.append("\(name) is negative as DER reads it")
            }
            lines.append(detail)
            parts.append(value)
        }
        if parts.count == 2, let order = key.flatMap(curveOrder) {
            let s = parts[1].drop { $0 == 0 }
            if isHigh(Array(s), order: order) {
                lines.append("s is above n/2 (high-S); ECDSA verification accepts it (mbedTLS and OpenSSL apply no low-S rule)")
            }
        }
        switch MbedTLSSignature.read(signature) {
        case .failure(let refusal):
            lines.append("mbedTLS refuses it: \(refusal.reason); OpenSSL refuses it too")
        case .success:
            lines.append(notes.isEmpty
                ? "strict DER: mbedTLS and OpenSSL both read it"
                : "not strict DER (\(notes.joined(separator: "; "))): mbedTLS reads it, OpenSSL refuses it")
        }
        return lines
    }

    static func coordinateWidth(_ key: SignerKey) -> Int {
        switch key.key {
        case .p256: 32
        case .p384: 48
        case .p521: 66
        case .rsa: 0
        }
    }

    /// The group order n, big-endian.
    static func curveOrder(_ key: SignerKey) -> [UInt8]? {
        switch key.key {
        case .p256: Hex.bytes("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")
        case .p384: Hex.bytes("ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973")
        default: nil
        }
    }

    /// Whether `value` > order / 2.
    static func isHigh(_ value: [UInt8], order: [UInt8]) -> Bool {
        var half = [UInt8](repeating: 0, count: order.count)
        var carry: UInt8 = 0
        for index in order.indices {
            half[index] = order[index] >> 1 | carry
            carry = order[index] << 7
        }
        guard value.count <= half.count else { return true }
        let padded = [UInt8](repeating: 0, count: half.count - value.count) + value
        return padded.lexicographicallyPrecedes(half) == false && padded != half
    }

    /// A DER length at `position`: its value and whether it is minimally encoded.
    static func readLength(_ bytes: [UInt8], _ position: inout Int) -> (Int, Bool)? {
        guard position < bytes.count else { return nil }
        let first = bytes[position]
        position += 1
        if first & 0x80 == 0 { return (Int(first), true) }
        let count = Int(first & 0x7F)
        guard (1...4).contains(count), position + count <= bytes.count else { return nil }
        var length = 0
        for index in 0..<count { length = length << 8 | Int(bytes[position + index]) }
        position += count
        let minimal = length >= 0x80 && bytes[position - count] != 0 && (count == 1 || length >= 1 << (8 * (count - 1)))
        return (length, minimal)
    }

    /// Whether the bytes, read as raw r‖s, verify.
    static func verifiesAsRaw(_ signature: [UInt8], key: SignerKey, digest: TypedDigest) -> Bool {
        func check<K: ECDSAPublicKey>(_ key: K) -> Bool {
            guard let value = try? K.Signature(rawRepresentation: signature) else { return false }
            return switch digest {
            case .sha256(let digest): key.isValidSignature(value, for: digest)
            case .sha1(let digest): key.isValidSignature(value, for: digest)
            }
        }
        switch key.key {
        case .p256(let ec): return signature.count == 64 && check(ec)
        case .p384(let ec): return signature.count == 96 && check(ec)
        case .p521(let ec): return signature.count == 132 && check(ec)
        case .rsa: return false
        }
    }
}
