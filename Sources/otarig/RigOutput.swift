import Foundation
import HILRunner
import OTAVerifier

/// The rig's progress on standard error: on a terminal one line per board, redrawn in place; otherwise one line per
/// finished cell, so a CI log reads as a story.
final class RigProgress: @unchecked Sendable {
    let terminal: Bool
    private let lock = NSLock()
    private var boards: [String] = []
    private var lines: [String: String] = [:]
    private var done: [String: Int] = [:]
    private var total = 0
    /// Cells per board, once its first cell started (a board runs only the scenarios that apply to its platform).
    private var totals: [String: Int] = [:]
    private var drawn = 0

    init(terminal: Bool) { self.terminal = terminal }

    func note(_ text: String) {
        lock.lock()
        defer { lock.unlock() }
        clear()
        FileHandle.standardError.write(Data("otarig run: \(text)\n".utf8))
        redraw()
    }

    func begin(boards: [String], cells: Int) {
        lock.lock()
        defer { lock.unlock() }
        self.boards = boards
        total = cells
        for board in boards { lines[board] = "waiting"; done[board] = 0 }
        redraw()
    }

    func end() {
        lock.lock()
        defer { lock.unlock() }
        drawn = 0
    }

    func handle(_ event: RigEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .cellStarted(let board, let scenario, _, let cells):
            lines[board] = scenario
            totals[board] = cells
        case .step(let board, let step):
            if let current = lines[board]?.split(separator: ":").first { lines[board] = "\(current): \(step)" }
        case .cellFinished(let board, let cell):
            done[board, default: 0] += 1
            lines[board] = "\(cell.scenario): \(cell.classification.rawValue)"
            if !terminal {
                let seconds = String(format: "%.1f", cell.seconds)
                FileHandle.standardError.write(Data("[\(board)] \(done[board]!)/\(totals[board] ?? total) \(cell.scenario): \(cell.classification.rawValue) (\(seconds) s)\(cell.classification.isAsExpected ? "" : " — \(cell.message)")\n".utf8))
            }
        case .recovery(let board, let step):
            clear()
            FileHandle.standardError.write(Data("[\(board)] recovering: \(step)\n".utf8))
        case .boardFinished(let board, let healthy):
            lines[board] = healthy ? "done" : "given up (unhealthy)"
        }
        redraw()
    }

    /// Moves up over the board lines drawn last (terminal only).
    private func clear() {
        guard terminal, drawn > 0 else { return }
        FileHandle.standardError.write(Data("\u{1B}[\(drawn)A\u{1B}[J".utf8))
        drawn = 0
    }

    private func redraw() {
        guard terminal, !boards.isEmpty else { return }
        clear()
        let width = boards.map(\.count).max() ?? 0
        var text = ""
        for board in boards {
            let count = done[board, default: 0]
            let total = totals[board] ?? self.total
            let bar = String(repeating: "#", count: total == 0 ? 0 : count * 20 / total).padding(toLength: 20, withPad: ".", startingAt: 0)
            text += "\(board.padding(toLength: width, withPad: " ", startingAt: 0)) [\(bar)] \(count)/\(total) \(lines[board] ?? "")\n"
        }
        FileHandle.standardError.write(Data(text.utf8))
        drawn = boards.count
    }
}

/// The reports on disk and the matrix on standard output.
enum RigReportOutput {
    /// junit.xml, report.html and report.json, each written whole or not at all.
    static func write(_ report: RunReport, to directory: String) throws {
        let url = URL(fileURLWithPath: directory)
        do {
            try ReportFiles.write(report, to: url, attachmentBase: ReportCommand.attachmentBase(nil, reportDirectory: url))
        } catch {
            throw OtarigError("cannot write the reports into '\(directory)': \(error)")
        }
    }

    static let labels: [Cell.Classification: String] = [
        .pass: "pass", .knownDeviceGap: "gap", .productFailure: "FAIL", .fidelityFinding: "FIDELITY", .rigError: "RIG", .notRun: "-",
    ]

    /// The CC3220SF cells' closes: what the device's network processor answered beside what the twin predicts.
    static func printSimpleLinkCloses(_ report: RunReport) {
        let boards = report.boards.filter { $0.pal == "cc3220-simplelink" }
        guard !boards.isEmpty else { return }
        func side(_ outcome: String?, _ status: UInt32?, _ code: Int32?, _ name: String?) -> String {
            var text = outcome ?? "no verdict"
            if let status, status != 0 { text += " \(PALStatus(rawValue: status).hex)" }
            if let code, code != 0 { text += " \(name ?? "SimpleLink") (\(code))" }
            return text
        }
        Console.out("\nCC3220SF closes (device | twin):")
        for board in boards {
            for cell in board.cells {
                let device = side(cell.device?.outcome, cell.device?.palStatus, cell.device?.simpleLinkCode, cell.device?.simpleLinkName)
                let twin = cell.twin.map { side($0.outcome, $0.palStatus, $0.simpleLinkCode, $0.simpleLinkName) } ?? "not asked"
                Console.out("  \(board.id) × \(cell.scenario): \(device) | \(twin)")
            }
        }
    }

    static func printMatrix(_ report: RunReport) {
        let names = report.scenarios.map(\.name)
        let first = max(names.map(\.count).max() ?? 0, 8)
        let columns = report.boards.map { max($0.id.count, 8) }
        var header = "scenario".padding(toLength: first, withPad: " ", startingAt: 0)
        for (board, width) in zip(report.boards, columns) { header += "  " + board.id.padding(toLength: width, withPad: " ", startingAt: 0) }
        Console.out(header)
        for name in names {
            var row = name.padding(toLength: first, withPad: " ", startingAt: 0)
            for (board, width) in zip(report.boards, columns) {
                let cell = board.cells.first { $0.scenario == name }
                let label = cell.map { labels[$0.classification] ?? $0.classification.rawValue } ?? ""
                row += "  " + label.padding(toLength: width, withPad: " ", startingAt: 0)
            }
            Console.out(row)
        }
        printSimpleLinkCloses(report)
        let counts = report.counts
        let summary = Cell.Classification.allCases.compactMap { kind in counts[kind].map { "\($0) \(kind.rawValue)" } }
        Console.out("\n\(report.cells.count) cells: \(summary.joined(separator: ", "))\(report.interrupted ? " (interrupted)" : "")")
        for cell in report.cells where !cell.classification.isAsExpected {
            Console.out("  \(cell.board) × \(cell.scenario): \(cell.classification.rawValue) [\(cell.type ?? "")] \(cell.message)")
        }
    }
}
