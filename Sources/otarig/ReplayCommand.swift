import ArgumentParser
import BoardModel
import Foundation
import HILRunner
import OTAVerifier

/// `otarig replay`: a real board's console beside the twin, to find where they part ways.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Set a console captured from a board beside the twin's run on the same inputs, and say where they part ways.",
        discussion: """
            Give the console log the board printed during an OTA update (a file; ESP-IDF's 'I (123) AWS_OTA: …' \
            lines and the other ports' '[OTA] …' lines are read), and the image, job document and certificates it \
            was given. otarig reads the agent's lines and job statuses from the log, runs the twin with the \
            board's PAL profile and signature key (--board, from its board file; or --profile and \
            --signature-key), and compares the two line for line.

            If they part ways, it shows the first line where they do, with what the board said and what the twin \
            predicts: the twin does not model this board there. If they agree, it says so and names the check \
            that failed and why, from the same walk 'otarig explain' prints.

            Example:
              otarig replay --console board.log --board esp32-devkitc --image app.bin --job-doc job.json --cert-dir certs/
            Exit status: 0 the board and the twin agree, 1 they part ways, 2 bad input.
            """
    )

    @Option(help: ArgumentHelp("The console log captured from the board.", valueName: "file"))
    var console: String

    @Option(help: ArgumentHelp("The board file id whose firmware (PAL profile, signature key) the twin plays.", valueName: "id"))
    var board: String?

    @OptionGroup var boardFiles: BoardFiles

    @OptionGroup var twin: TwinOptions

    @OptionGroup var inputs: DeviceInputOptions

    func run() async throws {
        var twin = self.twin
        var inputs = self.inputs
        if let board {
            guard let file = try boardFiles.load().first(where: { $0.id == board }) else {
                throw OtarigError("no board file has id '\(board)'; 'ls \(boardFiles.path)' shows the ids")
            }
            twin.profile = file.firmware.pal
            if inputs.signatureKey == "auto" { inputs.signatureKey = file.firmware.signatureKey }
        }
        let text = String(decoding: try Files.read(console, what: "console log"), as: UTF8.self)
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" }).map(String.init)
        let session = try await TwinSession.run(twin, inputs)
        let comparison = Replay.compare(console: lines, twin: session.device)
        guard !comparison.deviceLines.isEmpty else {
            throw OtarigError("the console log '\(console)' has no OTA agent lines ('AWS_OTA: …' or '[OTA] …'); is it the board's log of the update?")
        }
        Console.out("replay: \(comparison.deviceLines.count) agent lines from the board, \(comparison.twinLines.count) from the twin (\(twin.profile), \(session.deviceInputs.signatureKey))")
        let walk = Explainer.explain(session.deviceInputs, session.device,
                                     signatureText: Explainer.signatureText(in: session.deviceInputs.jobDocument, key: session.deviceInputs.signatureKey),
                                     candidates: [])
        if let index = comparison.firstDifference {
            Console.out("the board and the twin part ways at agent line \(index + 1):")
            Console.out("  board: \(index < comparison.deviceLines.count ? comparison.deviceLines[index] : "(nothing more)")")
            Console.out("  twin:  \(index < comparison.twinLines.count ? comparison.twinLines[index] : "(nothing more)")")
            if index > 0 { Console.out("  (the \(index) lines before agree)") }
            Console.out("the twin's walk up to there: \(walk.failedStep.map { "it stops at \($0.name)" } ?? "it accepts")")
            throw ExitCode(1)
        }
        let verdict = comparison.device.accepted == true ? "accepted the update" : "rejected the update"
        Console.out("the board and the twin agree line for line: the board \(verdict)\(comparison.device.palStatusText.map { ", \($0)" } ?? "")")
        if let failed = walk.failedStep {
            Console.out("failed check: \(failed.name)")
            for line in failed.lines { Console.out("  \(line)") }
        }
    }
}
