import ArgumentParser
import BoardModel
import Foundation
import HILRunner
import OTAVerifier
import Hummingbird
import ServiceLifecycle
import Logging
import SerialIO
import SigV4
import SignerClient
import SignerHTTP

/// `otarig run PLAN`: boards × scenarios, each cell signed through the service, flashed, booted, and the device's
/// verdict cross-checked with the twin and the policy layer.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a plan: every scenario on every board, the device's verdict cross-checked with the twin.",
        discussion: """
            For each board and scenario the rig makes the scenario's inputs through the signing service \
            (StartSigningJob, RevokeSignature, RevokeSigningProfile, as a user's pipeline would), flashes the board's \
            base application, stages the update, boots the board, reads its verdict from the console, asks the host \
            twin the same question, and judges the four verdicts:
              pass               device, twin and policy as the scenario expects
              known-device-gap   the device accepts what policy rejects (stock firmware)
              product-failure    device and twin agree, and differ from the expectation
              fidelity-finding   device and twin disagree: the twin misses this device
              rig-error          no verdict: port lost, no sync, timeout (after retries)

            Reports go to the report directory: junit.xml (one testsuite per board), report.html (the matrix, \
            each cell's evidence one click away) and report.json (schema otarig-run/1).

            Example:
              otarig run Boards/plans/standard.yaml --report-dir out/report
              otarig run --list-scenarios

            Exit status: 0 every cell as expected (known device gaps included), 1 a product failure or fidelity \
            finding, 2 bad input (the plan is refused before anything runs), 3 rig faults left cells without a \
            verdict, 130 interrupted (the partial reports are written).
            """
    )

    @Argument(help: ArgumentHelp("The plan (YAML), e.g. Boards/plans/standard.yaml.", valueName: "plan"))
    var plan: String?

    @Option(help: ArgumentHelp("Where junit.xml, report.html and report.json go. Default: the plan's report-dir, then ./otarig-report.", valueName: "dir"))
    var reportDir: String?

    @Flag(help: "List the scenarios a plan may name, with what each expects, and exit.")
    var listScenarios = false

    @OptionGroup var boardFiles: BoardFiles

    @Option(name: .customLong("test-twin-signature-key"), help: .hidden)
    var testTwinSignatureKey: String?

    func run() async throws {
        if listScenarios {
            ScenarioListing.print()
            return
        }
        guard let plan else { throw ValidationError("name a plan, e.g. 'otarig run Boards/plans/standard.yaml' (or --list-scenarios)") }
        let boards = try boardFiles.load()
        let text = String(decoding: try Files.read(plan, what: "plan"), as: UTF8.self)
        let decoded: Plan
        do {
            decoded = try Plan.decode(text, file: plan, knownScenarios: Set(Scenario.catalog.keys), boardIds: Set(boards.map(\.id)))
        } catch {
            throw OtarigError("plan \(error.description)")
        }
        let session = RigSession(plan: decoded, planFile: plan, boardFiles: boards, boardsDirectory: boardFiles.path,
                                 reportDirectory: reportDir ?? decoded.reportDirectory ?? "otarig-report",
                                 twinSignatureKeyOverride: testTwinSignatureKey)
        let status = try await session.run()
        if status != 0 { throw ExitCode(status) }
    }
}

/// `otarig demo`: the standard plan on simulated boards with the embedded signing service.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "The rig's main job on this machine: the standard plan on simulated boards, the embedded signer.",
        discussion: """
            Runs Boards/plans/standard.yaml (every standard scenario on a stock simulated ESP32, on one whose \
            firmware enforces certificate validity and revocation itself, and on a simulated CC3220SF, which also \
            runs the scenarios only its platform has), prints the matrix and each CC3220SF close's SimpleLink code \
            beside the twin's, and writes the reports. No hardware, no network: the signing service runs in this \
            process.

            Example:
              otarig demo --report-dir out/demo-report && chromium out/demo-report/report.html
            """
    )

    @Option(help: ArgumentHelp("Where junit.xml, report.html and report.json go.", valueName: "dir"))
    var reportDir = "otarig-demo-report"

    @OptionGroup var boardFiles: BoardFiles

    func run() async throws {
        let plan = boardFiles.path + "/plans/standard.yaml"
        guard FileManager.default.fileExists(atPath: plan) else {
            throw OtarigError("no standard plan at '\(plan)': run from the repository (or pass --boards-dir to its Boards/)")
        }
        let command = try RunCommand.parse([plan, "--report-dir", reportDir, "--boards-dir", boardFiles.path])
        try await command.run()
    }
}

