import BoardModel
import FlashProtocol
import Foundation
import OTAVerifier

/// A board the rig runs on: a board file plus how to reach it. The executable makes these (a USB serial port, a
/// simulated board's pty); the rig only connects, disconnects and, where the bench can, resets the USB device.
public protocol RigBoard: AnyObject, Sendable {
    /// Unique in the run: the board file id, with `#n` for several boards of one kind.
    var id: String { get }
    var board: Board { get }
    var port: String? { get }
    var usbSerial: String? { get }
    var usbPath: String? { get }
    /// Opens the board's transport (again, after a fault); the rig binds the driver.
    func connect() throws -> any Transport
    func disconnect()
    /// Resets the board's own USB device and waits for it to come back; nil when the bench cannot.
    var usbReset: (@Sendable () throws -> Void)? { get }
}

/// Set from a signal handler or a test; the rig checks it between steps and stops cleanly.
public final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false

    public init() {}

    public func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
    }

    public var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }
}

/// What the rig does, as it happens (for progress lines).
public enum RigEvent: Sendable {
    case cellStarted(board: String, scenario: String, index: Int, total: Int)
    case step(board: String, String)
    case cellFinished(board: String, Cell)
    case recovery(board: String, String)
    case boardFinished(board: String, healthy: Bool)
}

/// Runs scenarios on boards: boards in parallel, scenarios in order per board; each cell walks the board's states
/// (off → download mode → flashed → running), reads the device's verdict from its console, asks the twin the same
/// question, and judges the four verdicts (`CrossCheck`). Rig faults are retried after a recovery step; verdicts
/// never are.
public final class RigRunner: @unchecked Sendable {
    public struct Options: Sendable {
        public var timeouts: Plan.Timeouts
        public var retries: Int
        public var parallel: Int
        public var otarigVersion: String
        /// Test-only: changes what the twin is told, to prove a wrong twin is caught as a fidelity finding.
        public var twinSignatureKeyOverride: String?

        public init(timeouts: Plan.Timeouts, retries: Int, parallel: Int, otarigVersion: String, twinSignatureKeyOverride: String? = nil) {
            self.timeouts = timeouts
            self.retries = retries
            self.parallel = parallel
            self.otarigVersion = otarigVersion
            self.twinSignatureKeyOverride = twinSignatureKeyOverride
        }
    }

    public let options: Options
    public let stop: StopSignal
    private let onEvent: @Sendable (RigEvent) -> Void

    public init(options: Options, stop: StopSignal = StopSignal(), onEvent: @escaping @Sendable (RigEvent) -> Void = { _ in }) {
        self.options = options
        self.stop = stop
        self.onEvent = onEvent
    }

    /// Runs every scenario on every board and returns the boards' results in the order given.
    public func run(boards: [any RigBoard], scenarios: [Scenario], inputs: RunInputs) -> [BoardRun] {
        let results = ResultBox(count: boards.count)
        let gate = DispatchSemaphore(value: max(1, options.parallel))
        let group = DispatchGroup()
        for (index, board) in boards.enumerated() {
            group.enter()
            let thread = Thread { [self] in
                gate.wait()
                let run = runBoard(board, scenarios: scenarios, inputs: inputs)
                gate.signal()
                results.set(index, run)
                group.leave()
            }
            thread.name = "otarig-rig-\(board.id)"
            thread.start()
        }
        group.wait()
        return results.all()
    }

    // MARK: one board

