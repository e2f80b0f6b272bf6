/// JSON validation and key search with the semantics the FreeRTOS OTA agent gets from coreJSON (`JSON_Validate`,
/// `JSON_SearchConst`), twin of `Firmware/source/hil_json.c`:
/// - RFC 8259 values; UTF-8 in strings is checked (no overlongs, surrogates or code points past U+10FFFF);
/// - a search returns a range of the caller's buffer: a string's content without its quotes and NOT unescaped,
///   an object's or array's text with its brackets, a literal's or number's text;
/// - keys are compared byte for byte (an escaped key does not match its unescaped form) and the first of
///   duplicate keys wins;
/// - a search only needs the path it walks, and the value it returns, to be well formed: the rest of the
///   document may be garbage.
public enum CoreJSON {
    /// coreJSON's `JSONStatus_t`; the raw value is its number, as the agent logs it ("JSONStatus_t=%d").
    public enum Status: Int, Sendable, CaseIterable {
        case partial = 0
        case success
        case illegalDocument
        case maxDepthExceeded
        case notFound
        case nullParameter
        case badParameter

        /// The number coreJSON gives the status.
        public var coreValue: Int { rawValue }
    }

    /// coreJSON's `JSONTypes_t`, in its order.
    public enum ValueType: Int, Sendable, CaseIterable {
        case invalid = 0
        case string
        case number
        case `true`
        case `false`
        case null
        case object
        case array
    }

    /// coreJSON's `JSON_MAX_DEPTH` default (hilconfigJSON_MAX_DEPTH).
    public static let defaultMaxDepth = 32

    /// Whether `document` is one JSON value of any type with only whitespace around it.
    public static func validate(_ document: [UInt8], maxDepth: Int = defaultMaxDepth) -> Status {
        var cursor = Cursor(document, window: document.indices, maxDepth: maxDepth)
        cursor.skipWhitespace()
        var status = cursor.skipValue(depth: 0)
        if status == .success {
            cursor.skipWhitespace()
            if cursor.pos != cursor.end { status = .illegalDocument }
        }
        return status
    }

    /// Finds the value at `query` ("a.b.c", "files[0].filesize", "[2]") in `document[window]` (the whole document
    /// when `window` is nil), which must start with an object or an array. The value's range indexes `document`
    /// itself, so a search inside a window of a buffer points into that same buffer. On failure the range is empty
    /// and the type `.invalid`.
    public static func search(
        _ document: [UInt8], within window: Range<Int>? = nil, query: String, maxDepth: Int = defaultMaxDepth
    ) -> (status: Status, value: Range<Int>, type: ValueType) {
        search(document, within: window, query: Array(query.utf8), maxDepth: maxDepth)
    }

    /// `search` with the query as raw bytes.
    public static func search(
        _ document: [UInt8], within window: Range<Int>? = nil, query: [UInt8], maxDepth: Int = defaultMaxDepth
    ) -> (status: Status, value: Range<Int>, type: ValueType) {
        let window = window ?? document.indices
        precondition(window.lowerBound >= 0 && window.upperBound <= document.count, "window outside the document")
        var cursor = Cursor(document, window: window, maxDepth: maxDepth)
        let status = cursor.walk(query)
        guard status == .success else {
            return (status, window.lowerBound..<window.lowerBound, .invalid)
        }
        return cursor.measureValue(in: window)
    }
}

// MARK: - Query syntax

extension CoreJSON {
    /// Keys separated by '.', each optionally followed by `[n]` indexes (1 to 9 digits); the query may start with
    /// an index. Keys may not contain '.', '[' or ']'.
    static func isValidQuery(_ query: [UInt8]) -> Bool {
        guard let first = query.first else { return false }
        var q = 0
        var expectKey = first != Byte.openBracket
        while q < query.count {
            if expectKey {
                let start = q
                while q < query.count, !Byte.isQuerySyntax(query[q]) { q += 1 }
                if q == start { return false }
            }
            while q < query.count, query[q] == Byte.openBracket {
                q += 1
                let start = q
                while q < query.count, Byte.isDigit(query[q]) { q += 1 }
                if q == start || q - start > 9 || q >= query.count || query[q] != Byte.closeBracket { return false }
                q += 1
            }
            if q < query.count {
                if query[q] != Byte.dot || q + 1 >= query.count { return false }
                q += 1
            }
            expectKey = true
        }
        return true
    }
}

