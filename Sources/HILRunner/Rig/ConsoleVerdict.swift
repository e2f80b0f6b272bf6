import Foundation
import OTAVerifier

/// What a board said about an OTA update, read from its console: the job-status messages the agent published (the
/// bytes the cloud would see), the PAL's close status when it logged one, and the verdict line when the firmware
/// prints one. This is the device's side of the cross-check; nothing here asks the twin.
///
/// Lines it reads (FreeRTOS OTA agent v3 wording, `shared/reference/freertos-ota.md` §4.3–4.4):
/// - `publish $aws/things/<thing>/jobs/<job>/update {"status":…}`: a job-status message;
/// - `Failed to close the OTA file: Error=(OtaPalSignatureCheckFailed:0xe3000000)`: the PAL's close status;
/// - `OTA verdict: <outcome>, <PAL status name> (0x<status>)`: the line otarig's firmware prints last (the simulated
///   boards and the QEMU build), naming the outcome as `DeviceOutcome` does;
/// - `sl_FsClose: <errors.h name> (<code>), security alerts <n>/<threshold>`: a CC3220SF's network processor on the
///   close (the simulated CC3220SF prints it before the verdict line).
public struct ObservedVerdict: Sendable, Equatable, Codable {
    /// The device's outcome, from its verdict line or inferred from the last job status.
    public var outcome: String?
    public var accepted: Bool?
    /// The PAL's close status, when the device logged or reported one.
    public var palStatus: UInt32?
    /// Job-status payloads in the order published.
    public var statuses: [String] = []
    /// The line the verdict was read from.
    public var evidence: String?
    /// The SimpleLink code of the last close before the verdict (a CC3220SF's `sl_FsClose`), and its errors.h name.
    public var simpleLinkCode: Int32?
    public var simpleLinkName: String?

    public init() {}

    /// Whether the console said enough to call it a verdict.
    public var isComplete: Bool { accepted != nil }

    public var palStatusText: String? { palStatus.map { PALStatus(rawValue: $0).description } }
}

public enum ConsoleVerdict {
    /// Reads the verdict from console lines (oldest first), up to the last verdict line.
    public static func read(_ lines: [String]) -> ObservedVerdict {
        var verdict = ObservedVerdict()
        // The last verdict line decides: after an accepted download the board reboots into the new image, and the
        // agent's self test there (the version check) gives the final word.
        let last = lines.lastIndex { $0.contains("OTA verdict: ") }
        for (index, line) in lines.enumerated() {
            if let last, index > last { break }
            if let range = line.range(of: "publish $aws/things/"), let brace = line[range.upperBound...].firstIndex(of: "{") {
                verdict.statuses.append(String(line[brace...]))
                continue
            }
            if let range = line.range(of: "sl_FsClose: ") {
                let rest = line[range.upperBound...]
                if let open = rest.firstIndex(of: "("), let close = rest[open...].firstIndex(of: ")"),
                   let code = Int32(rest[rest.index(after: open)..<close]) {
                    verdict.simpleLinkCode = code
                    verdict.simpleLinkName = rest[..<open].trimmingCharacters(in: .whitespaces)
                }
                continue
            }
            if let range = line.range(of: "Failed to close the OTA file: Error=("), let status = hexWord(after: ":0x", in: line[range.upperBound...]) {
                verdict.palStatus = status
                continue
            }
            if index == last, let range = line.range(of: "OTA verdict: ") {
                let rest = line[range.upperBound...]
                let outcome = rest.prefix { $0 != "," }.trimmingCharacters(in: .whitespaces)
                let known = DeviceOutcome(rawValue: outcome) ?? (outcome == "accepted" ? .accepted : nil)
                verdict.outcome = known?.rawValue ?? outcome
                verdict.accepted = known?.isAcceptance ?? (outcome == "accepted")
                if let status = hexWord(after: "(0x", in: rest) { verdict.palStatus = status }
                verdict.evidence = line
                return verdict
            }
        }
        // No verdict line: infer from the last final status, as a real board's console would let a person do.
        guard let last = verdict.statuses.last(where: { !$0.contains("\"receive\"") }) else { return verdict }
        verdict.evidence = last
        if last.contains("\"self_test\":\"ready\"") || last.contains("\"status\":\"SUCCEEDED\"") {
            verdict.accepted = true
            verdict.outcome = DeviceOutcome.accepted.rawValue
        } else if last.contains("\"status\":\"FAILED\"") {
            verdict.accepted = false
            // A close status means the PAL refused the file; anything else is left unnamed.
            if verdict.palStatus != nil { verdict.outcome = DeviceOutcome.rejectedSignature.rawValue }
        }
        return verdict
    }

    /// The 8 hex digits after `marker` in `text`.
    static func hexWord(after marker: String, in text: Substring) -> UInt32? {
        guard let range = text.range(of: marker) else { return nil }
        let digits = text[range.upperBound...].prefix { $0.isHexDigit }
        return digits.isEmpty ? nil : UInt32(digits, radix: 16)
    }
}