    private func runBoard(_ rigBoard: any RigBoard, scenarios: [Scenario], inputs: RunInputs) -> BoardRun {
        let board = rigBoard.board
        var run = BoardRun(id: rigBoard.id, boardFile: board.id, name: board.name, chip: board.chip.rawValue, pal: board.firmware.pal,
                           signatureKey: board.firmware.signatureKey, enforces: Self.enforcedPolicy(board), port: rigBoard.port,
                           usbSerial: rigBoard.usbSerial, usbPath: rigBoard.usbPath)
        let kind = BoardKind(pal: board.firmware.pal, signatureKey: board.firmware.signatureKey)
        let enforced = CrossCheck.checks(enforcedBy: Self.enforcedPolicy(board))
        var driver: (driver: any BoardDriver, transport: StepDeadlineTransport)?
        defer { rigBoard.disconnect() }
        // A scenario about another platform's own checks makes no cell here.
        let scenarios = scenarios.filter { $0.applies(to: board.firmware.pal) }

        for (index, scenario) in scenarios.enumerated() {
            let expectation = CrossCheck.expectedDevice(scenario.expected, pal: board.firmware.pal, enforced: enforced)
            let expected = Cell.Expected(device: expectation?.0.description ?? "none declared for \(board.firmware.pal)",
                                         policyFailures: scenario.expected.policyFailures.map(\.rawValue).sorted(),
                                         enforcedByDevice: expectation?.enforcedByDevice ?? false)
            func unrun(_ classification: Cell.Classification, _ type: String, _ message: String) -> Cell {
                Cell(board: rigBoard.id, scenario: scenario.name, classification: classification, type: type, message: message, expected: expected)
            }
            if stop.isStopped {
                run.cells.append(unrun(.notRun, "rig.interrupted", "the run was interrupted before this cell"))
                continue
            }
            if !run.healthy {
                run.cells.append(unrun(.rigError, "rig.board-unhealthy", "not run: the board was given up on earlier (\(run.health.last ?? "unhealthy"))"))
                continue
            }
            guard let expectation, let cellInputs = inputs.inputs(for: kind, scenario: scenario.name) else {
                run.cells.append(unrun(.rigError, "rig.no-expectation", "the scenario declares no device verdict for the PAL family \(board.firmware.pal)"))
                continue
            }
            onEvent(.cellStarted(board: rigBoard.id, scenario: scenario.name, index: index, total: scenarios.count))
            let started = Date()
            var attempt = 0
            var firstFault: String?
            var cell: Cell?
            while cell == nil {
                attempt += 1
                do {
                    if driver == nil { driver = try connect(rigBoard) }
                    let observed = try observe(driver!.driver, transport: driver!.transport, board: board, inputs: cellInputs, baseImage: inputs.baseImage,
                                               revocation: (inputs.revocationList, inputs.listSignerCertificate))
                    cell = judge(rigBoard, scenario: scenario, expectation: expectation.0, expected: expected, enforced: enforced,
                                 inputs: cellInputs, run: inputs, observed: observed)
                    cell!.attempts = attempt
                    cell!.flakyFailure = firstFault
                } catch {
                    let fault = error as? RigFault ?? RigFault(type: "rig.transport", message: "\(error)")
                    firstFault = firstFault ?? fault.message
                    driver = nil
                    rigBoard.disconnect()
                    if stop.isStopped {
                        cell = unrun(.notRun, "rig.interrupted", "interrupted during the cell (\(fault.message))")
                    } else if !recover(rigBoard, attempt: attempt, run: &run) || attempt > options.retries {
                        // The next rung of the ladder is climbed either way, so the next cell finds the board
                        // recovered, or knows it was given up on.
                        var failed = unrun(.rigError, fault.type, fault.message)
                        failed.attempts = attempt
                        failed.console = fault.console
                        cell = failed
                    }
                }
            }
            cell!.seconds = Date().timeIntervalSince(started)
            run.cells.append(cell!)
            onEvent(.cellFinished(board: rigBoard.id, cell!))
        }
        onEvent(.boardFinished(board: rigBoard.id, healthy: run.healthy))
        return run
    }

    /// A fault of the rig rather than a verdict of the device.
    struct RigFault: Error, CustomStringConvertible {
        var type: String
        var message: String
        var console: [String] = []
        var description: String { message }
    }

    /// The board's transport under a step deadline, and its driver on it.
    private func connect(_ board: any RigBoard) throws -> (driver: any BoardDriver, transport: StepDeadlineTransport) {
        let transport: StepDeadlineTransport
        do {
            transport = StepDeadlineTransport(try board.connect())
        } catch {
            throw RigFault(type: "rig.port", message: "cannot open \(board.port ?? board.id): \(error)")
        }
        do {
            return (try BoardDrivers.driver(for: board.board, transport: transport), transport)
        } catch {
            throw RigFault(type: "rig.driver", message: "\(error)")
        }
    }

