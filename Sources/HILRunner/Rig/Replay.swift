import Foundation
import OTAVerifier

/// `otarig replay`: a console captured from a board set beside the twin's run on the inputs the board was given,
/// line for line, to say where the two first part ways, or that they agree and where the device stopped.
public struct ReplayComparison: Sendable, Equatable {
    /// The OTA agent's lines as the board printed them (the text after the log tag), rig-only lines left out.
    public var deviceLines: [String]
    /// The same lines from the twin: its log lines and job statuses.
    public var twinLines: [String]
    /// The first index where they differ (nil: they agree line for line).
    public var firstDifference: Int?
    public var device: ObservedVerdict

    public var agree: Bool { firstDifference == nil }
}

public enum Replay {
    /// Lines the simulated firmware prints around the agent that no FreeRTOS agent prints.
    static let rigLines = ["OTA job staged", "OTA verdict:", "erased ", "set boot partition", "No OTA job staged"]

    /// The agent's lines from a console: the text after an `AWS_OTA: ` tag (ESP-IDF's `I (123) AWS_OTA: …`) or
    /// after `[OTA] ` / `OTA: ` in other ports' formats, with job-status publishes as `publish {json}`.
    public static func agentLines(_ console: [String]) -> [String] {
        var lines: [String] = []
        for raw in console {
            guard let text = ["AWS_OTA: ", "[OTA] ", "[OTA_Agent] "].lazy.compactMap({ tag in raw.range(of: tag).map { String(raw[$0.upperBound...]) } }).first else {
                continue
            }
            if rigLines.contains(where: { text.hasPrefix($0) }) { continue }
            if text.hasPrefix("publish "), let brace = text.firstIndex(of: "{") {
                lines.append("publish " + text[brace...])
            } else {
                lines.append(text)
            }
            // The agent's part ends with the verdict; what follows is the next boot.
        }
        return lines
    }

    /// The twin's run as the lines the agent would print.
    public static func twinLines(_ verdict: DeviceVerdict) -> [String] {
        verdict.events.map { event in
            switch event {
            case .log(let line): line.text
            case .status(let status): "publish " + status.payload
            }
        }
    }

    /// Compares a console with the twin's run. The job id the board was given may differ from the one the twin
    /// was given (a bare document gets a local id); the device's is replaced by the twin's before comparing.
    public static func compare(console: [String], twin: DeviceVerdict) -> ReplayComparison {
        var device = agentLines(upToVerdict(console))
        let expected = twinLines(twin)
        if let deviceId = jobId(in: device), let twinId = jobId(in: expected), deviceId != twinId {
            device = device.map { $0.replacingOccurrences(of: deviceId, with: twinId) }
        }
        let first = zip(device, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            ?? (device.count == expected.count ? nil : min(device.count, expected.count))
        return ReplayComparison(deviceLines: device, twinLines: expected, firstDifference: first, device: ConsoleVerdict.read(console))
    }

    /// The console up to its last verdict line (after an accepted download, the self test's).
    static func upToVerdict(_ console: [String]) -> [String] {
        guard let index = console.lastIndex(where: { $0.contains("OTA verdict: ") }) else { return console }
        return Array(console[...index])
    }

    static func jobId(in lines: [String]) -> String? {
        for line in lines {
            if let range = line.range(of: "[execution.jobId: ") {
                return String(line[range.upperBound...].prefix { $0 != "]" })
            }
        }
        return nil
    }
}
