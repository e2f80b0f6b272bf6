import Foundation
import Yams

/// A run plan (`Boards/plans/*.yaml`): which boards, which signer, which scenarios, and how patient to be. Decoded
/// from the YAML node tree so every refusal names the file, the line and the field before anything runs.
///
///     boards:
///       - simulated: sim-esp32          # N simulated boards of a kind (a board file id)
///         count: 2
///       - board: esp32-devkitc          # a board file id: every attached board of that type …
///         serial: "0001"                # … or the one with this USB serial
///       - tags: [bench-a]               # every board file carrying all of these tags
///       - all-attached: true            # every attached board a board file describes
///     signer: embedded                  # or: {url: http://host:8765, profile: lab}
///     scenarios: standard               # or a list of scenario names
///     timeouts: {flash: 60, boot: 20, verdict: 30}
///     retries: 1                        # for rig faults only, never for verdicts
///     parallel: 4                       # boards at once
///     report-dir: out/report
///     clock: now                        # the device clock: now, or an ISO 8601 time
public struct Plan: Equatable, Sendable {
    public var name: String
    public var boards: [BoardSelection]
    public var signer: Signer
    public var scenarios: ScenarioSelection
    public var timeouts: Timeouts
    public var retries: Int
    public var parallel: Int
    public var reportDirectory: String?
    public var clock: Clock

    public enum BoardSelection: Equatable, Sendable {
        /// `count` simulated boards described by the board file `board`.
        case simulated(board: String, count: Int)
        /// Attached boards of the board file `board`, optionally the one with a USB serial.
        case board(String, serial: String?)
        case tags([String])
        case allAttached
    }

    public enum Signer: Equatable, Sendable {
        /// The signing service in this process, on a fresh data directory.
        case embedded
        /// A running `otarig serve` (or AWS), with a profile from the shared credentials file.
        case remote(url: String, profile: String?, region: String?)
    }

    public enum ScenarioSelection: Equatable, Sendable {
        case standard
        case named([String])
    }

    /// Seconds each step may take before the rig calls it a rig fault.
    public struct Timeouts: Equatable, Sendable {
        public var flash: Double = 60
        public var boot: Double = 20
        public var verdict: Double = 30
        public var signing: Double = 60

        public init() {}
    }

    /// The device clock for time-dependent scenarios.
    public enum Clock: Equatable, Sendable {
        case now
        case fixed(Date)
    }

    public init(name: String, boards: [BoardSelection], signer: Signer = .embedded, scenarios: ScenarioSelection = .standard,
                timeouts: Timeouts = Timeouts(), retries: Int = 1, parallel: Int = 4, reportDirectory: String? = nil, clock: Clock = .now) {
        self.name = name
        self.boards = boards
        self.signer = signer
        self.scenarios = scenarios
        self.timeouts = timeouts
        self.retries = retries
        self.parallel = parallel
        self.reportDirectory = reportDirectory
        self.clock = clock
    }
}

/// Why a plan is refused: the file, the line (1-based, when known), the field, and what to do.
public struct PlanError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var field: String
    public var message: String

    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(field.isEmpty ? "" : "\(field): ")\(message)"
    }
}

extension Plan {
    static let topLevelKeys = ["name", "boards", "signer", "scenarios", "timeouts", "retries", "parallel", "report-dir", "clock"]

    /// Decodes a plan's text. `knownScenarios` are the names `scenarios:` may use; `boardIds` the board files there
    /// are (nil: not checked here).
    public static func decode(_ text: String, file: String, knownScenarios: Set<String>, boardIds: Set<String>? = nil) throws(PlanError) -> Plan {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw PlanError(file: file, line: nil, field: "", message: "the plan is empty; it needs at least 'boards'")
            }
            root = node
        } catch let error as PlanError {
            throw error
        } catch let error as YamlError {
            throw PlanError(file: file, line: Self.line(of: error), field: "", message: "not valid YAML: \(Self.problem(of: error))")
        } catch {
            throw PlanError(file: file, line: nil, field: "", message: "not valid YAML: \(error)")
        }
        var reader = PlanReader(file: file)
        return try reader.plan(root, knownScenarios: knownScenarios, boardIds: boardIds)
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _): mark.line
        case .composer(_, _, let mark, _): mark.line
        default: nil
        }
    }

    private static func problem(of error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _): problem
        default: "\(error)"
        }
    }
}

private struct PlanReader {
    let file: String

    func fail(_ node: Node?, _ field: String, _ message: String) -> PlanError {
        PlanError(file: file, line: node?.mark?.line, field: field, message: message)
    }