    /// The recovery ladder after a fault: reset lines, then a USB reset, then waiting for the port to come back;
    /// false (and the board unhealthy) when nothing is left to try.
    private func recover(_ board: any RigBoard, attempt: Int, run: inout BoardRun) -> Bool {
        let ladder: [(String, () throws -> Void)] = [
            ("reset lines (EN pulse into the loader)", { [self] in
                let (driver, transport) = try connect(board)
                defer { board.disconnect() }
                guard let lines = driver.resetLines, lines.perform(ResetSequence.download(for: board.board.reset) ?? .hardReset) else {
                    throw RigFault(type: "rig.recovery", message: "the board has no reset lines the rig drives")
                }
                transport.sleep(seconds: 0.1)
            }),
            ("USB reset of the board's own device", {
                guard let reset = board.usbReset else { throw RigFault(type: "rig.recovery", message: "the bench cannot reset this board's USB device") }
                try reset()
            }),
            ("waiting for the port to come back", {
                let deadline = Date().addingTimeInterval(5)
                while true {
                    do {
                        _ = try board.connect()
                        board.disconnect()
                        return
                    } catch {
                        if Date() > deadline { throw error }
                        Thread.sleep(forTimeInterval: 0.25)
                    }
                }
            }),
        ]
        for (name, step) in ladder.dropFirst(max(0, attempt - 1)) {
            onEvent(.recovery(board: board.id, name))
            do {
                try step()
                run.health.append("recovered by \(name)")
                return true
            } catch {
                run.health.append("\(name): \(error)")
            }
        }
        run.healthy = false
        run.health.append("unhealthy for the rest of the run")
        return false
    }

    // MARK: one cell on the board

    /// What the board said, and what the rig knows about how it got there.
    struct Observation {
        var verdict: ObservedVerdict
        var console: [String]
        var flashMD5: String?
        var flashLocation: String?
        var firmwareVersion: String?
    }

    /// Walks the board through its states for one cell: download mode (reset into the loader, open it, the
    /// board's baud rate) → flashed (the base application and blank otadata, so every cell starts from the same
    /// state, then the update staged) → running (the application started, its first line read) → the verdict read
    /// from the console. Each step runs under its plan timeout.
    private func observe(_ driver: any BoardDriver, transport: StepDeadlineTransport, board: Board, inputs: CellInputs, baseImage: [UInt8],
                         revocation: (list: [UInt8], signer: [UInt8])) throws -> Observation {
        let flasher = driver.flasher
        var md5: String?
        var location: String?
        flasher.onEvent = { event in
            if case .wrote(let name, let where_, _, let sum, _) = event, name == inputs.scenario {
                md5 = sum
                location = where_.description
            }
        }
        defer {
            flasher.onEvent = nil
            transport.deadline = nil
        }
        if let cc3220 = flasher as? CC3220Flasher {
            var observed = try observeCC3220(driver, flasher: cc3220, transport: transport, board: board, inputs: inputs, baseImage: baseImage,
                                             revocation: revocation)
            observed.flashMD5 = md5
            observed.flashLocation = location
            return observed
        }
        let timeouts = options.timeouts
        try step(.downloadMode, board: board, transport: transport, seconds: timeouts.flash) { () throws(FlashError) in
            if let sequence = ResetSequence.download(for: board.reset), let lines = driver.resetLines {
                _ = lines.perform(sequence)
            }
            _ = try flasher.open()
            if board.flash.baud != 115_200 {
                do throws(FlashError) {
                    try flasher.changeBaudRate(board.flash.baud)
                } catch {
                    guard case .unsupported = error else { throw error }
                }
            }
        }
        try step(.flashed, board: board, transport: transport, seconds: timeouts.flash) { () throws(FlashError) in
            let layout = PartitionTable.twoOTAWithStaging
            guard let slot0 = layout.entry("ota_0"), let otadata = layout.entry("otadata") else {
                throw .layout("the board layout has no ota_0 or otadata")
            }
            try flasher.write(FlashImage(name: "base \(Recipe.baseVersion)", location: .offset(slot0.offset), bytes: baseImage), compress: true)
            try flasher.write(FlashImage(name: "otadata (blank)", location: .offset(otadata.offset), bytes: [UInt8](repeating: 0xFF, count: otadata.size)),
                              compress: true)
            _ = try flasher.stage(OTAUpdate(name: inputs.scenario, image: inputs.image, jobDocument: inputs.jobDocument,
                                            certificates: inputs.certificates.merging([RevocationList.signerCertificateLabel: revocation.signer]) { $1 },
                                            revocationList: revocation.list, deviceTime: inputs.deviceTime), compress: true)
        }
        guard let console = driver.console else {
            throw RigFault(type: "rig.console", message: "the board's console is not on its transport")
        }
        try step(.running, board: board, transport: transport, seconds: timeouts.boot) { () throws(FlashError) in
            try flasher.runApplication()
        }
        let (lines, verdict) = try readVerdict(console, transport: transport, board: board)
        let version = lines.last { $0.contains("App version:") }.map { $0.components(separatedBy: "App version:").last!.trimmingCharacters(in: .whitespaces) }
        return Observation(verdict: verdict, console: lines, flashMD5: md5, flashLocation: location, firmwareVersion: version)
    }

