/// SLIP framing as the ESP32 ROM loader and esptool use it (esptool's serial-protocol documentation, docs.espressif.com,
/// esptool ‘Serial Protocol’; espressif/esptool `esptool/loader.py`): a frame is `C0` + payload + `C0`, with `C0` sent
/// as `DB DC` and `DB` as `DB DD` inside.
public enum SLIP {
    public static let end: UInt8 = 0xC0
    public static let escape: UInt8 = 0xDB
    public static let escapedEnd: UInt8 = 0xDC
    public static let escapedEscape: UInt8 = 0xDD

    /// One frame around `payload`.
    public static func encode(_ payload: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = [end]
        out.reserveCapacity(payload.count + payload.count / 32 + 2)
        for byte in payload {
            switch byte {
            case end: out += [escape, escapedEnd]
            case escape: out += [escape, escapedEscape]
            default: out.append(byte)
            }
        }
        out.append(end)
        return out
    }

    /// Reassembles frames from bytes arriving in any pieces, one byte at a time if need be. Bytes outside a frame
    /// (a boot log, line noise) are counted and dropped; an escape followed by anything but DC or DD spoils the
    /// frame, which is dropped at its end.
    public struct Decoder: Sendable {
        public private(set) var droppedBytes = 0
        public private(set) var spoiledFrames = 0
        private var inFrame = false
        private var escaping = false
        private var spoiled = false
        private var current: [UInt8] = []
        /// Frames longer than this are spoiled (the largest request is a 0x4000-byte block plus headers, escaped).
        public let maximumLength: Int

        public init(maximumLength: Int = 0x10000) {
            self.maximumLength = maximumLength
        }

        /// Feeds one byte; returns a frame's payload when this byte ends one.
        public mutating func feed(_ byte: UInt8) -> [UInt8]? {
            guard inFrame else {
                if byte == end {
                    inFrame = true
                    current.removeAll(keepingCapacity: true)
                } else {
                    droppedBytes += 1
                }
                return nil
            }
            if byte == end {
                if current.isEmpty && !spoiled && !escaping {
                    return nil  // C0 C0: the previous frame's end was this frame's start; keep waiting
                }
                let frame = current
                let bad = spoiled || escaping
                current.removeAll(keepingCapacity: true)
                spoiled = false
                escaping = false
                inFrame = true
                if bad {
                    spoiledFrames += 1
                    return nil
                }
                return frame
            }
            if escaping {
                escaping = false
                switch byte {
                case escapedEnd: current.append(end)
                case escapedEscape: current.append(escape)
                default: spoiled = true
                }
            } else if byte == escape {
                escaping = true
            } else {
                current.append(byte)
            }
            if current.count > maximumLength { spoiled = true; current.removeAll(keepingCapacity: true) }
            return nil
        }

        /// Feeds many bytes; returns every frame they complete, in order.
        public mutating func feed(_ bytes: some Sequence<UInt8>) -> [[UInt8]] {
            var frames: [[UInt8]] = []
            for byte in bytes {
                if let frame = feed(byte) { frames.append(frame) }
            }
            return frames
        }
    }
}