// MARK: - The cursor

extension CoreJSON {
    /// A position in `buf[pos..<end]`; every index is an index of the caller's buffer.
    struct Cursor {
        let buf: [UInt8]
        let end: Int
        let maxDepth: Int
        var pos: Int

        init(_ buf: [UInt8], window: Range<Int>, maxDepth: Int) {
            self.buf = buf
            self.end = window.upperBound
            self.maxDepth = maxDepth
            self.pos = window.lowerBound
        }

        var atEnd: Bool { pos >= end }

        /// The byte under the cursor, nil at the end of the window.
        var current: UInt8? { pos < end ? buf[pos] : nil }

        mutating func skipWhitespace() {
            while let byte = current, Byte.isWhitespace(byte) { pos += 1 }
        }
    }
}

// MARK: - Skipping values (validation)

extension CoreJSON.Cursor {
    typealias Status = CoreJSON.Status

    mutating func skipValue(depth: Int) -> Status {
        guard let byte = current else { return .partial }
        switch byte {
        case Byte.openBrace, Byte.openBracket: return skipCollection(depth: depth)
        case Byte.quote: return skipString()
        case UInt8(ascii: "t"): return skipLiteral("true")
        case UInt8(ascii: "f"): return skipLiteral("false")
        case UInt8(ascii: "n"): return skipLiteral("null")
        default: return byte == Byte.minus || Byte.isDigit(byte) ? skipNumber() : .illegalDocument
        }
    }

    /// A string from its opening quote; leaves the cursor after the closing quote. A missing opening quote is
    /// illegal even at the end of the buffer (coreJSON-style: a member must start with a key).
    mutating func skipString() -> Status {
        guard current == Byte.quote else { return .illegalDocument }
        pos += 1
        while let byte = current {
            switch byte {
            case Byte.quote:
                pos += 1
                return .success
            case Byte.backslash:
                let status = skipEscape()
                if status != .success { return status }
            case 0..<0x20:
                return .illegalDocument
            case 0x80...:
                let status = skipUTF8()
                if status != .success { return status }
            default:
                pos += 1
            }
        }
        return .partial
    }

    /// `\"` `\\` `\/` `\b` `\f` `\n` `\r` `\t` or `\u` and four hex digits (not checked for surrogate pairs).
    private mutating func skipEscape() -> Status {
        guard pos + 1 < end else { return .partial }
        let escaped = buf[pos + 1]
        if escaped == UInt8(ascii: "u") {
            for i in 2..<6 {
                if pos + i >= end { return .partial }
                if !Byte.isHex(buf[pos + i]) { return .illegalDocument }
            }
            pos += 6
            return .success
        }
        guard Array("\"\\/bfnrt".utf8).contains(escaped) else { return .illegalDocument }
        pos += 2
        return .success
    }

