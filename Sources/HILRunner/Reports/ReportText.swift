import Foundation

/// Text as the reports write it: console bytes made safe for XML and HTML, escaping, numbers and dates in one
/// locale-free form, and the anchors that link JUnit, HTML and JSON to one cell.
public enum ReportText {
    /// `text` with every character XML 1.0 does not allow (§2.2 `Char`: everything below U+0020 except tab, line feed
    /// and carriage return, plus U+FFFE and U+FFFF) replaced by a visible stand-in: U+2400 + code for C0 controls
    /// (ESC becomes "␛", NUL "␀"), "␡" for DEL, U+FFFD otherwise. Boards print colour escapes and line noise; the
    /// report must stay well-formed and still show where the noise was.
    public static func sanitized(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsReplacement) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if !needsReplacement(scalar) {
                out.append(scalar)
            } else if scalar.value < 0x20 {
                out.append(Unicode.Scalar(0x2400 + scalar.value) ?? "\u{FFFD}")
            } else if scalar.value == 0x7F {
                out.append("\u{2421}")
            } else {
                out.append("\u{FFFD}")
            }
        }
        return String(out)
    }

    /// Characters replaced by `sanitized(_:)`: the XML-illegal ones, and DEL (legal XML, but not text anyone reads).
    static func needsReplacement(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A, 0x0D: false
        case 0..<0x20, 0x7F, 0xFFFE, 0xFFFF: true
        default: false
        }
    }

    /// Sanitized and escaped for XML or HTML element content.
    public static func escapedText(_ text: String) -> String { escaped(text, attribute: false) }

    /// Sanitized and escaped for a double-quoted XML or HTML attribute value. Tab, line feed and carriage return
    /// are written as character references, which XML attribute-value normalization leaves alone.
    public static func escapedAttribute(_ text: String) -> String { escaped(text, attribute: true) }

    private static func escaped(_ text: String, attribute: Bool) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in sanitized(text).unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            // A parser turns CR into LF; keep the byte the board sent.
            case "\r": out += "&#13;"
            case "\"" where attribute: out += "&quot;"
            case "'" where attribute: out += "&#39;"
            case "\t" where attribute: out += "&#9;"
            case "\n" where attribute: out += "&#10;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// Seconds with three decimals and a point, whatever the locale ("12.345").
    public static func seconds(_ value: Double) -> String {
        guard value.isFinite, value >= 0 else { return "0.000" }
        let millis = (value * 1000).rounded()
        let whole = Int(millis / 1000)
        let fraction = Int(millis) - whole * 1000
        let padded = String(fraction)
        return "\(whole)." + String(repeating: "0", count: 3 - padded.count) + padded
    }

    /// RFC 3339 / ISO 8601 in UTC to the second: "2026-08-01T02:00:00Z".
    public static func timestamp(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }

    /// The fragment that names one cell in `report.html`: `cell-<board>-<scenario>`, with every character other
    /// than ASCII letters, digits, `.`, `_` and `-` turned into `_` (a board id such as `esp32-devkitc#2` holds a `#`,
    /// which cannot stand in a URL fragment or in GitLab's attachment path). Two cells that would get the same
    /// anchor get `-2`, `-3`, … in report order, so anchors are unique and stable for a given report.
    public static func anchors(_ report: RunReport) -> [CellKey: String] {
        var anchors: [CellKey: String] = [:]
        var used: Set<String> = []
        for cell in report.cells {
            let key = CellKey(board: cell.board, scenario: cell.scenario)
            guard anchors[key] == nil else { continue }
            let base = "cell-\(slug(cell.board))-\(slug(cell.scenario))"
            var anchor = base
            var n = 2
            while used.contains(anchor) {
                anchor = "\(base)-\(n)"
                n += 1
            }
            used.insert(anchor)
            anchors[key] = anchor
        }
        return anchors
    }

    static func slug(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "-": scalar
            default: "_"
            }
        }))
    }
}

/// One cell of the matrix: a board (as the run names it) and a scenario.
public struct CellKey: Hashable, Sendable, Codable, Comparable {
    public var board: String
    public var scenario: String

    public init(board: String, scenario: String) {
        self.board = board
        self.scenario = scenario
    }

    public static func < (a: CellKey, b: CellKey) -> Bool {
        (a.board, a.scenario) < (b.board, b.scenario)
    }
}
