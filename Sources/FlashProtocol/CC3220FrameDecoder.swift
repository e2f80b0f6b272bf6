/// Reassembles what the CC3220 bootloader's line carries, from bytes arriving in any pieces (one at a time if need
/// be): `append(_:)` the bytes, then call `next()` until it returns nil (more bytes needed).
///
/// The line is not self-describing (an ACK, a frame and a raw reply all look alike), so the reader says what it
/// expects next in `expecting`, as every tool does; it may change it between two `next()` calls and the bytes
/// already buffered are read the new way.
///
/// - `.frame`: `[len u16 BE][sum8][payload]`. A frame whose checksum is wrong is dropped silently and counted in
///   `droppedFrames` (the device does not acknowledge it: E2E 453689). A length below 3 (no opcode) or past
///   `CC3220Bootloader.maxFramePayload` + 2 cannot start a frame here: its first byte is skipped (`skippedBytes`) and
///   the search goes on at the next byte (our choice; the ROM's behaviour is unknown).
/// - `.ack`: bytes are skipped until `00 CC` (cc3200tool `_read_ack`), then an `.ack`.
/// - `.raw(count:)`: the next `count` bytes as they are (GET_STORAGE_LIST 1, START_UPLOAD's token 4,
///   FS_PROGRAMMING's status 4).
/// - `.hostACKOrFrame`: the device, after a framed reply, waits for the host's `00 CC`: two bytes `00 CC` give an
///   `.ack`; anything else is read as a frame (a host that skips the ACK). Either way `expecting` becomes `.frame`.
public struct CC3220FrameDecoder: Sendable {
    /// What the reader expects next.
    public enum Expectation: Equatable, Sendable {
        case frame
        case ack
        case raw(count: Int)
        case hostACKOrFrame
    }

    /// What the line carried.
    public enum Item: Equatable, Sendable {
        /// A frame's payload (its checksum was right).
        case frame([UInt8])
        case ack
        case raw([UInt8])
    }

    public var expecting: Expectation
    /// Frames dropped for a wrong checksum.
    public private(set) var droppedFrames = 0
    /// Bytes skipped while looking for an ACK or a plausible frame header.
    public private(set) var skippedBytes = 0

    private var buffer: [UInt8] = []
    /// Where unread bytes start in `buffer` (compacted now and then, so a long transfer does not shift every time).
    private var start = 0

    public init(expecting: Expectation = .frame) {
        self.expecting = expecting
    }

    /// Bytes received and not yet read.
    public var bufferedCount: Int { buffer.count - start }

    /// Adds received bytes.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// Drops every buffered byte (the owner flushed the port's input).
    public mutating func reset() {
        buffer.removeAll(keepingCapacity: true)
        start = 0
    }

    /// The next item the buffered bytes complete under `expecting`, or nil when more bytes are needed.
    public mutating func next() -> Item? {
        defer { compact() }
        switch expecting {
        case .ack:
            while bufferedCount >= 2 {
                if buffer[start] == 0x00 && buffer[start + 1] == 0xCC {
                    start += 2
                    return .ack
                }
                start += 1
                skippedBytes += 1
            }
            return nil
        case .raw(let count):
            precondition(count >= 0, "a negative raw count")
            guard bufferedCount >= count else { return nil }
            defer { start += count }
            return .raw(Array(buffer[start..<(start + count)]))
        case .hostACKOrFrame:
            guard bufferedCount >= 2 else { return nil }
            expecting = .frame
            if buffer[start] == 0x00 && buffer[start + 1] == 0xCC {
                start += 2
                return .ack
            }
            return nextFrame()
        case .frame:
            return nextFrame()
        }
    }

    private mutating func nextFrame() -> Item? {
        while bufferedCount >= CC3220Bootloader.frameHeaderLength {
            let length = Int(buffer[start]) << 8 | Int(buffer[start + 1])
            guard length >= 3, length - 2 <= CC3220Bootloader.maxFramePayload else {
                start += 1
                skippedBytes += 1
                continue
            }
            let payloadCount = length - 2
            guard bufferedCount >= CC3220Bootloader.frameHeaderLength + payloadCount else { return nil }
            let checksum = buffer[start + 2]
            let payloadStart = start + CC3220Bootloader.frameHeaderLength
            let payload = Array(buffer[payloadStart..<(payloadStart + payloadCount)])
            start = payloadStart + payloadCount
            if CC3220Bootloader.checksum(payload) == checksum { return .frame(payload) }
            droppedFrames += 1
        }
        return nil
    }

    private mutating func compact() {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 8192 {
            buffer.removeFirst(start)
            start = 0
        }
    }
}