    /// One UTF-8 sequence whose lead byte (>= 0x80) is under the cursor.
    private mutating func skipUTF8() -> Status {
        let lead = buf[pos]
        let extra: Int
        var value: UInt32
        let minimum: UInt32
        switch lead {
        case _ where lead & 0xE0 == 0xC0: (extra, value, minimum) = (1, UInt32(lead & 0x1F), 0x80)
        case _ where lead & 0xF0 == 0xE0: (extra, value, minimum) = (2, UInt32(lead & 0x0F), 0x800)
        case _ where lead & 0xF8 == 0xF0: (extra, value, minimum) = (3, UInt32(lead & 0x07), 0x10000)
        default: return .illegalDocument
        }
        for i in 1...extra {
            if pos + i >= end { return .partial }
            let next = buf[pos + i]
            if next & 0xC0 != 0x80 { return .illegalDocument }
            value = (value << 6) | UInt32(next & 0x3F)
        }
        if value < minimum || value > 0x10FFFF || (0xD800...0xDFFF).contains(value) { return .illegalDocument }
        pos += extra + 1
        return .success
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private mutating func skipNumber() -> Status {
        if current == Byte.minus { pos += 1 }
        guard let first = current else { return .partial }
        if first == UInt8(ascii: "0") {
            pos += 1
        } else if Byte.isDigit(first) {
            skipDigits()
        } else {
            return .illegalDocument
        }
        if current == UInt8(ascii: ".") {
            pos += 1
            if skipDigits() == 0 { return atEnd ? .partial : .illegalDocument }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            pos += 1
            if current == UInt8(ascii: "+") || current == Byte.minus { pos += 1 }
            if skipDigits() == 0 { return atEnd ? .partial : .illegalDocument }
        }
        return .success
    }

    @discardableResult
    private mutating func skipDigits() -> Int {
        let start = pos
        while let byte = current, Byte.isDigit(byte) { pos += 1 }
        return pos - start
    }

    /// `true`, `false` or `null`; a buffer that ends on a prefix of the literal is partial.
    private mutating func skipLiteral(_ literal: StaticString) -> Status {
        let expected = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        let available = end - pos
        if available < expected.count {
            return buf[pos..<end].elementsEqual(expected.prefix(available)) ? .partial : .illegalDocument
        }
        guard buf[pos..<(pos + expected.count)].elementsEqual(expected) else { return .illegalDocument }
        pos += expected.count
        return .success
    }

    /// An object or array from its opening bracket, nested `depth` collections deep.
    private mutating func skipCollection(depth: Int) -> Status {
        let isObject = buf[pos] == Byte.openBrace
        let close = isObject ? Byte.closeBrace : Byte.closeBracket
        if depth >= maxDepth { return .maxDepthExceeded }
        pos += 1
        skipWhitespace()
        if current == close {
            pos += 1
            return .success
        }
        var first = true
        while true {
            if !first {
                skipWhitespace()
                guard let byte = current else { return .partial }
                if byte == close {
                    pos += 1
                    return .success
                }
                if byte != Byte.comma { return .illegalDocument }
                pos += 1
            }
            first = false
            skipWhitespace()
            if isObject {
                let status = skipKeyAndColon()
                if status != .success { return status }
            }
            let status = skipValue(depth: depth + 1)
            if status != .success { return status }
        }
    }

    /// `"key" :` and the whitespace after it.
    private mutating func skipKeyAndColon() -> Status {
        let status = skipString()
        if status != .success { return status }
        skipWhitespace()
        guard let byte = current else { return .partial }
        if byte != Byte.colon { return .illegalDocument }
        pos += 1
        skipWhitespace()
        return .success
    }
}

// MARK: - Searching

extension CoreJSON.Cursor {
    /// Walks the query's keys and indexes; on success the cursor is on the value.
    mutating func walk(_ query: [UInt8]) -> Status {
        guard CoreJSON.isValidQuery(query) else { return .badParameter }
        skipWhitespace()
        var q = 0
        while q < query.count {
            guard let byte = current else { return .notFound }
            if query[q] == Byte.openBracket {
                q += 1
                var index = 0
                let digitsStart = q
                while q < query.count, Byte.isDigit(query[q]) {
                    index = index * 10 + Int(query[q] - UInt8(ascii: "0"))
                    q += 1
                    if q - digitsStart > 9 { return .badParameter }
                }
                if q == digitsStart || q >= query.count || query[q] != Byte.closeBracket { return .badParameter }
                q += 1
                guard byte == Byte.openBracket, findElement(index) == .success else { return .notFound }
            } else {
                let keyStart = q
                while q < query.count, query[q] != Byte.dot, query[q] != Byte.openBracket { q += 1 }
                if q == keyStart { return .badParameter }
                guard byte == Byte.openBrace, findMember(query[keyStart..<q]) == .success else { return .notFound }
            }
            if q < query.count, query[q] == Byte.dot {
                q += 1
                if q >= query.count { return .badParameter }
            }
        }
        return .success
    }

    /// Within the object under the cursor, finds member `key` (raw bytes); leaves the cursor on its value. Any
    /// malformed member before it ends the search.
    private mutating func findMember(_ key: ArraySlice<UInt8>) -> Status {
        pos += 1  // '{'
        while true {
            skipWhitespace()
            guard let byte = current, byte != Byte.closeBrace else { return .notFound }
            let keyStart = pos + 1
            if skipString() != .success { return .notFound }
            let keyEnd = pos - 1
            skipWhitespace()
            guard current == Byte.colon else { return .notFound }
            pos += 1
            skipWhitespace()
            if buf[keyStart..<keyEnd].elementsEqual(key) {
                return atEnd ? .notFound : .success
            }
            if skipValue(depth: 1) != .success { return .notFound }
            skipWhitespace()
            guard current == Byte.comma else { return .notFound }
            pos += 1
        }
    }

