import Foundation
import HILRunner

/// Hand-made run reports for the report writers' tests (no runner involved): two boards, every classification, a
/// cell that passed after a rig fault, and console lines with control characters and markup characters.
enum ReportFixtures {
    static let started = Date(timeIntervalSince1970: 1_785_549_600) // 2026-08-01T02:00:00Z

    static func verdict(_ outcome: String, accepted: Bool, pal: UInt32? = nil) -> ObservedVerdict {
        var verdict = ObservedVerdict()
        verdict.outcome = outcome
        verdict.accepted = accepted
        verdict.palStatus = pal
        verdict.statuses = [#"{"status":"IN_PROGRESS","statusDetails":{"self_test":"ready"}}"#]
        verdict.evidence = "OTA verdict: \(outcome)"
        return verdict
    }

    static func cell(_ board: String, _ scenario: String, _ classification: Cell.Classification, type: String? = nil,
                     message: String = "as expected", flaky: String? = nil, console: [String] = ["I (1) ota: booted 1.0.0"]) -> Cell {
        let accepted = classification == .pass || classification == .knownDeviceGap
        var provenance = Provenance()
        provenance.imageSHA256 = String(repeating: "ab", count: 32)
        provenance.signingJobId = "job-\(board)-\(scenario)"
        provenance.provisionedCertificateSHA256 = ["codesign.crt.pem": String(repeating: "cd", count: 32)]
        provenance.deviceTime = started
        let ran = classification != .notRun && classification != .rigError
        return Cell(board: board, scenario: scenario, classification: classification, type: type, message: message,
                    expected: Cell.Expected(device: "accepted", policyFailures: classification == .knownDeviceGap ? ["signature-revoked"] : [], enforcedByDevice: false),
                    device: ran ? verdict(accepted ? "accepted" : "rejected-signature", accepted: accepted, pal: accepted ? nil : 0xE300_0000) : nil,
                    twin: ran ? Cell.TwinPrediction(outcome: "accepted", accepted: true, palStatus: 0, statuses: []) : nil,
                    policy: classification == .knownDeviceGap ? [Cell.PolicyResult(check: "signature-revoked", result: "fail", detail: "revoked")] : [],
                    attempts: flaky == nil ? 1 : 2, flakyFailure: flaky, seconds: 1.25, provenance: provenance, console: console,
                    twinConsole: ran ? ["INFO: twin <says> & agrees"] : [], explanation: classification == .fidelityFinding ? ["step: FAIL", "    why"] : nil)
    }

    static func board(_ id: String, _ cells: [Cell]) -> BoardRun {
        var board = BoardRun(id: id, boardFile: "esp32-devkitc", name: "ESP32-DevKitC", chip: "esp32", pal: "esp32-mbedtls",
                             signatureKey: "sig-sha256-ecdsa", enforces: [], port: "/dev/serial/by-id/\(id)", usbSerial: "SER-\(id)")
        board.cells = cells
        return board
    }

    static func summary(_ name: String) -> ScenarioSummary {
        ScenarioSummary(Scenario(name: name, summary: "the \(name) scenario", expected: Expectation(["esp32-mbedtls"], .accepted), basis: "a test"))
    }

    /// Every classification on two boards; `a#2 × valid` passed after a rig fault; `a#2 × tampered` printed noise.
    static func mixed() -> RunReport {
        let noisy = ["\u{1B}[0;32mI (42) ota: <image> & \"stuff\"\u{1B}[0m", "bell\u{07} nul\u{00} cr\r", "[[ATTACHMENT|evil.html]]"]
        let boards = [
            board("a#2", [
                cell("a#2", "valid", .pass, flaky: "no sync with the ROM loader"),
                cell("a#2", "tampered", .productFailure, type: "product.device-verdict", message: "expected rejected, both <accept>", console: noisy),
                cell("a#2", "revoked", .knownDeviceGap, type: "gap.device-policy", message: "the device accepts; policy rejects"),
            ]),
            board("b", [
                cell("b", "valid", .fidelityFinding, type: "fidelity.device-twin", message: "the device rejected, the twin accepts"),
                cell("b", "tampered", .rigError, type: "rig.timeout", message: "no verdict within 30 s"),
                cell("b", "revoked", .notRun, type: "rig.interrupted", message: "the run was interrupted before this cell"),
            ]),
        ]
        var report = RunReport(plan: "nightly", planFile: "Boards/plans/nightly.yaml", otarigVersion: "0.9.0-test", startedAt: started,
                               finishedAt: started.addingTimeInterval(95), deviceClock: started, signer: "embedded",
                               scenarios: ["valid", "tampered", "revoked"].map(summary), boards: boards)
        report.interrupted = true
        return report
    }

    /// A run with every cell given, started `day` days after `started`.
    static func run(day: Int, _ classifications: [String: [String: Cell.Classification]], flaky: Set<String> = []) -> RunReport {
        let boards = classifications.keys.sorted().map { id in
            board(id, (classifications[id] ?? [:]).keys.sorted().map { scenario in
                cell(id, scenario, classifications[id]?[scenario] ?? .pass, flaky: flaky.contains("\(id)/\(scenario)") ? "port lost" : nil)
            })
        }
        let start = started.addingTimeInterval(Double(day) * 86_400)
        let names = Set(classifications.values.flatMap(\.keys)).sorted()
        return RunReport(plan: "nightly", planFile: nil, otarigVersion: "0.9.0-test", startedAt: start, finishedAt: start.addingTimeInterval(60),
                         deviceClock: start, signer: "embedded", scenarios: names.map(summary), boards: boards)
    }
}