enum ScenarioListing {
    static func print() {
        for scenario in Scenario.standard {
            Console.out("\(scenario.name)")
            Console.out("    \(scenario.summary)")
            if let only = scenario.onlyOn { Console.out("    runs only on: \(only.sorted().joined(separator: ", "))") }
            for (pal, device) in scenario.expected.device.sorted(by: { $0.key < $1.key }) {
                Console.out("    expects on \(pal): \(device)")
            }
            let policy = scenario.expected.policyFailures.map(\.rawValue).sorted()
            Console.out("    expects policy: \(policy.isEmpty ? "pass" : "fail " + policy.joined(separator: ", "))")
            Console.out("    because: \(scenario.basis)")
        }
    }
}

/// One run, composed: the signer, the boards (simulated ones started as `otarig sim esp32` processes), the inputs,
/// the runner, the reports.
final class RigSession: @unchecked Sendable {
    let plan: Plan
    let planFile: String
    let boardFiles: [Board]
    let boardsDirectory: String
    let reportDirectory: String
    let twinSignatureKeyOverride: String?
    let stop = StopSignal()
    let progress: RigProgress

    init(plan: Plan, planFile: String, boardFiles: [Board], boardsDirectory: String, reportDirectory: String, twinSignatureKeyOverride: String?) {
        self.plan = plan
        self.planFile = planFile
        self.boardFiles = boardFiles
        self.boardsDirectory = boardsDirectory
        self.reportDirectory = reportDirectory
        self.twinSignatureKeyOverride = twinSignatureKeyOverride
        progress = RigProgress(terminal: isatty(STDERR_FILENO) == 1)
    }

    static let version = "0.12.0"

