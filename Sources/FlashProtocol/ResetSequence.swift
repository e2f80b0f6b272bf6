/// The DTR/RTS sequences that put an ESP32 into download mode or restart it, as esptool and esp-pylib drive them
/// (esp-pylib `esp_pylib/serial_reset.py`, espressif/esptool `esptool/reset.py` and `loader.py`
/// `_construct_reset_strategy_sequence`). `true` = asserted, i.e. the line pulled low. On the common two-transistor
/// circuit EN is low while RTS is asserted and DTR is not, and IO0 is low while DTR is asserted and RTS is not.
public enum ResetSequence: String, CaseIterable, Sendable {
    /// Linux default: both lines set at once (TIOCMSET), EN low, then EN high with IO0 low, then release.
    case unixTight = "unix-tight"
    /// One line at a time (the fallback where TIOCMSET is not available).
    case classic
    /// The ESP32-S3/C3 built-in USB-Serial/JTAG (303a:1001), which decodes the lines itself.
    case usbJTAGSerial = "usb-jtag-serial"
    /// After flashing: a pulse on RTS (EN) with IO0 released, so the chip boots its application.
    case hardReset = "hard-reset"
    /// A CC3220 wired as cc3200tool's `--reset dtr --sop2 rts` (toniebox-reverse-engineering/cc3200tool `cc.py`):
    /// DTR asserted holds nRESET low, RTS asserted pulls SOP2 high. Into the ROM's UART bootloader: SOP2 high while
    /// nRESET pulses (shared/reference/cc3220-bootloader.md §2.5: reset with SOP2 high enters the bootloader).
    case sop2Bootloader = "sop2-bootloader"
    /// The same wiring, into the application: SOP2 low while nRESET pulses.
    case sop2Application = "sop2-application"

    public enum Step: Equatable, Sendable {
        /// Both lines in one call.
        case lines(dtr: Bool, rts: Bool)
        case dtr(Bool)
        case rts(Bool)
        case wait(seconds: Double)
    }

    /// The steps, with esptool's first reset delay (0.05 s; it retries with 0.55 s).
    public func steps(resetDelay: Double = 0.05) -> [Step] {
        switch self {
        case .unixTight:
            return [.lines(dtr: false, rts: false), .lines(dtr: true, rts: true), .lines(dtr: false, rts: true), .wait(seconds: 0.1),
                    .lines(dtr: true, rts: false), .wait(seconds: resetDelay), .lines(dtr: false, rts: false), .dtr(false)]
        case .classic:
            return [.dtr(false), .rts(true), .wait(seconds: 0.1), .dtr(true), .rts(false), .wait(seconds: resetDelay), .dtr(false)]
        case .usbJTAGSerial:
            return [.rts(false), .dtr(false), .wait(seconds: 0.1), .dtr(true), .rts(false), .wait(seconds: 0.1),
                    .rts(true), .dtr(false), .rts(true), .wait(seconds: 0.1), .dtr(false), .rts(false)]
        case .hardReset:
            return [.rts(true), .wait(seconds: 0.1), .rts(false)]
        case .sop2Bootloader:
            return [.lines(dtr: true, rts: true), .wait(seconds: 0.05), .lines(dtr: false, rts: true), .wait(seconds: 0.05)]
        case .sop2Application:
            return [.lines(dtr: true, rts: false), .wait(seconds: 0.05), .lines(dtr: false, rts: false)]
        }
    }

    /// The steps as whole line states: what both lines are after each step (a step that sets one line keeps the
    /// other as the sequence left it), and the waits between. Both lines start released.
    public enum LineState: Equatable, Sendable {
        case lines(dtr: Bool, rts: Bool)
        case wait(seconds: Double)
    }

    public func lineStates(resetDelay: Double = 0.05) -> [LineState] {
        var dtr = false, rts = false
        return steps(resetDelay: resetDelay).map { step in
            switch step {
            case .lines(let d, let r): dtr = d; rts = r
            case .dtr(let d): dtr = d
            case .rts(let r): rts = r
            case .wait(let seconds): return .wait(seconds: seconds)
            }
            return .lines(dtr: dtr, rts: rts)
        }
    }
}
