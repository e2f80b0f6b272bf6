import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import HILRunner
import Testing

/// The elements of an XML document with their attributes, text and depth, read by Foundation's parser (which
/// refuses a document that is not well-formed).
private final class XMLElements: NSObject, XMLParserDelegate {
    struct Element { var name: String; var attributes: [String: String]; var text = ""; var parent: String? }
    var elements: [Element] = []
    private var stack: [Int] = []

    static func parse(_ xml: String) throws -> [Element] {
        let parser = XMLParser(data: Data(xml.utf8))
        let delegate = XMLElements()
        parser.delegate = delegate
        guard parser.parse() else { throw ReportError("not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?")") }
        return delegate.elements
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        elements.append(Element(name: name, attributes: attributes, parent: stack.last.map { elements[$0].name }))
        stack.append(elements.count - 1)
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) { stack.removeLast() }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let index = stack.last { elements[index].text += string }
    }
}

@Suite struct RunReportJSONTests {
    @Test func aReportReadsBackEqualWithItsSchemaNameAndISO8601Dates() throws {
        let report = ReportFixtures.mixed()
        let data = try RunReportJSON.encode(report)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""schema" : "otarig-run/1""#))
        #expect(text.contains(#""startedAt" : "2026-08-01T02:00:00Z""#))
        #expect(text.contains(#""classification" : "known-device-gap""#))
        #expect(!text.contains(#"\/"#))
        #expect(try RunReportJSON.decode(data) == report)
    }

