import Foundation
import SignerAPI

/// Opaque `nextToken`s: base64url of a small JSON position, tagged with the list they belong to, so a token from
/// one list (or a forged one) is refused with a ValidationException instead of silently restarting.
enum PageToken {
    struct Position: Codable {
        var list: String
        var after: [String]
    }

    static func make(list: String, after: [String]) -> String {
        let data = (try? JSONEncoder().encode(Position(list: list, after: after))) ?? Data()
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func read(_ token: String?, list: String) throws(SignerError) -> [String]? {
        guard let token, !token.isEmpty else { return nil }
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let position = try? JSONDecoder().decode(Position.self, from: data),
              position.list == list else {
            throw .validation("The nextToken is invalid or belongs to another list; start again without it")
        }
        return position.after
    }

    /// One page of `items` (already sorted by `key`), starting after the token's position.
    static func page<T>(_ items: [T], list: String, token: String?, maxResults: Int?, defaultSize: Int = 25,
                        key: (T) -> [String], isAfter: (T, [String]) -> Bool) throws(SignerError) -> (items: [T], nextToken: String?) {
        var remaining = items[...]
        if let after = try read(token, list: list) {
            remaining = remaining.drop { !isAfter($0, after) }
        }
        let size = maxResults ?? defaultSize
        let page = Array(remaining.prefix(size))
        let next = remaining.count > size ? page.last.map { make(list: list, after: key($0)) } : nil
        return (page, next)
    }
}
