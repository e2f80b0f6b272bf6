import Foundation
import OTAVerifier

/// `junit.xml`: the run in the shape CI viewers read (GitLab's parser, Jenkins' JUnit plugin, Surefire's rerun
/// convention; `shared/reference/hil-runners.md` §0.9 and §8).
///
/// - One `<testsuite>` per board (name = the board's id in the run), with the board's facts as `<properties>`.
/// - One `<testcase>` per cell: `classname="otarig.<board>"`, `name="<scenario>"`, `time` in seconds.
/// - Product failures and fidelity findings are `<failure type="<cell type>">`; rig errors are `<error>`; cells not
///   run are `<skipped>`; passes and known device gaps have no result element (a gap carries the property
///   `otarig.classification=known-device-gap`). A cell that passed after a rig fault on an earlier attempt has a
///   `<flakyFailure type="rig.flaky">` (which GitLab, looking only for failure/error/skipped, counts as passed); one
///   whose later verdict was a failure has a `<rerunFailure type="rig.flaky">` beside its `<failure>`.
/// - `<system-out>` starts with `[[ATTACHMENT|<base>report.html#<anchor>]]` (GitLab takes the first such line, and
///   wants the path relative to `$CI_PROJECT_DIR`; see `attachmentBase`), then the board's console.
/// - `<system-err>` holds the twin's console and, for fidelity findings, `otarig explain`'s walk.
///
/// GitLab ignores `<properties>` and shows `system-out` only for failed and errored cases, so everything a person
/// needs to judge a failure is also in the failure's text.
public enum JUnitReport {
    /// The JUnit type of the `<flakyFailure>` (or `<rerunFailure>`) on a cell that gave its verdict on a later attempt.
    public static let flakyType = "rig.flaky"

    /// The XML for `report`. `attachmentBase` is prefixed to `report.html` in each attachment line: the report
    /// directory relative to the project directory, ending in `/` (e.g. `"out/nightly/"`), or "" when the reports are
    /// read from the directory they were written to.
    public static func render(_ report: RunReport, attachmentBase: String = "") -> String {
        let anchors = ReportText.anchors(report)
        var xml = XMLWriter()
        let all = report.cells
        xml.start("testsuites", [
            "name": "otarig \(report.plan)",
            "tests": String(all.count),
            "failures": String(all.filter { $0.classification.junitResult == .failure }.count),
            "errors": String(all.filter { $0.classification.junitResult == .error }.count),
            "skipped": String(all.filter { $0.classification.junitResult == .skipped }.count),
            "time": ReportText.seconds(report.finishedAt.timeIntervalSince(report.startedAt)),
            "timestamp": ReportText.timestamp(report.startedAt),
        ])
        for board in report.boards {
            let cells = board.cells
            xml.start("testsuite", [
                "name": board.id,
                "tests": String(cells.count),
                "failures": String(cells.filter { $0.classification.junitResult == .failure }.count),
                "errors": String(cells.filter { $0.classification.junitResult == .error }.count),
                "skipped": String(cells.filter { $0.classification.junitResult == .skipped }.count),
                "time": ReportText.seconds(cells.reduce(0) { $0 + $1.seconds }),
                "timestamp": ReportText.timestamp(report.startedAt),
            ])
            xml.start("properties")
            for (name, value) in suiteProperties(board, report: report) {
                xml.element("property", ["name": name, "value": value])
            }
            xml.end()
            for cell in cells {
                let anchor = anchors[CellKey(board: cell.board, scenario: cell.scenario)] ?? "cell"
                testcase(cell, attachment: "\(attachmentBase)report.html#\(anchor)", into: &xml)
            }
            xml.end()
        }
        xml.end()
        return xml.text
    }

    /// The `<properties>` of a board's suite, in order.
    static func suiteProperties(_ board: BoardRun, report: RunReport) -> [(String, String)] {
        var properties: [(String, String)] = [
            ("otarig.board-file", board.boardFile),
            ("otarig.board-name", board.name),
            ("otarig.chip", board.chip),
            ("otarig.pal", board.pal),
            ("otarig.signature-key", board.signatureKey),
            ("otarig.enforces", board.enforces.isEmpty ? "none" : board.enforces.joined(separator: ",")),
        ]
        if let port = board.port { properties.append(("otarig.port", port)) }
        if let serial = board.usbSerial { properties.append(("otarig.usb-serial", serial)) }
        if let path = board.usbPath { properties.append(("otarig.usb-path", path)) }
        properties.append(("otarig.healthy", board.healthy ? "true" : "false"))
        if !board.health.isEmpty { properties.append(("otarig.health", board.health.joined(separator: "; "))) }
        properties += [
            ("otarig.plan", report.plan),
            ("otarig.version", report.otarigVersion),
            ("otarig.signer", report.signer),
            ("otarig.device-clock", ReportText.timestamp(report.deviceClock)),
        ]
        if report.interrupted { properties.append(("otarig.interrupted", "true")) }
        return properties
    }

