import ArgumentParser
import Foundation
import Testing
@testable import otarig

@Suite("Parsing otarig report")
struct ReportCommandTests {
    @Test("render takes a report and a directory; history takes one report or more")
    func parsing() throws {
        let render = try ReportCommand.Render.parse(["out/report.json", "--report-dir", "out", "--attachment-base", "reports/nightly"])
        #expect(render.report == "out/report.json" && render.reportDirectory == "out" && render.attachmentBase == "reports/nightly")
        #expect(throws: (any Error).self) { try ReportCommand.Render.parse(["out/report.json"]) }
        let history = try ReportCommand.History.parse(["a", "b/report.json", "--json"])
        #expect(history.reports == ["a", "b/report.json"] && history.json)
        #expect(throws: (any Error).self) { try ReportCommand.History.parse([]) }
    }

    @Test("the attachment base is the option with a slash, else empty without a project directory")
    func attachmentBase() {
        #expect(ReportCommand.attachmentBase("reports/nightly", reportDirectory: URL(fileURLWithPath: "/x")) == "reports/nightly/")
        #expect(ReportCommand.attachmentBase("reports/", reportDirectory: URL(fileURLWithPath: "/x")) == "reports/")
        #expect(ReportCommand.attachmentBase("", reportDirectory: URL(fileURLWithPath: "/x")) == "")
    }
}
