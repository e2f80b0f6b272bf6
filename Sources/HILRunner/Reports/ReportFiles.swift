import Foundation

/// The three report files of a run, written together: `report.json` (the source of the other two and of
/// `otarig report history`), `junit.xml` and `report.html`.
public enum ReportFiles {
    /// The files' names in the report directory.
    public static let json = "report.json"
    public static let junit = "junit.xml"
    public static let html = "report.html"

    /// Renders the three files in memory, then writes each to a temporary file in `directory` and renames it into
    /// place (created, with its parents, if missing): a reader sees each file whole, old or new, never a part, and a
    /// failure to render writes nothing. `report.json` is renamed last, so its presence means the other two are from
    /// the same run. `attachmentBase`: see `JUnitReport.render(_:attachmentBase:)`.
    public static func write(_ report: RunReport, to directory: URL, attachmentBase: String = "") throws {
        try write(views(report, attachmentBase: attachmentBase) + [(json, try RunReportJSON.encode(report))], to: directory)
    }

    /// `junit.xml` and `report.html` only, as `write(_:to:attachmentBase:)` writes them (`otarig report render`).
    public static func writeViews(_ report: RunReport, to directory: URL, attachmentBase: String = "") throws {
        try write(views(report, attachmentBase: attachmentBase), to: directory)
    }

    private static func views(_ report: RunReport, attachmentBase: String) -> [(String, Data)] {
        [
            (junit, Data(JUnitReport.render(report, attachmentBase: attachmentBase).utf8)),
            (html, Data(HTMLReport.render(report).utf8)),
        ]
    }

    private static func write(_ files: [(String, Data)], to directory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ReportError("cannot create the report directory '\(directory.path)': \(error.localizedDescription)")
        }
        for (name, data) in files {
            let url = directory.appendingPathComponent(name)
            do {
                try data.write(to: url, options: .atomic)
            } catch {
                throw ReportError("cannot write '\(url.path)': \(error.localizedDescription)")
            }
        }
    }
}
