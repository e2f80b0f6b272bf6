import Foundation

/// What changed across several runs (`otarig report history`): per cell, its state in each run and the flips between
/// them; which cells are flaky; and whether flakiness follows a board (flaky in many scenarios: suspect the board,
/// its cable, port or power) or a scenario (flaky on many boards: suspect the scenario, the rig's handling of it, or
/// the product).
///
/// Definitions (also in `otarig report history --help`):
/// - A cell's **state** in a run is its classification, with the device's outcome when it gave one
///   (`product-failure (rejected-signature)`). `not-run` cells are left out: not running says nothing about the cell.
/// - A **flip** is a state change between two consecutive runs in which the cell ran.
/// - A cell is **flaky** when it flips and flips back (two flips or more: pass → failure → pass), or when any run
///   records a rig fault before its verdict (`flakyFailure`). A cell with exactly one flip has **changed** (a
///   regression or a fix that stayed), and is listed but not called flaky.
/// - A board is **flaky** when its flaky cells span at least `Thresholds.minimumCount` scenarios and at least
///   `Thresholds.minimumShare` of the scenarios it ran; a scenario is flaky when its flaky cells span that many
///   boards and that share of the boards that ran it.
public struct RunHistory: Codable, Sendable, Equatable {
    /// How wide flakiness must spread to blame a board or a scenario.
    public struct Thresholds: Sendable {
        public var minimumCount: Int
        public var minimumShare: Double

        public init(minimumCount: Int = 2, minimumShare: Double = 1.0 / 3.0) {
            self.minimumCount = minimumCount
            self.minimumShare = minimumShare
        }
    }

    /// One run compared.
    public struct Run: Codable, Sendable, Equatable {
        /// Where the report was read from.
        public var source: String
        public var plan: String
        public var startedAt: Date
        public var interrupted: Bool
    }

    /// A cell in one run. `run` is an index into `runs`.
    public struct Entry: Codable, Sendable, Equatable {
        public var run: Int
        public var classification: Cell.Classification
        public var type: String?
        public var deviceOutcome: String?
        /// The rig fault an earlier attempt hit before this run's verdict.
        public var flakyFailure: String?

        /// The classification, with the device's outcome when it gave one.
        public var state: String {
            deviceOutcome.map { "\(classification.rawValue) (\($0))" } ?? classification.rawValue
        }
    }

    /// A state change of a cell between two runs (indices into `runs`).
    public struct Flip: Codable, Sendable, Equatable {
        public var fromRun: Int
        public var toRun: Int
        public var from: String
        public var to: String

        public init(fromRun: Int, toRun: Int, from: String, to: String) {
            self.fromRun = fromRun
            self.toRun = toRun
            self.from = from
            self.to = to
        }
    }

    /// How a cell behaved across the runs.
    public enum Status: String, Codable, Sendable {
        /// The same state in every run it ran, and no rig fault before a verdict.
        case stable
        /// Exactly one flip: a regression or a fix that stayed.
        case changed
        case flaky
    }

    /// One board × scenario across the runs.
    public struct CellHistory: Codable, Sendable, Equatable {
        public var board: String
        public var scenario: String
        public var status: Status
        /// Oldest first; runs without this cell are absent.
        public var entries: [Entry]
        /// Oldest first; the latest flip last.
        public var flips: [Flip]
        /// Runs (indices) in which a rig fault came before the verdict.
        public var rigFaultRuns: [Int]
    }

    /// A board (or a scenario) whose flaky cells are spread wide.
    public struct Spread: Codable, Sendable, Equatable {
        public var name: String
        /// The scenarios (for a board) or boards (for a scenario) where it is flaky.
        public var flakyIn: [String]
        /// How many scenarios (boards) it ran in.
        public var of: Int

        public init(name: String, flakyIn: [String], of: Int) {
            self.name = name
            self.flakyIn = flakyIn
            self.of = of
        }
    }

    /// Oldest first (by `startedAt`; reports that started in the same second keep the order given).
    public var runs: [Run]
    /// Every cell seen in any run, by board then scenario.
    public var cells: [CellHistory]
    /// Boards whose flaky cells span many scenarios, the widest first.
    public var flakyBoards: [Spread]
    /// Scenarios whose flaky cells span many boards, the widest first.
    public var flakyScenarios: [Spread]
    /// Flaky cells whose board and scenario are both not flaky.
    public var isolatedFlakyCells: [CellKey]

