import BoardModel
import Foundation
import Testing

@Suite("Plans")
struct PlanTests {
    static let scenarios: Set<String> = ["valid", "tampered-payload", "truncated"]
    static let boards: Set<String> = ["sim-esp32", "sim-esp32-enforcing", "sim-cc3220sf", "esp32-devkitc"]

    func decode(_ text: String) throws(PlanError) -> Plan {
        try Plan.decode(text, file: "plans/lab.yaml", knownScenarios: Self.scenarios, boardIds: Self.boards)
    }

    func refusal(_ text: String) -> PlanError? {
        do {
            _ = try decode(text)
            return nil
        } catch {
            return error
        }
    }

    @Test("the repository's standard plan decodes: three simulated boards (two ESP32s, a CC3220SF), the embedded signer, the standard scenarios")
    func standardPlan() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Boards/plans/standard.yaml").standardizedFileURL
        let plan = try Plan.decode(try String(contentsOf: url, encoding: .utf8), file: "standard.yaml", knownScenarios: Self.scenarios, boardIds: Self.boards)
        #expect(plan.name == "standard")
        #expect(plan.boards == [.simulated(board: "sim-esp32", count: 1), .simulated(board: "sim-esp32-enforcing", count: 1),
                                .simulated(board: "sim-cc3220sf", count: 1)])
        #expect(plan.signer == .embedded && plan.scenarios == .standard && plan.clock == .now)
    }

    @Test("every field a plan has, read back")
    func everyField() throws {
        let plan = try decode("""
            name: nightly
            boards:
              - simulated: sim-esp32
                count: 3
              - board: esp32-devkitc
                serial: "0001"
              - tags: [bench-a, esp32]
              - all-attached: true
            signer: {url: "http://127.0.0.1:8765", profile: lab, region: eu-west-1}
            scenarios: [valid, truncated]
            timeouts: {flash: 90, boot: 5.5, verdict: 10, signing: 30}
            retries: 2
            parallel: 8
            report-dir: out/nightly
            clock: 2027-01-01T00:00:00Z
            """)
        #expect(plan.boards == [.simulated(board: "sim-esp32", count: 3), .board("esp32-devkitc", serial: "0001"), .tags(["bench-a", "esp32"]), .allAttached])
        #expect(plan.signer == .remote(url: "http://127.0.0.1:8765", profile: "lab", region: "eu-west-1"))
        #expect(plan.scenarios == .named(["valid", "truncated"]))
        #expect(plan.timeouts.flash == 90 && plan.timeouts.boot == 5.5 && plan.timeouts.verdict == 10 && plan.timeouts.signing == 30)
        #expect(plan.retries == 2 && plan.parallel == 8 && plan.reportDirectory == "out/nightly")
        #expect(plan.clock == .fixed(Date(timeIntervalSince1970: 1_798_761_600)))
    }

    @Test("a bad plan is refused naming the file, the line and the field", arguments: [
        ("boards:\n  - simulated: sim-esp32\nscenarios: [valid, tampred-payload]\n", 3, "scenarios[1]", "no scenario is named 'tampred-payload'"),
        ("boards:\n  - simulated: sim-esp33\n", 2, "boards[0].simulated", "no board file has id 'sim-esp33'"),
        ("boards:\n  - simulated: sim-esp32\n    count: 0\n", 3, "boards[0].count", "outside 1…32"),
        ("boards:\n  - simulated: sim-esp32\ntimeouts:\n  flash: -1\n", 4, "timeouts.flash", "outside (0, 3600]"),
        ("boards:\n  - simulated: sim-esp32\ntimeouts:\n  reboot: 5\n", 4, "timeouts.reboot", "is not a step"),
        ("boards:\n  - simulated: sim-esp32\nretires: 2\n", 3, "retires", "is not a plan field"),
        ("boards:\n  - simulated: sim-esp32\nsigner: {url: ftp://x}\n", 3, "signer.url", "is not an http(s) URL"),
        ("boards:\n  - simulated: sim-esp32\n    board: esp32-devkitc\n", 2, "boards[0]", "give one selection per list item"),
        ("boards:\n  - simulated: sim-esp32\nclock: yesterday\n", 3, "clock", "neither 'now' nor an ISO 8601 time"),
        ("scenarios: standard\n", 1, "boards", "is missing"),
        ("boards: [\n", 2, "", "not valid YAML"),
    ])
    func refused(text: String, line: Int, field: String, message: String) throws {
        let error = try #require(refusal(text))
        #expect(error.file == "plans/lab.yaml")
        #expect(error.line == line, "\(error)")
        #expect(error.field == field, "\(error)")
        #expect(error.message.contains(message), "\(error)")
        #expect(error.description.hasPrefix("plans/lab.yaml:\(line): "))
    }
}