    @Test func anotherSchemaIsRefusedNamingBothSchemas() throws {
        var object = try #require(JSONSerialization.jsonObject(with: RunReportJSON.encode(ReportFixtures.mixed())) as? [String: Any])
        object["schema"] = "otarig-run/2"
        let data = try JSONSerialization.data(withJSONObject: object)
        #expect(throws: ReportError(#"schema "otarig-run/2" is not otarig-run/1, the one this otarig reads; render it with the otarig that wrote it"#)) {
            try RunReportJSON.decode(data)
        }
    }

    @Test func aMissingFieldIsNamedByItsPath() throws {
        var object = try #require(JSONSerialization.jsonObject(with: RunReportJSON.encode(ReportFixtures.mixed())) as? [String: Any])
        var boards = try #require(object["boards"] as? [[String: Any]])
        var cells = try #require(boards[1]["cells"] as? [[String: Any]])
        cells[0].removeValue(forKey: "classification")
        boards[1]["cells"] = cells
        object["boards"] = boards
        let data = try JSONSerialization.data(withJSONObject: object)
        let error = #expect(throws: ReportError.self) { try RunReportJSON.decode(data) }
        #expect(error?.message.contains("boards[1].cells[0].classification is missing") == true)
    }

    @Test func fractionalSecondsAreReadAndABadDateIsNamed() throws {
        let text = String(decoding: try RunReportJSON.encode(ReportFixtures.mixed()), as: UTF8.self)
        let fractional = text.replacingOccurrences(of: #""startedAt" : "2026-08-01T02:00:00Z""#, with: #""startedAt" : "2026-08-01T02:00:00.250Z""#)
        #expect(try RunReportJSON.decode(Data(fractional.utf8)).startedAt == ReportFixtures.started.addingTimeInterval(0.25))
        let bad = text.replacingOccurrences(of: #""startedAt" : "2026-08-01T02:00:00Z""#, with: #""startedAt" : "yesterday""#)
        let error = #expect(throws: ReportError.self) { try RunReportJSON.decode(Data(bad.utf8)) }
        #expect(error?.message == "not a valid otarig-run/1 report: startedAt: 'yesterday' is not an ISO 8601 date such as 2026-08-01T02:00:00Z")
    }

    @Test func textThatIsNotAReportIsRefused() {
        #expect(throws: ReportError.self) { try RunReportJSON.decode(Data("not json".utf8)) }
        #expect(throws: ReportError(#"no "schema" field: not an otarig run report (otarig-run/1)"#)) { try RunReportJSON.decode(Data("{}".utf8)) }
    }
}

@Suite struct JUnitReportTests {
    let report = ReportFixtures.mixed()

    @Test func theDocumentIsWellFormedWithOneSuitePerBoardAndItsCounts() throws {
        let elements = try XMLElements.parse(JUnitReport.render(report))
        let root = try #require(elements.first)
        #expect(root.name == "testsuites")
        #expect(root.attributes["tests"] == "6" && root.attributes["failures"] == "2" && root.attributes["errors"] == "1" && root.attributes["skipped"] == "1")
        let suites = elements.filter { $0.name == "testsuite" }
        #expect(suites.map { $0.attributes["name"] } == ["a#2", "b"])
        #expect(suites.map { [$0.attributes["tests"], $0.attributes["failures"], $0.attributes["errors"], $0.attributes["skipped"]] }
                == [["3", "1", "0", "0"], ["3", "1", "1", "1"]])
        #expect(suites[0].attributes["time"] == "3.750")
        let cases = elements.filter { $0.name == "testcase" }
        #expect(cases.map { $0.attributes["classname"] ?? "" } == ["otarig.a#2", "otarig.a#2", "otarig.a#2", "otarig.b", "otarig.b", "otarig.b"])
        #expect(cases.map { $0.attributes["name"] ?? "" } == ["valid", "tampered", "revoked", "valid", "tampered", "revoked"])
    }

    @Test func failuresErrorsAndSkipsCarryTheCellType() throws {
        let elements = try XMLElements.parse(JUnitReport.render(report))
        let results = elements.filter { ["failure", "error", "skipped"].contains($0.name) }.map { "\($0.name) \($0.attributes["type"] ?? "")" }
        #expect(results == ["failure product.device-verdict", "failure fidelity.device-twin", "error rig.timeout", "skipped rig.interrupted"])
        let failure = try #require(elements.first { $0.name == "failure" })
        #expect(failure.attributes["message"] == "expected rejected, both <accept>")
        #expect(failure.text.contains("device:   rejected-signature, OtaPalSignatureCheckFailed (0xe3000000)"))
    }

    @Test func aKnownDeviceGapPassesAndSaysSoInAProperty() throws {
        let xml = JUnitReport.render(report)
        let gap = try #require(xml.components(separatedBy: "<testcase ").first { $0.contains(#"name="revoked""#) && $0.contains("otarig.a#2") })
        #expect(gap.contains(#"<property name="otarig.classification" value="known-device-gap"/>"#))
        #expect(!gap.contains("<failure") && !gap.contains("<error") && !gap.contains("<skipped"))
    }

    @Test func aCellThatPassedOnRetryHasAFlakyFailure() throws {
        let elements = try XMLElements.parse(JUnitReport.render(report))
        let flaky = elements.filter { $0.name == "flakyFailure" }
        #expect(flaky.count == 1)
        #expect(flaky.first?.attributes["type"] == "rig.flaky")
        #expect(flaky.first?.attributes["message"] == "no sync with the ROM loader")
    }

    @Test func aCellThatFailedAfterARetryHasARerunFailureInstead() throws {
        var report = report
        report.boards[0].cells[1].flakyFailure = "port lost"
        let elements = try XMLElements.parse(JUnitReport.render(report))
        let tampered = elements.filter { $0.parent == "testcase" && ["failure", "rerunFailure", "flakyFailure"].contains($0.name) }
        // a#2 × valid passed after a fault; a#2 × tampered failed after one; b × valid failed at once.
        #expect(tampered.map(\.name) == ["flakyFailure", "failure", "rerunFailure", "failure"])
        #expect(tampered[2].attributes["type"] == "rig.flaky" && tampered[2].attributes["message"] == "port lost")
    }

    @Test func systemOutStartsWithTheAttachmentLineForTheCellsAnchor() throws {
        let elements = try XMLElements.parse(JUnitReport.render(report, attachmentBase: "out/nightly/"))
        let outs = elements.filter { $0.name == "system-out" }.map { $0.text.components(separatedBy: "\n")[0] }
        #expect(outs.first == "[[ATTACHMENT|out/nightly/report.html#cell-a_2-valid]]")
        #expect(outs.count == 6)
        // The console's own ATTACHMENT line comes after ours, so GitLab (which takes the first) links the report.
        let noisy = try #require(elements.first { $0.name == "system-out" && $0.text.contains("evil") })
        #expect(noisy.text.hasPrefix("[[ATTACHMENT|out/nightly/report.html#cell-a_2-tampered]]\n"))
    }

    @Test func controlCharactersAreReplacedAndMarkupEscaped() throws {
        let xml = JUnitReport.render(report)
        #expect(!xml.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
        #expect(xml.contains("␛[0;32mI (42) ota: &lt;image&gt; &amp; \"stuff\"␛[0m"))
        #expect(xml.contains("bell␇ nul␀ cr&#13;"))
        #expect(xml.contains(#"message="expected rejected, both &lt;accept&gt;""#))
        let out = try #require(try XMLElements.parse(xml).first { $0.name == "system-out" && $0.text.contains("bell") })
        #expect(out.text.contains("bell␇ nul␀ cr\r"))
    }

    @Test func provenanceAndBoardFactsAreProperties() throws {
        let elements = try XMLElements.parse(JUnitReport.render(report))
        let names = Set(elements.filter { $0.name == "property" }.compactMap { $0.attributes["name"] })
        for name in ["otarig.board-file", "otarig.chip", "otarig.pal", "otarig.signature-key", "otarig.enforces", "otarig.port", "otarig.usb-serial",
                     "otarig.healthy", "otarig.image-sha256", "otarig.signing-job-id", "otarig.provisioned-certificate-sha256.codesign.crt.pem",
                     "otarig.interrupted", "otarig.classification"] {
            #expect(names.contains(name), "missing property \(name)")
        }
        let errs = elements.filter { $0.name == "system-err" }
        #expect(errs.contains { $0.text.contains("twin <says> & agrees") })
        #expect(errs.contains { $0.text.contains("otarig explain:\nstep: FAIL") })
    }

    @Test func anchorsAreSlugsAndUniqueWhenTwoCellsWouldCollide() {
        var report = ReportFixtures.mixed()
        report.boards.append(ReportFixtures.board("a_2", [ReportFixtures.cell("a_2", "valid", .pass)]))
        let anchors = ReportText.anchors(report)
        #expect(anchors[CellKey(board: "a#2", scenario: "valid")] == "cell-a_2-valid")
        #expect(anchors[CellKey(board: "a_2", scenario: "valid")] == "cell-a_2-valid-2")
    }
}