    func mapping(_ node: Node, _ field: String) throws(PlanError) -> [(key: String, keyNode: Node, value: Node)] {
        guard let mapping = node.mapping else { throw fail(node, field, "must be a mapping (key: value lines)") }
        var pairs: [(key: String, keyNode: Node, value: Node)] = []
        for (key, value) in mapping {
            guard let name = key.string else { throw fail(key, field, "keys must be plain words") }
            if pairs.contains(where: { $0.key == name }) { throw fail(key, join(field, name), "appears twice") }
            pairs.append((name, key, value))
        }
        return pairs
    }

    func join(_ parent: String, _ key: String) -> String { parent.isEmpty ? key : "\(parent).\(key)" }

    func string(_ node: Node, _ field: String) throws(PlanError) -> String {
        guard case .scalar(let scalar) = node, !scalar.string.isEmpty else { throw fail(node, field, "must be a word or a quoted string") }
        return scalar.string
    }

    func integer(_ node: Node, _ field: String, range: ClosedRange<Int>) throws(PlanError) -> Int {
        guard case .scalar = node, let value = node.int else { throw fail(node, field, "must be a whole number") }
        guard range.contains(value) else { throw fail(node, field, "\(value) is outside \(range.lowerBound)…\(range.upperBound)") }
        return value
    }

    func seconds(_ node: Node, _ field: String) throws(PlanError) -> Double {
        guard case .scalar = node, let value = node.float ?? node.int.map(Double.init) else {
            throw fail(node, field, "must be seconds, e.g. 30 or 2.5")
        }
        guard value > 0, value <= 3600 else { throw fail(node, field, "\(value) s is outside (0, 3600]") }
        return value
    }

    func words(_ node: Node, _ field: String) throws(PlanError) -> [String] {
        if case .scalar = node { return [try string(node, field)] }
        guard let sequence = node.sequence else { throw fail(node, field, "must be a list, e.g. [a, b]") }
        var words: [String] = []
        for (index, item) in sequence.enumerated() { words.append(try string(item, "\(field)[\(index)]")) }
        return words
    }

    mutating func plan(_ root: Node, knownScenarios: Set<String>, boardIds: Set<String>?) throws(PlanError) -> Plan {
        let pairs = try mapping(root, "")
        for pair in pairs where !Plan.topLevelKeys.contains(pair.key) {
            throw fail(pair.keyNode, pair.key, "is not a plan field; a plan has \(Plan.topLevelKeys.joined(separator: ", "))")
        }
        func value(_ key: String) -> Node? { pairs.first { $0.key == key }?.value }
        let name = try value("name").map { node throws(PlanError) in try string(node, "name") } ?? (file as NSString).lastPathComponent.replacingOccurrences(of: ".yaml", with: "")
        guard let boardsNode = value("boards") else { throw fail(root, "boards", "is missing: name the boards to run on, e.g. '- simulated: sim-esp32'") }
        var plan = Plan(name: name, boards: try boards(boardsNode, boardIds: boardIds))
        if let node = value("signer") { plan.signer = try signer(node) }
        if let node = value("scenarios") { plan.scenarios = try scenarios(node, known: knownScenarios) }
        if let node = value("timeouts") {
            for pair in try mapping(node, "timeouts") {
                let field = "timeouts.\(pair.key)"
                switch pair.key {
                case "flash": plan.timeouts.flash = try seconds(pair.value, field)
                case "boot": plan.timeouts.boot = try seconds(pair.value, field)
                case "verdict": plan.timeouts.verdict = try seconds(pair.value, field)
                case "signing": plan.timeouts.signing = try seconds(pair.value, field)
                default: throw fail(pair.keyNode, field, "is not a step; the steps are flash, boot, verdict, signing")
                }
            }
        }
        if let node = value("retries") { plan.retries = try integer(node, "retries", range: 0...10) }
        if let node = value("parallel") { plan.parallel = try integer(node, "parallel", range: 1...64) }
        if let node = value("report-dir") { plan.reportDirectory = try string(node, "report-dir") }
        if let node = value("clock") {
            let text = try string(node, "clock")
            if text == "now" {
                plan.clock = .now
            } else if let date = ISO8601DateFormatter().date(from: text) {
                plan.clock = .fixed(date)
            } else {
                throw fail(node, "clock", "'\(text)' is neither 'now' nor an ISO 8601 time such as 2027-01-01T00:00:00Z")
            }
        }
        return plan
    }

