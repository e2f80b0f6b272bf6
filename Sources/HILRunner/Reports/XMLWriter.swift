/// A small XML writer: elements with attributes in the order given, text and attribute values escaped through
/// `ReportText` (so console noise cannot break the document), two spaces of indentation per level.
struct XMLWriter {
    private(set) var text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    private var open: [String] = []

    typealias Attributes = KeyValuePairs<String, String?>

    private var indent: String { String(repeating: "  ", count: open.count) }

    private static func attributes(_ attributes: Attributes) -> String {
        attributes.compactMap { name, value in value.map { " \(name)=\"\(ReportText.escapedAttribute($0))\"" } }.joined()
    }

    /// `<name a="…">` on its own line; nil attribute values are left out.
    mutating func start(_ name: String, _ attributes: Attributes = [:]) {
        text += "\(indent)<\(name)\(Self.attributes(attributes))>\n"
        open.append(name)
    }

    mutating func end() {
        guard let name = open.popLast() else { return }
        text += "\(indent)</\(name)>\n"
    }

    /// `<name a="…"/>`, or `<name a="…">text</name>` when `content` is given (written as is, not indented, so
    /// console lines keep their leading spaces).
    mutating func element(_ name: String, _ attributes: Attributes = [:], content: String? = nil) {
        if let content {
            text += "\(indent)<\(name)\(Self.attributes(attributes))>\(ReportText.escapedText(content))</\(name)>\n"
        } else {
            text += "\(indent)<\(name)\(Self.attributes(attributes))/>\n"
        }
    }
}
