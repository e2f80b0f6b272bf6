/// A NOR flash chip: erasing sets whole 4 KiB sectors to 0xFF, programming can only clear bits (new = old AND data).
public struct NORFlash: Sendable, Equatable {
    public static let sectorSize = 0x1000
    public private(set) var bytes: [UInt8]

    public init(size: Int = 4 * 1024 * 1024) {
        bytes = [UInt8](repeating: 0xFF, count: size)
    }

    /// A chip holding `contents`, padded with erased bytes to `size`.
    public init(contents: [UInt8], size: Int = 4 * 1024 * 1024) {
        bytes = Array(contents.prefix(size)) + [UInt8](repeating: 0xFF, count: max(0, size - contents.count))
    }

    public var size: Int { bytes.count }

    /// Erases every sector that [offset, offset + length) touches. False when the range leaves the chip.
    @discardableResult
    public mutating func erase(offset: Int, length: Int) -> Bool {
        guard offset >= 0, length >= 0, offset + length <= size else { return false }
        guard length > 0 else { return true }
        let start = offset / Self.sectorSize * Self.sectorSize
        let end = min(size, (offset + length + Self.sectorSize - 1) / Self.sectorSize * Self.sectorSize)
        for index in start..<end { bytes[index] = 0xFF }
        return true
    }

    /// Programs `data` at `offset`: each bit can only go from 1 to 0. False when the range leaves the chip.
    @discardableResult
    public mutating func program(offset: Int, _ data: some Collection<UInt8>) -> Bool {
        guard offset >= 0, offset + data.count <= size else { return false }
        var index = offset
        for byte in data {
            bytes[index] &= byte
            index += 1
        }
        return true
    }

    public func read(offset: Int, length: Int) -> ArraySlice<UInt8>? {
        guard offset >= 0, length >= 0, offset + length <= size else { return nil }
        return bytes[offset..<offset + length]
    }
}
