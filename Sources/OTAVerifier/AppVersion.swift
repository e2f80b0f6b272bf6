/// FreeRTOS's application version word, `major << 24 | minor << 16 | build` (AppVersion32_t), and its "X.Y.Z" text.
public enum AppVersion {
    /// "1.0.1" as the agent prints a version word.
    public static func text(_ word: UInt32) -> String { "\(word >> 24).\((word >> 16) & 0xFF).\(word & 0xFFFF)" }

    /// The word for "X.Y.Z" with X and Y at most 255 and Z at most 65535; nil for anything else.
    public static func word(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let major = UInt32(parts[0]), let minor = UInt32(parts[1]), let build = UInt32(parts[2]),
              major <= 255, minor <= 255, build <= 65535
        else { return nil }
        return major << 24 | minor << 16 | build
    }
}