    func boards(_ node: Node, boardIds: Set<String>?) throws(PlanError) -> [Plan.BoardSelection] {
        guard let sequence = node.sequence, !sequence.isEmpty else {
            throw fail(node, "boards", "must be a list of board selections, e.g. '- simulated: sim-esp32'")
        }
        var selections: [Plan.BoardSelection] = []
        for (index, item) in sequence.enumerated() {
            let field = "boards[\(index)]"
            let pairs = try mapping(item, field)
            func value(_ key: String) -> Node? { pairs.first { $0.key == key }?.value }
            let kinds = pairs.map(\.key).filter { ["simulated", "board", "tags", "all-attached"].contains($0) }
            guard kinds.count == 1 else {
                throw fail(item, field, kinds.isEmpty ? "needs one of simulated, board, tags or all-attached"
                    : "has \(kinds.joined(separator: " and ")); give one selection per list item")
            }
            let allowed: [String] = switch kinds[0] {
            case "simulated": ["simulated", "count"]
            case "board": ["board", "serial"]
            default: [kinds[0]]
            }
            for pair in pairs where !allowed.contains(pair.key) {
                throw fail(pair.keyNode, "\(field).\(pair.key)", "does not go with '\(kinds[0])' (it takes \(allowed.joined(separator: ", ")))")
            }
            func checkId(_ id: String, _ idNode: Node, _ key: String) throws(PlanError) {
                if let boardIds, !boardIds.contains(id) {
                    throw fail(idNode, "\(field).\(key)", "no board file has id '\(id)' (known: \(boardIds.sorted().joined(separator: ", ")))")
                }
            }
            switch kinds[0] {
            case "simulated":
                let idNode = value("simulated")!
                let id = try string(idNode, "\(field).simulated")
                try checkId(id, idNode, "simulated")
                let count = try value("count").map { node throws(PlanError) in try integer(node, "\(field).count", range: 1...32) } ?? 1
                selections.append(.simulated(board: id, count: count))
            case "board":
                let idNode = value("board")!
                let id = try string(idNode, "\(field).board")
                try checkId(id, idNode, "board")
                selections.append(.board(id, serial: try value("serial").map { node throws(PlanError) in try string(node, "\(field).serial") }))
            case "tags":
                let tags = try words(value("tags")!, "\(field).tags")
                guard !tags.isEmpty else { throw fail(item, "\(field).tags", "must name at least one tag") }
                selections.append(.tags(tags))
            default:
                let node = value("all-attached")!
                guard node.bool == true else { throw fail(node, "\(field).all-attached", "must be true (leave the item out otherwise)") }
                selections.append(.allAttached)
            }
        }
        return selections
    }

    func signer(_ node: Node) throws(PlanError) -> Plan.Signer {
        if case .scalar = node {
            let word = try string(node, "signer")
            guard word == "embedded" else {
                throw fail(node, "signer", "'\(word)' is not 'embedded'; a remote service is {url: http://host:8765, profile: NAME}")
            }
            return .embedded
        }
        var url: String?, profile: String?, region: String?
        for pair in try mapping(node, "signer") {
            switch pair.key {
            case "url":
                let text = try string(pair.value, "signer.url")
                guard let parsed = URL(string: text), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
                    throw fail(pair.value, "signer.url", "'\(text)' is not an http(s) URL such as http://127.0.0.1:8765")
                }
                url = text
            case "profile": profile = try string(pair.value, "signer.profile")
            case "region": region = try string(pair.value, "signer.region")
            default: throw fail(pair.keyNode, "signer.\(pair.key)", "is not a signer field; it has url, profile, region")
            }
        }
        guard let url else { throw fail(node, "signer.url", "is missing: the remote service's URL, e.g. http://127.0.0.1:8765") }
        return .remote(url: url, profile: profile, region: region)
    }

    func scenarios(_ node: Node, known: Set<String>) throws(PlanError) -> Plan.ScenarioSelection {
        if case .scalar = node, node.string == "standard" { return .standard }
        guard let sequence = node.sequence else { throw fail(node, "scenarios", "must be 'standard' or a list of scenario names") }
        var names: [String] = []
        for (index, item) in sequence.enumerated() {
            let name = try string(item, "scenarios[\(index)]")
            guard known.contains(name) else {
                let near = known.sorted().filter { $0.hasPrefix(String(name.prefix(4))) }
                throw fail(item, "scenarios[\(index)]", "no scenario is named '\(name)'\(near.isEmpty ? "" : " (did you mean \(near.joined(separator: ", "))?)"); `otarig run --list-scenarios` lists them")
            }
            if names.contains(name) { throw fail(item, "scenarios[\(index)]", "'\(name)' is listed twice") }
            names.append(name)
        }
        guard !names.isEmpty else { throw fail(node, "scenarios", "is empty") }
        return .named(names)
    }
}
