import Foundation
import OTAVerifier

/// Everything a run found, as the JSON report writes it (`report.json`, schema `otarig-run/1`, documented in
/// `Boards/README.md`). JUnit and HTML are rendered from this value; `otarig report history` reads it back.
public struct RunReport: Codable, Sendable, Equatable {
    public static let schemaName = "otarig-run/1"

    public var schema = RunReport.schemaName
    public var plan: String
    public var planFile: String?
    public var otarigVersion: String
    public var startedAt: Date
    public var finishedAt: Date
    /// The device clock scenarios start from.
    public var deviceClock: Date
    /// "embedded" or the remote service's URL.
    public var signer: String
    /// Ctrl-C stopped the run; cells not reached are `not-run`.
    public var interrupted = false
    public var scenarios: [ScenarioSummary]
    public var boards: [BoardRun]

    public init(plan: String, planFile: String?, otarigVersion: String, startedAt: Date, finishedAt: Date, deviceClock: Date, signer: String,
                scenarios: [ScenarioSummary], boards: [BoardRun]) {
        self.plan = plan
        self.planFile = planFile
        self.otarigVersion = otarigVersion
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.deviceClock = deviceClock
        self.signer = signer
        self.scenarios = scenarios
        self.boards = boards
    }

    public var cells: [Cell] { boards.flatMap(\.cells) }

    /// How many cells ended each way.
    public var counts: [Cell.Classification: Int] {
        Dictionary(grouping: cells, by: \.classification).mapValues(\.count)
    }

    /// The process exit status the run implies: 0 every cell as expected (known device gaps included), 1 a product
    /// failure or fidelity finding, 3 rig faults left cells without a verdict, 130 interrupted.
    public var exitStatus: Int32 {
        let counts = counts
        if counts[.productFailure, default: 0] + counts[.fidelityFinding, default: 0] > 0 { return 1 }
        if interrupted { return 130 }
        if counts[.rigError, default: 0] + counts[.notRun, default: 0] > 0 { return 3 }
        return 0
    }
}

/// A scenario as the report lists it: what it does and what it expects, with the source of the expectation.
public struct ScenarioSummary: Codable, Sendable, Equatable {
    public var name: String
    public var summary: String
    public var basis: String
    /// Expected device verdict per PAL family, e.g. {"esp32-mbedtls": "rejected-signature (OtaPalSignatureCheckFailed)"}.
    public var expectedDevice: [String: String]
    public var expectedPolicyFailures: [String]

    public init(_ scenario: Scenario) {
        name = scenario.name
        summary = scenario.summary
        basis = scenario.basis
        expectedDevice = scenario.expected.device.mapValues(\.description)
        expectedPolicyFailures = scenario.expected.policyFailures.map(\.rawValue).sorted()
    }
}

/// One board's run: who it is and its cells in scenario order.
public struct BoardRun: Codable, Sendable, Equatable {
    /// Unique in the run: the board file id, with `#n` for several boards of one kind.
    public var id: String
    public var boardFile: String
    public var name: String
    public var chip: String
    public var pal: String
    public var signatureKey: String
    /// The policy checks the board's firmware enforces itself.
    public var enforces: [String]
    public var port: String?
    public var usbSerial: String?
    public var usbPath: String?
    /// False once the recovery ladder gave up on the board.
    public var healthy = true
    /// What happened to the board (the recovery steps taken).
    public var health: [String] = []
    public var cells: [Cell] = []

    public init(id: String, boardFile: String, name: String, chip: String, pal: String, signatureKey: String, enforces: [String],
                port: String?, usbSerial: String? = nil, usbPath: String? = nil) {
        self.id = id
        self.boardFile = boardFile
        self.name = name
        self.chip = chip
        self.pal = pal
        self.signatureKey = signatureKey
        self.enforces = enforces
        self.port = port
        self.usbSerial = usbSerial
        self.usbPath = usbPath
    }
}

/// One board × scenario: the four verdicts side by side and what the rig made of them.
public struct Cell: Codable, Sendable, Equatable {
    public enum Classification: String, Codable, Sendable, CaseIterable {
        /// Device, twin and policy all as the scenario expects.
        case pass
        /// The device accepts what policy rejects, and its firmware does not claim to enforce that policy.
        case knownDeviceGap = "known-device-gap"
        /// Device and twin agree, and both differ from the expectation (or the policy layer does).
        case productFailure = "product-failure"
        /// Device and twin disagree: the twin does not model this device.
        case fidelityFinding = "fidelity-finding"
        /// The rig could not get a verdict (port lost, no sync, timeout).
        case rigError = "rig-error"
        /// Not reached (interrupted, or the board was given up on).
        case notRun = "not-run"