@Suite struct HTMLReportTests {
    let html = HTMLReport.render(ReportFixtures.mixed())

    @Test func everyCellIsInTheMatrixWithItsClassificationAndEvidence() {
        for cell in ReportFixtures.mixed().cells {
            let anchor = ReportText.anchors(ReportFixtures.mixed())[CellKey(board: cell.board, scenario: cell.scenario)] ?? "?"
            #expect(html.contains(#"<td id="\#(anchor)" class="c-\#(cell.classification.rawValue)" data-board="\#(ReportText.escapedAttribute(cell.board))" data-scenario="\#(cell.scenario)" data-classification="\#(cell.classification.rawValue)""#))
            #expect(html.contains(#"<details id="evidence-\#(anchor)""#))
            #expect(html.contains("href=\"#evidence-\(anchor)\""))
        }
    }

    @Test func theHeaderCountsEachClassificationAndShowsTheInterruption() {
        for classification in Cell.Classification.allCases {
            #expect(html.contains(#"data-classification="\#(classification.rawValue)" data-count="1""#))
        }
        #expect(html.contains(#"id="interrupted""#))
        #expect(html.contains(#"data-flaky-count="1""#))
        var finished = ReportFixtures.mixed()
        finished.interrupted = false
        #expect(!HTMLReport.render(finished).contains(#"id="interrupted""#))
    }

    @Test func textIsEscapedAndNothingIsFetched() {
        #expect(html.contains("␛[0;32mI (42) ota: &lt;image&gt; &amp; \"stuff\"␛[0m"))
        #expect(!html.contains("<image>") && !html.contains("<accept>"))
        #expect(!html.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
        for external in ["http://", "https://", "src=", "@import", "url("] {
            #expect(!html.contains(external), "the page refers to \(external)")
        }
    }
}

@Suite struct ReportFilesTests {
    @Test func theThreeFilesAreWrittenAndTheJSONReadsBack() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("otarig-reports-\(UUID().uuidString)/nested")
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        let report = ReportFixtures.mixed()
        try ReportFiles.write(report, to: directory)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names == ["junit.xml", "report.html", "report.json"])
        #expect(try RunReportJSON.decode(Data(contentsOf: directory.appendingPathComponent("report.json"))) == report)
        #expect(try String(contentsOf: directory.appendingPathComponent("junit.xml"), encoding: .utf8) == JUnitReport.render(report))
    }
}