    /// A CC3220SF's cell: every delivery (the scenario's preludes, then its own) goes in through the bootloader
    /// (SOP2 high and an nRESET pulse) as files for the device's own OTA agent, and the board is reset into its
    /// application (SOP2 low, an nRESET pulse), whose agent takes the update and prints its verdict. The first
    /// delivery starts from a known device: the file system formatted (which also clears the security-alert count)
    /// and the base application written as /sys/mcuflashimg.bin.
    private func observeCC3220(_ driver: any BoardDriver, flasher: CC3220Flasher, transport: StepDeadlineTransport, board: Board, inputs: CellInputs,
                               baseImage: [UInt8], revocation: (list: [UInt8], signer: [UInt8])) throws -> Observation {
        guard let lines = driver.resetLines, let intoLoader = ResetSequence.download(for: board.reset),
              let intoApplication = ResetSequence.application(for: board.reset) else {
            throw RigFault(type: "rig.reset", message: "the rig resets a CC3220SF through its nRESET and SOP2 lines; board '\(board.id)' has none the rig drives (board file: reset: nreset-sop2)")
        }
        guard let console = driver.console else {
            throw RigFault(type: "rig.console", message: "the board's console is not on its transport")
        }
        flasher.delivery = .agentFiles
        defer { flasher.delivery = .signedClose }
        let timeouts = options.timeouts
        let certificates = inputs.certificates.merging([RevocationList.signerCertificateLabel: revocation.signer]) { $1 }
        let deliveries = inputs.preludes + [CellInputs.Delivery(image: inputs.image, jobDocument: inputs.jobDocument)]
        var seen: [String] = []
        for (index, delivery) in deliveries.enumerated() {
            let own = index == deliveries.count - 1
            if !own { onEvent(.step(board: board.id, "delivery \(index + 1) of \(deliveries.count - 1) before the cell's")) }
            try step(.downloadMode, board: board, transport: transport, seconds: timeouts.flash) { () throws(FlashError) in
                guard lines.perform(intoLoader) else { throw .unsupported("drive the board's nRESET and SOP2 lines: its transport has none") }
                _ = try flasher.open()
            }
            try step(.flashed, board: board, transport: transport, seconds: timeouts.flash) { () throws(FlashError) in
                if index == 0 {
                    try flasher.format(size: board.flash.size)
                    try flasher.write(FlashImage(name: "base \(Recipe.baseVersion)", location: .file(CC3220AgentFiles.mcuImage), bytes: baseImage), compress: false)
                }
                _ = try flasher.stage(OTAUpdate(name: own ? inputs.scenario : "\(inputs.scenario) (before, \(index + 1))", image: delivery.image,
                                                jobDocument: delivery.jobDocument, certificates: certificates, deviceTime: inputs.deviceTime), compress: false)
            }
            try step(.running, board: board, transport: transport, seconds: timeouts.boot) { () throws(FlashError) in
                guard lines.perform(intoApplication) else { throw .unsupported("drive the board's nRESET and SOP2 lines: its transport has none") }
            }
            let (booted, verdict) = try readVerdict(console, transport: transport, board: board)
            seen += booted
            if own {
                let version = booted.last { $0.contains("App version:") }.map { $0.components(separatedBy: "App version:").last!.trimmingCharacters(in: .whitespaces) }
                return Observation(verdict: verdict, console: seen, firmwareVersion: version)
            }
            // A prelude is there to leave the device in a state; one that did not refuse as a wrong signature did not.
            guard verdict.accepted == false, verdict.simpleLinkCode == -10289 else {
                throw RigFault(type: "rig.prelude", message: "delivery \(index + 1) before the cell's should be refused as a wrong signature (-10289); the device said \(verdict.evidence ?? "nothing")",
                               console: seen)
            }
        }
        throw RigFault(type: "rig.prelude", message: "no delivery")
    }

