import ArgumentParser
import Foundation
import SignerAPI

/// `otarig platforms`: the signing-platform catalog.
struct PlatformsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "platforms",
        abstract: "List the signing platforms, as AWS Signer's ListSigningPlatforms returns them.",
        discussion: "The table shows what each platform signs with; --json prints the API's JSON body."
    )

    @Flag(help: "Print the ListSigningPlatforms JSON body instead of a table.")
    var json = false

    func run() throws {
        if json {
            struct Body: Encodable { var platforms: [SigningPlatform] }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .withoutEscapingSlashes]
            let data = try encoder.encode(Body(platforms: PlatformCatalog.all))
            Console.out(String(decoding: data, as: UTF8.self))
            return
        }
        let rows = PlatformCatalog.all.map { platform -> [String] in
            let configuration = platform.signingConfiguration
            let encryption = configuration.encryptionAlgorithmOptions.allowedValues.map(\.rawValue).joined(separator: "|")
            let hash = configuration.hashAlgorithmOptions.allowedValues.map(\.rawValue).joined(separator: "|")
            return [platform.platformId, "\(hash)-\(encryption)", platform.signingImageFormat.defaultFormat.rawValue,
                    "\(platform.maxSizeInMB) MiB", platform.displayName]
        }
        Console.out(Table.render(header: ["PLATFORM", "SIGNS", "FORMAT", "MAX", "DISPLAY NAME"], rows: rows))
    }
}

enum Table {
    /// Left-aligned columns separated by two spaces.
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