    func run() async throws -> Int32 {
        let started = Date()
        let deviceClock: Date = switch plan.clock {
        case .now: started
        case .fixed(let date): date
        }
        let scenarios: [Scenario] = switch plan.scenarios {
        case .standard: Scenario.standard
        case .named(let names): names.compactMap { Scenario.catalog[$0] }
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("otarig-run-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }

        // Ctrl-C: finish the step in hand, mark the rest not run, write the reports.
        signal(SIGINT, SIG_IGN)
        let interrupt = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        interrupt.setEventHandler { [stop, progress] in
            progress.note("interrupted: finishing the step in hand, then writing the partial reports (Ctrl-C again to quit at once)")
            stop.stop()
            signal(SIGINT, SIG_DFL)
        }
        interrupt.resume()
        defer { interrupt.cancel() }

        // The boards: resolved before anything is signed, so a missing board is bad input, not a rig fault.
        let specs = try resolveBoards()
        // The signer.
        let signer = try await startSigner(in: work)
        defer { signer.stop() }
        let kinds = Array(Set(specs.map { BoardKind(pal: $0.board.firmware.pal, signatureKey: $0.board.firmware.signatureKey) }))
            .sorted { $0.key < $1.key }
        progress.note("signing \(scenarios.count) scenarios for \(kinds.map(\.pal).joined(separator: ", ")) through \(signer.name)")
        let factory = ScenarioInputFactory(client: signer.client, deviceClock: deviceClock, signingTimeout: plan.timeouts.signing,
                                           runTag: String(format: "%08x", UInt32.random(in: 0...UInt32.max)), progress: { _ in })
        let inputs: RunInputs
        do {
            inputs = try await factory.make(kinds: kinds, scenarios: scenarios)
        } catch {
            throw OtarigError(error.description)
        }
        progress.note("signed in \(String(format: "%.1f", Date().timeIntervalSince(started))) s; starting \(specs.count) board(s)")

        // The run's CC3220SF root catalog, where the simulated CC3220SFs' network processor reads it.
        let catalog = work.appendingPathComponent("cc3220-catalog")
        do {
            try FileManager.default.createDirectory(at: catalog, withIntermediateDirectories: true)
            for (name, der) in inputs.rootCatalog { try Data(der).write(to: catalog.appendingPathComponent(name)) }
        } catch {
            throw OtarigError("cannot write the run's root catalog into \(catalog.path): \(error)")
        }

        // Simulated boards start now, each its own process on its own pty.
        var rigBoards: [any RigBoard] = []
        var simulators: [SimulatedBoardProcess] = []
        defer { simulators.forEach { $0.terminate() } }
        for spec in specs {
            switch spec.origin {
            case .simulated:
                let simulator = try SimulatedBoardProcess.start(board: spec.board, boardsDirectory: boardsDirectory, work: work, id: spec.id,
                                                                rootCatalog: catalog.path)
                simulators.append(simulator)
                progress.note("\(spec.id): simulated on \(simulator.pty) (pid \(simulator.pid))")
                rigBoards.append(SerialRigBoard(id: spec.id, board: spec.board, path: simulator.pty, usbSerial: nil, usbPath: nil,
                                                controlFIFO: simulator.control))
            case .attached(let port):
                rigBoards.append(SerialRigBoard(id: spec.id, board: spec.board, path: port.devnode, usbSerial: port.serial, usbPath: port.usbPath))
            }
        }

        let runner = RigRunner(options: .init(timeouts: plan.timeouts, retries: plan.retries, parallel: plan.parallel, otarigVersion: Self.version,
                                              twinSignatureKeyOverride: twinSignatureKeyOverride),
                               stop: stop, onEvent: { [progress] event in progress.handle(event) })
        progress.begin(boards: rigBoards.map(\.id), cells: scenarios.count)
        let boardsToRun = rigBoards
        let boardRuns = await withCheckedContinuation { continuation in
            Thread {
                continuation.resume(returning: runner.run(boards: boardsToRun, scenarios: scenarios, inputs: inputs))
            }.start()
        }
        progress.end()

        var report = RunReport(plan: plan.name, planFile: planFile, otarigVersion: Self.version, startedAt: started, finishedAt: Date(),
                               deviceClock: deviceClock, signer: signer.name, scenarios: scenarios.map(ScenarioSummary.init), boards: boardRuns)
        report.interrupted = stop.isStopped
        try RigReportOutput.write(report, to: reportDirectory)
        RigReportOutput.printMatrix(report)
        Console.out("reports: \(reportDirectory)/junit.xml, report.html, report.json")
        return report.exitStatus
    }

    // MARK: boards

    struct BoardSpec {
        enum Origin {
            case simulated
            case attached(USBSerialPort)
        }

        var id: String
        var board: Board
        var origin: Origin
    }

    func resolveBoards() throws -> [BoardSpec] {
        var specs: [BoardSpec] = []
        var attached: [USBSerialPort]?
        func ports() throws -> [USBSerialPort] {
            if let attached { return attached }
            let found: [USBSerialPort]
            do { found = try USBDiscovery.serialPorts() } catch {
                throw OtarigError("cannot list USB serial ports: \(error)")
            }
            attached = found
            return found
        }
        func add(_ board: Board, _ origin: BoardSpec.Origin) {
            let same = specs.filter { $0.board.id == board.id }.count
            specs.append(BoardSpec(id: same == 0 ? board.id : "\(board.id)#\(same + 1)", board: board, origin: origin))
        }
        for selection in plan.boards {
            switch selection {
            case .simulated(let id, let count):
                guard let board = boardFiles.first(where: { $0.id == id }) else { throw OtarigError("plan \(planFile): no board file has id '\(id)'") }
                guard board.simulated == true, board.chip == .esp32 || board.chip == .cc3220sf else {
                    throw OtarigError("plan \(planFile): board '\(id)' is not a simulated ESP32 or CC3220SF (simulated: true, chip: esp32 or cc3220sf); use 'board: \(id)' for a real one")
                }
                for _ in 0..<count { add(board, .simulated) }
            case .board(let id, let serial):
                guard var board = boardFiles.first(where: { $0.id == id }) else { throw OtarigError("plan \(planFile): no board file has id '\(id)'") }
                if let serial { board.usb?.serial = serial }
                let matching = BoardResolver.attached(try ports(), boards: [board]).filter { !$0.boards.isEmpty }
                guard !matching.isEmpty else {
                    throw OtarigError("plan \(planFile): no attached board matches '\(id)'\(serial.map { " with USB serial \($0)" } ?? ""); 'otarig boards' lists what is attached")
                }
                for port in matching { add(board, .attached(port.port)) }
            case .tags(let tags):
                let tagged = boardFiles.filter { Set($0.tags ?? []).isSuperset(of: tags) }
                guard !tagged.isEmpty else {
                    throw OtarigError("plan \(planFile): no board file carries the tags \(tags.joined(separator: ", ")) (board files list theirs under 'tags:')")
                }
                for board in tagged where board.simulated == true { add(board, .simulated) }
                let real = tagged.filter { $0.simulated != true }
                if !real.isEmpty {
                    for port in BoardResolver.attached(try ports(), boards: real) {
                        guard let id = port.boards.first, let board = real.first(where: { $0.id == id }) else { continue }
                        add(board, .attached(port.port))
                    }
                }
            case .allAttached:
                for port in BoardResolver.attached(try ports(), boards: boardFiles) {
                    guard let id = port.boards.first, let board = boardFiles.first(where: { $0.id == id }) else { continue }
                    add(board, .attached(port.port))
                }
            }
        }
        guard !specs.isEmpty else { throw OtarigError("plan \(planFile): its board selections found no board") }
        return specs
    }

    // MARK: the signer

    struct Signer {
        var name: String
        var client: SignerClient
        var stop: () -> Void
    }

    func startSigner(in work: URL) async throws -> Signer {
        switch plan.signer {
        case .remote(let url, let profile, let region):
            return Signer(name: url, client: try SignerEndpointOptions.client(endpoint: url, region: region, awsProfile: profile), stop: {})
        case .embedded:
            let credential = CredentialsFile.generate()
            var logger = Logger(label: "otarig.run.signer")
            logger.logLevel = .warning
            let server: SignerServer
            do {
                server = try SignerServer(configuration: .init(port: 0, dataDirectory: work.appendingPathComponent("signer"), credentials: [credential]),
                                          logger: logger)
            } catch {
                throw OtarigError("cannot start the embedded signing service in \(work.path): \(error)")
            }
            let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
            let app = server.application { port in continuation.yield(port) }
            let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: logger)
            let task = Task { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw OtarigError("the embedded signing service did not start") }
            let signer = SigV4ClientSigner(accessKeyId: credential.accessKeyId, secretAccessKey: credential.secretAccessKey, region: "us-east-1")
            let client = SignerClient(endpoint: URL(string: "http://127.0.0.1:\(port)")!, signer: signer)
            return Signer(name: "embedded (http://127.0.0.1:\(port))", client: client, stop: {
                // A graceful stop, so the server closes its channels instead of logging a cancellation.
                let done = DispatchSemaphore(value: 0)
                Task {
                    await group.triggerGracefulShutdown()
                    _ = try? await task.value
                    done.signal()
                }
                _ = done.wait(timeout: .now() + 5)
            })
        }
    }
}

/// A board reached through a serial port: a USB-UART bridge or a simulated board's pty.
final class SerialRigBoard: RigBoard, @unchecked Sendable {
    let id: String
    let board: Board
    let usbSerial: String?
    let usbPath: String?
    private var open: SerialPort?
    /// The node the board is reached on; a USB reset may move it (`/dev/ttyUSB0` → `/dev/ttyUSB1`).
    private var currentPath: String
    private let lock = NSLock()