    /// Reads the console after the board was started: the first line within the boot timeout, then up to the
    /// verdict within the verdict timeout (and the lines that follow it at once).
    private func readVerdict(_ console: any Console, transport: StepDeadlineTransport, board: Board) throws -> ([String], ObservedVerdict) {
        let timeouts = options.timeouts
        var lines: [String] = []
        transport.deadline = nil
        if let first = console.nextLine(until: transport.now + timeouts.boot) {
            lines.append(first.text)
        } else {
            throw RigFault(type: "rig.no-console", message: "the board printed nothing within \(Self.seconds(timeouts.boot)) of starting (plan timeouts.boot)")
        }
        onEvent(.step(board: board.id, "waiting for the verdict"))
        let deadline = transport.now + timeouts.verdict
        var verdictSeen = lines[0].contains("OTA verdict: ")
        var settle = verdictSeen ? transport.now + 0.3 : deadline
        while !(verdictSeen && lines.last?.contains("waiting for download") == true), !stop.isStopped,
              let line = console.nextLine(until: min(deadline, settle)) {
            lines.append(line.text)
            if line.text.contains("OTA verdict: ") && !verdictSeen {
                verdictSeen = true
                settle = transport.now + 0.3  // the lines that follow (reboot, version) come at once
            }
        }
        let verdict = ConsoleVerdict.read(lines)
        guard verdict.isComplete else {
            throw RigFault(type: "rig.timeout",
                           message: "no verdict within \(Self.seconds(timeouts.verdict)) of booting (plan timeouts.verdict; \(lines.count) console lines)", console: lines)
        }
        return (lines, verdict)
    }

    /// One step into `state` under its timeout; a loader error or an overrun is a rig fault naming the step.
    private func step(_ state: BoardState, board: Board, transport: StepDeadlineTransport, seconds: Double,
                      _ body: () throws(FlashError) -> Void) throws {
        onEvent(.step(board: board.id, state.rawValue))
        transport.begin(seconds: seconds)
        do {
            try body()
        } catch {
            if transport.expired {
                throw RigFault(type: "rig.timeout", message: "reaching \(state.rawValue) took longer than \(Self.seconds(seconds)) (plan timeouts.\(state.timeoutName)): \(error)")
            }
            throw RigFault(type: Self.faultType(error), message: "reaching \(state.rawValue): \(error)")
        }
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }

    static func faultType(_ error: FlashError) -> String {
        switch error {
        case .syncFailed: "rig.no-sync"
        case .noAnswer: "rig.timeout"
        case .link: "rig.port-lost"
        case .blockFailed, .digestMismatch: "rig.flash-write"
        default: "rig.flash"
        }
    }

    // MARK: the twin and the judgement

    private func judge(_ rigBoard: any RigBoard, scenario: Scenario, expectation: DeviceExpectation, expected: Cell.Expected,
                       enforced: Set<PolicyFinding.Check>, inputs: CellInputs, run: RunInputs, observed: Observation) -> Cell {
        let board = rigBoard.board
        let twin = Self.twin(board: board, inputs: inputs, run: run, signatureKeyOverride: options.twinSignatureKeyOverride)
        let prediction = Cell.TwinPrediction(outcome: twin.device.outcome.rawValue, accepted: twin.device.accepted,
                                             palStatus: twin.device.palStatus.rawValue, statuses: twin.device.statuses.map(\.payload),
                                             simpleLinkCode: twin.device.simpleLink?.error?.rawValue, simpleLinkName: twin.device.simpleLink?.error?.name)
        let judgement = CrossCheck.judge(expected: expectation, expectedPolicyFailures: scenario.expected.policyFailures, enforced: enforced,
                                         device: observed.verdict, twin: prediction, policy: twin.policy.findings)
        var provenance = Provenance()
        provenance.imageSHA256 = inputs.imageSHA256
        provenance.signingJobId = inputs.signingJobId
        provenance.profileVersionArn = inputs.profileVersionArn
        provenance.platformId = inputs.platformId
        provenance.signerCertificateSHA256 = inputs.signerCertificateSHA256
        provenance.provisionedCertificateSHA256 = inputs.provisionedCertificateSHA256
        provenance.flashMD5 = observed.flashMD5
        provenance.flashLocation = observed.flashLocation
        provenance.boardId = rigBoard.id
        provenance.usbSerial = rigBoard.usbSerial
        provenance.port = rigBoard.port
        provenance.firmwareVersion = observed.firmwareVersion
        provenance.deviceTime = inputs.deviceTime
        provenance.otarigVersion = options.otarigVersion
        var explanation: [String]?
        if judgement.classification == .fidelityFinding {
            let walk = Explainer.explain(twin.inputs, twin.device, signatureText: Explainer.signatureText(in: inputs.jobDocument, key: twin.inputs.signatureKey),
                                         candidates: [])
            explanation = walk.steps.flatMap { step in
                ["\(step.name): \(step.result.rawValue.uppercased())"] + step.lines.map { "    " + $0 }
            } + walk.probes.map { "probe: " + $0 }
        }
        return Cell(board: rigBoard.id, scenario: scenario.name, classification: judgement.classification, type: judgement.type,
                    message: judgement.message, expected: expected, device: observed.verdict, twin: prediction,
                    policy: twin.policy.findings.map { .init(check: $0.check.rawValue, result: $0.result.rawValue, detail: $0.detail) },
                    provenance: provenance, console: observed.console,
                    twinConsole: twin.device.events.map { event in
                        switch event {
                        case .log(let line): "\(line.level.rawValue): \(line.text)"
                        case .status(let status): "publish \(status.payload)"
                        }
                    },
                    explanation: explanation)
    }

