/// Why flashing stopped, with what an engineer needs to act.
public enum FlashError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No answer to SYNC: the chip is not in download mode, or this is not its port.
    case syncFailed(attempts: Int)
    /// The loader did not answer a command within its timeout.
    case noAnswer(command: String, seconds: Double)
    /// The loader answered a command with a failure status and this error code (`ROMErrorCode`).
    case deviceError(command: String, code: UInt8)
    /// The chip's magic register names another chip.
    case notAnESP32(magic: UInt32)
    /// A block of an image failed on every attempt; `last` says why the last one did.
    case blockFailed(index: Int, offset: Int, attempts: Int, last: String)
    /// The flash's MD5 differs from the image's after writing.
    case digestMismatch(offset: Int, size: Int, expected: String, device: String)
    /// An image that ends past the end of the flash.
    case imageTooLarge(offset: Int, size: Int, flashSize: Int)
    /// The chip's partition table cannot take an OTA update as staged here.
    case layout(String)
    /// The transport failed (a port that cannot send or change its rate).
    case link(String)
    /// The board's loader cannot do this (a QEMU board has no raw flash access over its UART).
    case unsupported(String)
    /// A CC3200/CC3220 bootloader exchange failed: which command, where in a transfer, and why.
    case cc3220(CC3220Failure)

    /// The message users read: what failed and, where it helps, what to do.
    public var description: String {
        switch self {
        case .syncFailed(let attempts):
            return "the chip did not answer SYNC in \(attempts) attempts: is it in download mode (hold BOOT/IO0 low while resetting), and is this its port?"
        case .noAnswer(let command, let seconds):
            return "no answer to \(command) within \(Self.format(seconds)) s"
        case .deviceError(let command, let code):
            return "the chip refused \(command): error 0x\(String(code, radix: 16)) (\(Self.meaning(code)))"
        case .notAnESP32(let magic):
            return "the chip's magic register reads 0x\(String(magic, radix: 16)), not 0xf01d83 (ESP32); this flasher drives the ESP32"
        case .blockFailed(let index, let offset, let attempts, let last):
            return "block \(index) at offset 0x\(String(offset, radix: 16)) failed after \(attempts) attempts: \(last)"
        case .digestMismatch(let offset, let size, let expected, let device):
            return "the flash at 0x\(String(offset, radix: 16)) (\(size) bytes) has MD5 \(device), the image \(expected): the write did not take"
        case .imageTooLarge(let offset, let size, let flashSize):
            return "\(size) bytes at 0x\(String(offset, radix: 16)) end past the \(flashSize / 1024 / 1024) MiB flash"
        case .layout(let why), .link(let why):
            return why
        case .unsupported(let what):
            return "this board's loader cannot \(what)"
        case .cc3220(let failure):
            return failure.description
        }
    }

    /// What a loader error code means (`ROMErrorCode`), or "unknown error".
    public static func meaning(_ code: UInt8) -> String {
        ROMErrorCode(rawValue: code)?.meaning ?? "unknown error"
    }

    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
