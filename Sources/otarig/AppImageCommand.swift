import ArgumentParser
import FlashProtocol
import Foundation
import OTAVerifier

/// `otarig app-image`: wraps bytes as a valid ESP32 application image, for the simulated board and for tests.
struct AppImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "app-image",
        abstract: "Make an ESP32 application image (header, segments, checksum, SHA-256, app description) around a payload.",
        discussion: """
            The image is what 'esptool elf2image' lays out: an esp_app_desc_t with --version and --project at the \
            start of a DROM segment, the payload as an IROM segment, DIO 40 MHz 4 MiB, the checksum byte and the \
            appended SHA-256, so the simulated ESP32's bootloader accepts it and prints its version. \
            'esptool image-info' reads it.

            Example:
              otarig app-image --version 1.0.1 --project demo --payload code.bin --out app-1.0.1.bin
            Exit status: 0 written, 2 bad input.
            """
    )

    @Option(help: ArgumentHelp("The app version in the image's description (X.Y.Z, as FreeRTOS compares it).", valueName: "version"))
    var version: String

    @Option(help: ArgumentHelp("The project name in the description.", valueName: "name"))
    var project = "otarig-app"

    @Option(help: ArgumentHelp("The bytes of the code segment.", valueName: "file"))
    var payload: String

    @Option(help: ArgumentHelp("Where to write the image.", valueName: "file"))
    var out: String

    func run() throws {
        guard AppVersion.word(version) != nil else {
            throw OtarigError("--version '\(version)' is not X.Y.Z with X and Y at most 255 and Z at most 65535; FreeRTOS reads the app version as major.minor.build")
        }
        guard project.utf8.count < 32 else { throw OtarigError("--project is at most 31 bytes (esp_app_desc_t.project_name)") }
        let code = Array(try Files.read(payload, what: "payload"))
        guard code.count <= 0x170000 else { throw OtarigError("the payload is \(code.count) bytes; an OTA slot of the simulated board holds 1.5 MiB") }
        let image = ESP32AppImage.build(version: version, project: project, code: code)
        try Files.writeAtomically(Data(image), to: out)
        Console.out("wrote \(out): ESP32 app image, version \(version), \(image.count) bytes")
    }
}
