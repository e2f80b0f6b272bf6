import ArgumentParser
import Foundation
import HILRunner

/// `otarig report`: the run reports after the fact.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Re-render a run's reports, or compare several runs.",
        discussion: """
            'otarig run' writes three files into its report directory: report.json (everything the run found, \
            schema otarig-run/1, described in Boards/README.md), junit.xml (one testsuite per board, one \
            testcase per scenario, for GitLab and Jenkins) and report.html (the matrix and each cell's evidence, \
            one self-contained page). These commands read report.json back.

            Examples:
              otarig report render out/nightly/report.json --report-dir out/nightly
              otarig report history out/2026-08-01 out/2026-08-02 out/2026-08-03
            Exit status: 0 done, 2 bad input (the message names the file).
            """,
        subcommands: [Render.self, History.self]
    )

    /// Reads and decodes one report; `path` is a report.json or a report directory holding one.
    static func load(_ path: String) throws -> (source: String, report: RunReport) {
        var isDirectory: ObjCBool = false
        let file = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
            ? (path as NSString).appendingPathComponent(ReportFiles.json) : path
        let data = try Files.read(file, what: "run report")
        do {
            return (file, try RunReportJSON.decode(data))
        } catch {
            throw OtarigError("the run report '\(file)': \(error.message)")
        }
    }

    struct Render: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "render",
            abstract: "Write junit.xml and report.html from a report.json.",
            discussion: """
                Renders the two views again from the JSON report (after an otarig upgrade, or to move the reports \
                into another directory). report.json itself is not written.

                Each JUnit testcase's system-out starts with [[ATTACHMENT|<base>report.html#cell-<board>-<scenario>]], \
                the link GitLab shows next to a failed case. GitLab wants the path relative to the project directory \
                ($CI_PROJECT_DIR), so <base> is --attachment-base when given; otherwise the report directory relative \
                to $CI_PROJECT_DIR when that is set and holds it; otherwise empty (the path is relative to junit.xml).

                Example:
                  otarig report render out/nightly/report.json --report-dir out/nightly
                Exit status: 0 written, 2 bad input (unreadable file, wrong schema; the message names the file).
                """)

        @Argument(help: ArgumentHelp("The report.json to render (or a report directory holding one).", valueName: "report.json"))
        var report: String

        @Option(name: .customLong("report-dir"), help: ArgumentHelp("Where to write junit.xml and report.html (created if missing).", valueName: "dir"))
        var reportDirectory: String

        @Option(name: .customLong("attachment-base"), help: ArgumentHelp("The report directory as GitLab sees it, relative to the project (e.g. out/nightly).", valueName: "path"))
        var attachmentBase: String?

        func run() throws {
            let loaded = try ReportCommand.load(report)
            let directory = URL(fileURLWithPath: reportDirectory)
            do {
                try ReportFiles.writeViews(loaded.report, to: directory, attachmentBase: ReportCommand.attachmentBase(attachmentBase, reportDirectory: directory))
            } catch let error as ReportError {
                throw OtarigError(error.message)
            }
            Console.out("wrote \((reportDirectory as NSString).appendingPathComponent(ReportFiles.junit)) and \((reportDirectory as NSString).appendingPathComponent(ReportFiles.html)) (\(loaded.report.cells.count) cells)")
        }
    }

    /// The attachment prefix: the option as given (with a trailing slash), else the directory relative to
    /// `$CI_PROJECT_DIR` when it lies inside it, else "".
    static func attachmentBase(_ option: String?, reportDirectory: URL) -> String {
        func withSlash(_ path: String) -> String { path.isEmpty || path.hasSuffix("/") ? path : path + "/" }
        if let option { return withSlash(option) }
        guard let project = ProcessInfo.processInfo.environment["CI_PROJECT_DIR"], !project.isEmpty else { return "" }
        let root = URL(fileURLWithPath: project).standardizedFileURL.path
        let directory = reportDirectory.standardizedFileURL.path
        guard directory == root || directory.hasPrefix(withSlash(root)) else { return "" }
        return withSlash(String(directory.dropFirst(root.count).drop(while: { $0 == "/" })))
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "history",
            abstract: "Compare several runs: what flipped, which cells are flaky, and whether a board or a scenario is to blame.",
            discussion: """
                Reads each run's report.json (pass report directories or the files), orders the runs by their start \
                time, and prints every cell whose state changed, with its state in each run. A cell's state is its \
                classification, with the device's outcome when it gave one; not-run cells are left out.

                A cell is flaky when it flips and flips back (pass, then FAIL, then pass), or when a run needed a \
                retry after a rig fault before its verdict (↻). One flip that stays is a change (a regression or a \
                fix), listed but not called flaky. A board whose flaky cells span at least 2 scenarios and a third \
                of those it ran is a flaky board (suspect the board, cable, port or power); a scenario flaky on at \
                least 2 boards and a third of those that ran it is a flaky scenario (suspect the scenario or the \
                product).

                Example:
                  otarig report history out/2026-08-01 out/2026-08-02 out/2026-08-03
                  otarig report history out/*/report.json --json | jq '.flakyBoards'
                Exit status: 0 compared (flaky or not), 2 bad input (the message names the file).
                """)

        @Argument(help: ArgumentHelp("Report directories or report.json files, in any order.", valueName: "dir"))
        var reports: [String]

        @Flag(help: "Print JSON instead of text.")
        var json = false

        func run() throws {
            let history = RunHistory(try reports.map(ReportCommand.load))
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                encoder.dateEncodingStrategy = .iso8601
                Console.out(String(decoding: try encoder.encode(history), as: UTF8.self))
            } else {
                history.lines.forEach(Console.out)
            }
        }
    }
}