@Suite struct RunHistoryTests {
    typealias C = Cell.Classification

    /// Three nights: board b flips on three of four scenarios; scenario s4 flips on every board; a × s1 regresses once.
    static let nights: [RunReport] = [
        ReportFixtures.run(day: 0, ["a": ["s1": .pass, "s2": .pass, "s3": .pass, "s4": .pass],
                                    "b": ["s1": .pass, "s2": .pass, "s3": .pass, "s4": .pass],
                                    "c": ["s1": .pass, "s2": .pass, "s3": .pass, "s4": .pass]]),
        ReportFixtures.run(day: 1, ["a": ["s1": .productFailure, "s2": .pass, "s3": .pass, "s4": .rigError],
                                    "b": ["s1": .rigError, "s2": .rigError, "s3": .pass, "s4": .rigError],
                                    "c": ["s1": .pass, "s2": .notRun, "s3": .pass, "s4": .fidelityFinding]], flaky: ["b/s3"]),
        ReportFixtures.run(day: 2, ["a": ["s1": .productFailure, "s2": .pass, "s3": .pass, "s4": .pass],
                                    "b": ["s1": .pass, "s2": .pass, "s3": .pass, "s4": .pass],
                                    "c": ["s1": .pass, "s2": .pass, "s3": .pass, "s4": .pass]]),
    ]

    @Test func aFlakyBoardIsToldApartFromAFlakyScenario() {
        let history = RunHistory([("3", Self.nights[2]), ("1", Self.nights[0]), ("2", Self.nights[1])])
        #expect(history.runs.map(\.source) == ["1", "2", "3"])
        #expect(history.flakyBoards == [RunHistory.Spread(name: "b", flakyIn: ["s1", "s2", "s3", "s4"], of: 4)])
        #expect(history.flakyScenarios == [RunHistory.Spread(name: "s4", flakyIn: ["a", "b", "c"], of: 3)])
        #expect(history.isolatedFlakyCells.isEmpty)
    }

    @Test func oneFlipThatStaysIsAChangeAndNotRunIsNotAFlip() throws {
        let history = RunHistory(Self.nights.enumerated().map { ("\($0.offset + 1)", $0.element) })
        let regressed = try #require(history.cells.first { $0.board == "a" && $0.scenario == "s1" })
        #expect(regressed.status == .changed)
        #expect(regressed.flips == [RunHistory.Flip(fromRun: 0, toRun: 1, from: "pass (accepted)", to: "product-failure (rejected-signature)")])
        let skipped = try #require(history.cells.first { $0.board == "c" && $0.scenario == "s2" })
        #expect(skipped.status == .stable && skipped.flips.isEmpty && skipped.entries.count == 3)
        let retried = try #require(history.cells.first { $0.board == "b" && $0.scenario == "s3" })
        #expect(retried.status == .flaky && retried.flips.isEmpty && retried.rigFaultRuns == [1])
        let text = history.lines.joined(separator: "\n")
        #expect(text.contains("flaky boards (flaky in many scenarios"))
        #expect(text.contains("  b: 4 of 4 scenarios (s1, s2, s3, s4)"))
        #expect(text.contains("  s4: 3 of 3 boards (a, b, c)"))
    }

    @Test func aSingleFlakyCellBlamesNeitherBoardNorScenario() {
        let quiet = ReportFixtures.run(day: 0, ["a": ["s1": .pass, "s2": .pass], "b": ["s1": .pass, "s2": .pass]])
        let noisy = ReportFixtures.run(day: 1, ["a": ["s1": .rigError, "s2": .pass], "b": ["s1": .pass, "s2": .pass]])
        let history = RunHistory([("1", quiet), ("2", noisy), ("3", ReportFixtures.run(day: 2, ["a": ["s1": .pass, "s2": .pass], "b": ["s1": .pass, "s2": .pass]]))])
        #expect(history.flakyBoards.isEmpty && history.flakyScenarios.isEmpty)
        #expect(history.isolatedFlakyCells == [CellKey(board: "a", scenario: "s1")])
    }
}