    /// The policy checks the board file says its firmware enforces.
    static func enforcedPolicy(_ board: Board) -> [String] { (board.policy ?? []).map(\.rawValue) }

    /// The twin on exactly what the board was given, with the board's device policy when its firmware has one.
    public static func twin(board: Board, inputs: CellInputs, run: RunInputs, signatureKeyOverride: String? = nil) -> TwinRun {
        let profile = PALProfile(rawValue: board.firmware.pal) ?? .esp32MbedTLS
        let certificates = inputs.certificates.merging([RevocationList.signerCertificateLabel: run.listSignerCertificate]) { $1 }
        let checks = Set((board.policy ?? []).compactMap { DevicePolicyCheck(rawValue: $0.rawValue) })
        let policy = checks.isEmpty ? nil : DevicePolicyConfig(checks: checks, deviceTime: inputs.deviceTime, revocationList: run.revocationList,
                                                                listSignerCertificate: run.listSignerCertificate)
        // An ESP32 writes the update into the passive slot of the rig's layout (ota_1: otadata is blank), and its PAL
        // fails a write past it.
        let partitionSize: Int? = switch board.chip {
        case .esp32, .esp32s3: PartitionTable.twoOTAWithStaging.entry("ota_1")?.size
        case .cc3220sf: nil
        }
        var deviceInputs = DeviceInputs(profile: profile, jobDocument: inputs.jobDocument, image: Data(inputs.image),
                                        signatureKey: signatureKeyOverride ?? board.firmware.signatureKey, runningVersion: inputs.runningVersion,
                                        devicePolicy: policy, partitionSize: partitionSize) { name in
            certificates[name].map { .found($0) } ?? .notFound
        }
        if board.chip == .cc3220sf {
            // The network processor's view: the file system as the cell left it (the certificate files, DER, as the
            // flasher wrote them; the agent changes none), the run's root catalog, the count the preludes left.
            let files = certificates.mapValues { CC3220Flasher.der($0) ?? $0 }
            deviceInputs.fileSystem = { name in files[name] }
            deviceInputs.rootCatalog = try? RootCatalog.load(files: run.rootCatalog.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
            deviceInputs.securityAlerts = inputs.securityAlertsBefore
            deviceInputs.securityAlertThreshold = Self.cc3220AlertThreshold
        }
        // Both PALs activate an accepted image and reboot into it (the ESP32's otadata, the CC3220SF's failsafe
        // /sys/mcuflashimg.bin); the agent's self test there has the last word.
        return TwinRun.runUpdate(deviceInputs, newVersion: inputs.updateVersion, facts: run.facts, now: inputs.deviceTime)
    }

    /// The security-alert threshold of the rig's CC3220SF boards: TI's default, which `otarig sim cc3220sf` keeps.
    public static let cc3220AlertThreshold = 15
}

/// The boards' results, filled from their threads.
private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var runs: [BoardRun?]

    init(count: Int) { runs = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ run: BoardRun) {
        lock.lock()
        runs[index] = run
        lock.unlock()
    }

    func all() -> [BoardRun] {
        lock.lock()
        defer { lock.unlock() }
        return runs.compactMap { $0 }
    }
}