    /// A simulated board's control FIFO: its reset lines, since a pty has no modem lines.
    let controlFIFO: String?

    init(id: String, board: Board, path: String, usbSerial: String?, usbPath: String?, controlFIFO: String? = nil) {
        self.id = id
        self.board = board
        self.currentPath = path
        self.usbSerial = usbSerial
        self.usbPath = usbPath
        self.controlFIFO = controlFIFO
    }

    var path: String {
        lock.lock()
        defer { lock.unlock() }
        return currentPath
    }

    var port: String? { path }

    /// For an attached board (known by its USB serial or ID_PATH; a simulated board on a pty has neither): reset its
    /// own USB device, wait for its tty to come back, and connect to the node it came back on from then on.
    var usbReset: (@Sendable () throws -> Void)? {
        guard usbSerial != nil || usbPath != nil else { return nil }
        return { [self] in
            disconnect()
            let report = try USBReset.resetAndWait(tty: path, timeout: 10)
            lock.lock()
            currentPath = report.port.devnode
            lock.unlock()
        }
    }

    func connect() throws -> any Transport {
        lock.lock()
        defer { lock.unlock() }
        open = nil
        let port = try SerialPort(path: currentPath)
        open = port
        if let controlFIFO { return try ControlledTransport(port, fifo: controlFIFO) }
        return port
    }