    /// Compares `reports` (in any order; `source` names each, e.g. its path).
    public init(_ reports: [(source: String, report: RunReport)], thresholds: Thresholds = Thresholds()) {
        let ordered = reports.enumerated().sorted { ($0.element.report.startedAt, $0.offset) < ($1.element.report.startedAt, $1.offset) }.map(\.element)
        runs = ordered.map { Run(source: $0.source, plan: $0.report.plan, startedAt: $0.report.startedAt, interrupted: $0.report.interrupted) }

        var entries: [CellKey: [Entry]] = [:]
        for (index, item) in ordered.enumerated() {
            var seen: Set<CellKey> = []
            for cell in item.report.cells {
                let key = CellKey(board: cell.board, scenario: cell.scenario)
                guard seen.insert(key).inserted else { continue }
                entries[key, default: []].append(Entry(run: index, classification: cell.classification, type: cell.type,
                                                       deviceOutcome: cell.device?.outcome, flakyFailure: cell.flakyFailure))
            }
        }

        let histories = entries.keys.sorted().map { key in
            let all = entries[key] ?? []
            let ran = all.filter { $0.classification != .notRun }
            var flips: [Flip] = []
            for (before, after) in zip(ran, ran.dropFirst()) where before.state != after.state {
                flips.append(Flip(fromRun: before.run, toRun: after.run, from: before.state, to: after.state))
            }
            let faults = all.filter { $0.flakyFailure != nil }.map(\.run)
            let status: Status = flips.count >= 2 || !faults.isEmpty ? .flaky : (flips.count == 1 ? .changed : .stable)
            return CellHistory(board: key.board, scenario: key.scenario, status: status, entries: all, flips: flips, rigFaultRuns: faults)
        }

        let flaky = histories.filter { $0.status == .flaky }
        func spread(_ group: (CellHistory) -> String, _ other: (CellHistory) -> String) -> [Spread] {
            let ranIn = Dictionary(grouping: histories, by: group).mapValues { Set($0.map(other)).count }
            return Dictionary(grouping: flaky, by: group).compactMap { name, cells -> Spread? in
                let names = Set(cells.map(other)).sorted()
                let of = ranIn[name] ?? names.count
                guard names.count >= thresholds.minimumCount, Double(names.count) >= thresholds.minimumShare * Double(of) else { return nil }
                return Spread(name: name, flakyIn: names, of: of)
            }.sorted { ($0.flakyIn.count, $1.name) > ($1.flakyIn.count, $0.name) }
        }
        let boards = spread(\.board, \.scenario)
        let scenarios = spread(\.scenario, \.board)
        cells = histories
        flakyBoards = boards
        flakyScenarios = scenarios
        let boardNames = Set(boards.map(\.name))
        let scenarioNames = Set(scenarios.map(\.name))
        isolatedFlakyCells = flaky.filter { !boardNames.contains($0.board) && !scenarioNames.contains($0.scenario) }
            .map { CellKey(board: $0.board, scenario: $0.scenario) }
    }

    /// The history for people, one line each.
    public var lines: [String] {
        var lines: [String] = []
        let plans = Set(runs.map(\.plan)).sorted()
        lines.append("\(runs.count) run\(runs.count == 1 ? "" : "s") of \(plans.joined(separator: ", ")), oldest first:")
        for (index, run) in runs.enumerated() {
            lines.append("  \(index + 1)  \(ReportText.timestamp(run.startedAt))  \(run.source)\(run.interrupted ? "  (interrupted)" : "")")
        }
        let moving = cells.filter { $0.status != .stable }
        lines.append("")
        if moving.isEmpty {
            lines.append("no cell changed: \(cells.count) cells have the same state in every run")
        } else {
            lines.append("cells that changed (their state in each run [n], latest last; ↻ a rig fault came before the verdict):")
            let width = moving.map { "\($0.board) × \($0.scenario)".count }.max() ?? 0
            for cell in moving {
                let name = "\(cell.board) × \(cell.scenario)"
                let states = cell.entries.map { "[\($0.run + 1)] \($0.state)\($0.flakyFailure != nil ? " ↻" : "")" }.joined(separator: " → ")
                lines.append("  \(name.padding(toLength: width, withPad: " ", startingAt: 0))  \(cell.status.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0))  \(states)")
            }
            lines.append("\(cells.filter { $0.status == .stable }.count) other cells have the same state in every run")
        }
        lines.append("")
        if flakyBoards.isEmpty {
            lines.append("flaky boards: none")
        } else {
            lines.append("flaky boards (flaky in many scenarios: suspect the board, its cable, port or power):")
            for board in flakyBoards {
                lines.append("  \(board.name): \(board.flakyIn.count) of \(board.of) scenarios (\(board.flakyIn.joined(separator: ", ")))")
            }
        }
        if flakyScenarios.isEmpty {
            lines.append("flaky scenarios: none")
        } else {
            lines.append("flaky scenarios (flaky on many boards: suspect the scenario, the rig's handling of it, or the product):")
            for scenario in flakyScenarios {
                lines.append("  \(scenario.name): \(scenario.flakyIn.count) of \(scenario.of) boards (\(scenario.flakyIn.joined(separator: ", ")))")
            }
        }
        if !isolatedFlakyCells.isEmpty {
            lines.append("flaky cells neither explains: " + isolatedFlakyCells.map { "\($0.board) × \($0.scenario)" }.joined(separator: ", "))
        }
        return lines
    }
}