    /// Within the array under the cursor, finds element `index`; leaves the cursor on it.
    private mutating func findElement(_ index: Int) -> Status {
        pos += 1  // '['
        var element = 0
        while true {
            skipWhitespace()
            guard let byte = current, byte != Byte.closeBracket else { return .notFound }
            if element == index { return .success }
            if skipValue(depth: 1) != .success { return .notFound }
            skipWhitespace()
            guard current == Byte.comma else { return .notFound }
            pos += 1
            element += 1
        }
    }

    /// The value under the cursor, which must be well formed: a string without its quotes, anything else whole.
    mutating func measureValue(in window: Range<Int>) -> (status: Status, value: Range<Int>, type: CoreJSON.ValueType) {
        let start = pos
        let type = CoreJSON.Cursor.type(of: buf[pos])
        guard skipValue(depth: 0) == .success else {
            return (.notFound, window.lowerBound..<window.lowerBound, .invalid)
        }
        let value = type == .string ? (start + 1)..<(pos - 1) : start..<pos
        return (.success, value, type)
    }

    /// The type a value's first byte announces; anything unknown is taken for a number (and then fails to skip).
    private static func type(of byte: UInt8) -> CoreJSON.ValueType {
        switch byte {
        case Byte.openBrace: .object
        case Byte.openBracket: .array
        case Byte.quote: .string
        case UInt8(ascii: "t"): .true
        case UInt8(ascii: "f"): .false
        case UInt8(ascii: "n"): .null
        default: .number
        }
    }
}

// MARK: - Bytes

/// The ASCII bytes the JSON code compares against.
enum Byte {
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")
    static let openBracket = UInt8(ascii: "[")
    static let closeBracket = UInt8(ascii: "]")
    static let comma = UInt8(ascii: ",")
    static let colon = UInt8(ascii: ":")
    static let dot = UInt8(ascii: ".")
    static let minus = UInt8(ascii: "-")

    /// JSON whitespace: space, TAB, LF, CR.
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// The bytes a query key cannot contain: '.', '[' and ']'.
    static func isQuerySyntax(_ byte: UInt8) -> Bool {
        byte == dot || byte == openBracket || byte == closeBracket
    }

    static func isHex(_ byte: UInt8) -> Bool {
        isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }
}

// MARK: - Iterating

extension CoreJSON {
    /// One member of an object (with its key) or element of an array (key nil), as ranges of the caller's buffer
    /// in `search`'s convention: a string without its quotes, a collection with its brackets.
    public struct Member: Equatable, Sendable {
        public var key: Range<Int>?
        public var value: Range<Int>
        public var type: ValueType
    }

    /// The members of the object or array that fills `collection` (a range `search` returned for one, brackets
    /// included), in order, as coreJSON's `JSON_Iterate` walks them; nil when it is not a well-formed collection.
    public static func members(_ document: [UInt8], of collection: Range<Int>, maxDepth: Int = defaultMaxDepth) -> [Member]? {
        guard collection.lowerBound >= 0, collection.upperBound <= document.count, !collection.isEmpty else { return nil }
        var check = Cursor(document, window: collection, maxDepth: maxDepth)
        guard check.skipValue(depth: 0) == .success, check.pos == collection.upperBound else { return nil }
        let isObject = document[collection.lowerBound] == Byte.openBrace
        guard isObject || document[collection.lowerBound] == Byte.openBracket else { return nil }
        var cursor = Cursor(document, window: collection, maxDepth: maxDepth)
        cursor.pos += 1
        var members: [Member] = []
        while true {
            cursor.skipWhitespace()
            guard let byte = cursor.current, byte != Byte.closeBrace, byte != Byte.closeBracket else { return members }
            if byte == Byte.comma {
                cursor.pos += 1
                cursor.skipWhitespace()
            }
            var key: Range<Int>?
            if isObject {
                let start = cursor.pos
                guard cursor.skipString() == .success else { return nil }
                key = (start + 1)..<(cursor.pos - 1)
                cursor.skipWhitespace()
                cursor.pos += 1  // ':' (the collection validated above)
                cursor.skipWhitespace()
            }
            let measured = cursor.measureValue(in: collection)
            guard measured.status == .success else { return nil }
            members.append(Member(key: key, value: measured.value, type: measured.type))
        }
    }
}