    func disconnect() {
        lock.lock()
        defer { lock.unlock() }
        open = nil  // the port closes when its last user lets go
    }
}

/// `otarig sim esp32` or `otarig sim cc3220sf` as a child process: its pty path is the first line it prints. A
/// CC3220SF gets the run's root catalog and a control FIFO for its nRESET and SOP2 lines.
final class SimulatedBoardProcess {
    let process: Process
    let pty: String
    /// The control FIFO the simulator reads its reset lines from (a CC3220SF), nil: none.
    var control: String?
    var pid: Int32 { process.processIdentifier }

    static func start(board: Board, boardsDirectory: String, work: URL, id: String, rootCatalog: String) throws -> SimulatedBoardProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let safe = id.replacingOccurrences(of: "#", with: "-")
        var control: String?
        switch board.chip {
        case .cc3220sf:
            control = work.appendingPathComponent("\(safe).control").path
            process.arguments = ["sim", "cc3220sf", "--boards-dir", boardsDirectory, "--flash", work.appendingPathComponent("\(safe).fs.json").path,
                                 "--root-catalog", rootCatalog, "--control", control!, "--console", "/dev/null"]
        case .esp32, .esp32s3:
            process.arguments = ["sim", "esp32", "--board", board.id, "--boards-dir", boardsDirectory,
                                 "--flash", work.appendingPathComponent("\(safe).flash").path,
                                 "--console", "/dev/null", "--baud-timing"]
        }
        let output = Pipe()
        process.standardOutput = output
        _ = FileManager.default.createFile(atPath: work.appendingPathComponent("\(safe).log").path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: work.appendingPathComponent("\(safe).log"))
        do {
            try process.run()
        } catch {
            throw OtarigError("cannot start the simulated board \(id): \(error)")
        }
        var line: [UInt8] = []
        let handle = output.fileHandleForReading
        while true {
            let byte = handle.readData(ofLength: 1)
            guard let first = byte.first else {
                throw OtarigError("the simulated board \(id) exited before naming its pty (its log: \(work.appendingPathComponent("\(safe).log").path))")
            }
            if first == 0x0A { break }
            line.append(first)
        }
        let started = SimulatedBoardProcess(process: process, pty: String(decoding: line, as: UTF8.self))
        started.control = control
        return started
    }

    init(process: Process, pty: String) {
        self.process = process
        self.pty = pty
    }

    func terminate() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(3)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