    /// The `<properties>` of one testcase: the classification and verdicts, then the cell's provenance.
    static func caseProperties(_ cell: Cell) -> [(String, String)] {
        var properties: [(String, String)] = [
            ("otarig.classification", cell.classification.rawValue),
        ]
        if let type = cell.type { properties.append(("otarig.type", type)) }
        properties.append(("otarig.expected", cell.expected.device))
        if !cell.expected.policyFailures.isEmpty {
            properties.append(("otarig.expected-policy-failures", cell.expected.policyFailures.joined(separator: ",")))
        }
        if let device = cell.device { properties.append(("otarig.device-verdict", device.reportText)) }
        if let twin = cell.twin { properties.append(("otarig.twin-verdict", twin.reportText)) }
        properties.append(("otarig.attempts", String(cell.attempts)))
        let p = cell.provenance
        let optional: [(String, String?)] = [
            ("otarig.image-sha256", p.imageSHA256),
            ("otarig.signing-job-id", p.signingJobId),
            ("otarig.profile-version-arn", p.profileVersionArn),
            ("otarig.platform-id", p.platformId),
            ("otarig.signer-certificate-sha256", p.signerCertificateSHA256),
            ("otarig.flash-md5", p.flashMD5),
            ("otarig.flash-location", p.flashLocation),
            ("otarig.board-id", p.boardId),
            ("otarig.usb-serial", p.usbSerial),
            ("otarig.port", p.port),
            ("otarig.firmware-version", p.firmwareVersion),
            ("otarig.device-time", p.deviceTime.map(ReportText.timestamp)),
            ("otarig.otarig-version", p.otarigVersion),
        ]
        properties += optional.compactMap { name, value in value.map { (name, $0) } }
        for (label, digest) in (p.provisionedCertificateSHA256 ?? [:]).sorted(by: { $0.key < $1.key }) {
            properties.append(("otarig.provisioned-certificate-sha256.\(label)", digest))
        }
        return properties
    }

    private static func testcase(_ cell: Cell, attachment: String, into xml: inout XMLWriter) {
        xml.start("testcase", ["classname": "otarig.\(cell.board)", "name": cell.scenario, "time": ReportText.seconds(cell.seconds)])
        xml.start("properties")
        for (name, value) in caseProperties(cell) {
            xml.element("property", ["name": name, "value": value])
        }
        xml.end()
        switch cell.classification.junitResult {
        case .failure: xml.element("failure", ["message": cell.message, "type": cell.reportType], content: details(cell))
        case .error: xml.element("error", ["message": cell.message, "type": cell.reportType], content: details(cell))
        case .skipped: xml.element("skipped", ["message": cell.message, "type": cell.reportType])
        case nil: break
        }
        if let flaky = cell.flakyFailure {
            // Surefire's rerun convention: flakyFailure when the case passed in the end, rerunFailure when it did not.
            xml.element(cell.classification.junitResult == nil ? "flakyFailure" : "rerunFailure", ["message": flaky, "type": flakyType])
        }
        // Ours first: GitLab takes the first ATTACHMENT line, and a console could print one.
        let out = ["[[ATTACHMENT|\(attachment)]]"] + cell.console
        xml.element("system-out", content: out.joined(separator: "\n") + "\n")
        var err: [String] = []
        if !cell.twinConsole.isEmpty { err += ["the twin's console for the same inputs:"] + cell.twinConsole }
        if let explanation = cell.explanation, !explanation.isEmpty { err += ["otarig explain:"] + explanation }
        if !err.isEmpty { xml.element("system-err", content: err.joined(separator: "\n") + "\n") }
        xml.end()
    }

    /// The failure's text: everything needed to judge it without the properties (which GitLab does not show).
    static func details(_ cell: Cell) -> String {
        var lines = [cell.message, ""]
        lines.append("expected: \(cell.expected.device)"
                     + (cell.expected.policyFailures.isEmpty ? "" : "; policy fails \(cell.expected.policyFailures.joined(separator: ", "))")
                     + (cell.expected.enforcedByDevice ? " (enforced by the board's firmware)" : ""))
        lines.append("device:   \(cell.device?.reportText ?? "no verdict")")
        lines.append("twin:     \(cell.twin?.reportText ?? "not asked")")
        for finding in cell.policy {
            lines.append("policy:   \(finding.check) \(finding.result)\(finding.detail.isEmpty ? "" : ": \(finding.detail)")")
        }
        lines.append("attempts: \(cell.attempts)")
        if let flaky = cell.flakyFailure { lines.append("an earlier attempt failed: \(flaky)") }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension Cell.Classification {
    /// The JUnit result element a classification becomes (nil: the case passed).
    enum JUnitResult { case failure, error, skipped }

    var junitResult: JUnitResult? {
        switch self {
        case .pass, .knownDeviceGap: nil
        case .productFailure, .fidelityFinding: .failure
        case .rigError: .error
        case .notRun: .skipped
        }
    }
}

extension Cell {
    /// The cell's type, or one named after its classification when the runner left it out (`product.failure`,
    /// `fidelity.finding`, `rig.error`, `rig.not-run`, `gap.device`; nil for a pass).
    public var reportType: String? {
        if let type { return type }
        switch classification {
        case .pass: return nil
        case .knownDeviceGap: return "gap.device"
        case .productFailure: return "product.failure"
        case .fidelityFinding: return "fidelity.finding"
        case .rigError: return "rig.error"
        case .notRun: return "rig.not-run"
        }
    }
}

extension ObservedVerdict {
    /// "rejected-signature, OtaPalSignatureCheckFailed (0xe3000000)"; "no verdict" when the console said too little.
    public var reportText: String {
        guard let accepted else { return "no verdict" }
        var text = outcome ?? (accepted ? "accepted" : "rejected")
        if let palStatus, palStatus != 0 { text += ", \(PALStatus(rawValue: palStatus))" }
        return text
    }
}

extension Cell.TwinPrediction {
    /// "rejected-signature, OtaPalSignatureCheckFailed (0xe3000000)", or the outcome alone when the PAL said nothing.
    public var reportText: String {
        palStatus == 0 ? outcome : "\(outcome), \(PALStatus(rawValue: palStatus))"
    }
}