        public var isAsExpected: Bool { self == .pass || self == .knownDeviceGap }
    }

    public var board: String
    public var scenario: String
    public var classification: Classification
    /// A stable machine-readable type: `product.device-verdict`, `fidelity.device-twin`, `rig.timeout`, ….
    public var type: String?
    /// One or two sentences for people.
    public var message: String
    public var expected: Expected
    public var device: ObservedVerdict?
    public var twin: TwinPrediction?
    public var policy: [PolicyResult]
    /// Attempts made (more than one after a rig fault).
    public var attempts: Int
    /// A rig fault on an earlier attempt, when a later one passed (a flaky cell).
    public var flakyFailure: String?
    public var seconds: Double
    public var provenance: Provenance
    /// What the board printed during the cell.
    public var console: [String]
    /// What the twin's agent logs for the same inputs.
    public var twinConsole: [String]
    /// `otarig explain`'s walk, attached to fidelity findings.
    public var explanation: [String]?

    public struct Expected: Codable, Sendable, Equatable {
        /// The device verdict for this board: the scenario's for its PAL family, turned into a rejection when the
        /// board enforces a policy check the scenario expects to fail.
        public var device: String
        public var policyFailures: [String]
        /// The board's firmware enforces one of the expected policy failures itself.
        public var enforcedByDevice: Bool

        public init(device: String, policyFailures: [String], enforcedByDevice: Bool) {
            self.device = device
            self.policyFailures = policyFailures
            self.enforcedByDevice = enforcedByDevice
        }
    }

    public struct TwinPrediction: Codable, Sendable, Equatable {
        public var outcome: String
        public var accepted: Bool
        public var palStatus: UInt32
        public var statuses: [String]
        /// The SimpleLink code the twin's CC3220SF close predicts (nil: no close, or it succeeded), and its name.
        public var simpleLinkCode: Int32?
        public var simpleLinkName: String?

        public init(outcome: String, accepted: Bool, palStatus: UInt32, statuses: [String], simpleLinkCode: Int32? = nil, simpleLinkName: String? = nil) {
            self.outcome = outcome
            self.accepted = accepted
            self.palStatus = palStatus
            self.statuses = statuses
            self.simpleLinkCode = simpleLinkCode
            self.simpleLinkName = simpleLinkName
        }
    }

    public struct PolicyResult: Codable, Sendable, Equatable {
        public var check: String
        public var result: String
        public var detail: String

        public init(check: String, result: String, detail: String) {
            self.check = check
            self.result = result
            self.detail = detail
        }
    }

    public init(board: String, scenario: String, classification: Classification, type: String?, message: String, expected: Expected,
                device: ObservedVerdict? = nil, twin: TwinPrediction? = nil, policy: [PolicyResult] = [], attempts: Int = 0,
                flakyFailure: String? = nil, seconds: Double = 0, provenance: Provenance = Provenance(), console: [String] = [],
                twinConsole: [String] = [], explanation: [String]? = nil) {
        self.board = board
        self.scenario = scenario
        self.classification = classification
        self.type = type
        self.message = message
        self.expected = expected
        self.device = device
        self.twin = twin
        self.policy = policy
        self.attempts = attempts
        self.flakyFailure = flakyFailure
        self.seconds = seconds
        self.provenance = provenance
        self.console = console
        self.twinConsole = twinConsole
        self.explanation = explanation
    }
}

/// Where a cell's evidence came from, so a result can be traced to the exact bytes and board.
public struct Provenance: Codable, Sendable, Equatable {
    public var imageSHA256: String?
    public var signingJobId: String?
    public var profileVersionArn: String?
    public var platformId: String?
    /// SHA-256 of the DER of the certificate that signed.
    public var signerCertificateSHA256: String?
    /// SHA-256 of the DER of each certificate the board holds, by label.
    public var provisionedCertificateSHA256: [String: String]?
    /// The MD5 the board computed over what was written (SPI_FLASH_MD5 on an ESP32).
    public var flashMD5: String?
    public var flashLocation: String?
    public var boardId: String?
    public var usbSerial: String?
    public var port: String?
    /// The version the board ran after the cell (from its console).
    public var firmwareVersion: String?
    public var deviceTime: Date?
    public var otarigVersion: String?

    public init() {}
}
