import BoardModel
import FlashProtocol

/// What one flashing session does, in order: reset into the loader, connect, change baud, write or verify each
/// image, stage an OTA update, read a region back, then leave the chip as asked.
public struct FlashPlan: Sendable {
    /// What the chip does when the session ends.
    public enum After: String, Sendable, CaseIterable {
        /// Stays in its loader.
        case stay
        /// Leaves the loader and runs the application (asked of the loader).
        case run
        /// A reset pulse on the reset line, so the chip boots its application.
        case hardReset = "hard-reset"
    }

    /// A region to read back, and how long.
    public struct ReadBack: Sendable {
        public var location: FlashLocation
        public var length: Int

        public init(location: FlashLocation, length: Int) {
            self.location = location
            self.length = length
        }
    }

    /// The sequence that puts the chip into its loader; nil when it is already there (or reset by hand).
    public var before: ResetSequence?
    /// The rate to switch to after connecting; nil keeps the loader's rate.
    public var baudRate: Int?
    public var images: [FlashImage]
    /// Compare the images with the device instead of writing them.
    public var verifyOnly: Bool
    public var update: OTAUpdate?
    public var readBack: ReadBack?
    public var compress: Bool
    public var after: After

    public init(before: ResetSequence?, baudRate: Int?, images: [FlashImage] = [], verifyOnly: Bool = false, update: OTAUpdate? = nil,
                readBack: ReadBack? = nil, compress: Bool = true, after: After = .stay) {
        self.before = before
        self.baudRate = baudRate
        self.images = images
        self.verifyOnly = verifyOnly
        self.update = update
        self.readBack = readBack
        self.compress = compress
        self.after = after
    }
}

/// What a session left behind: the staged update and the bytes read back, when the plan asked for them.
public struct FlashOutcome: Sendable {
    public var chip: String
    public var staged: StagedUpdate?
    public var readBack: [UInt8]?
}

/// Runs a `FlashPlan` on a board's capabilities, step by step, reporting each step as a `FlashEvent`. The I/O is
/// the capabilities'; the session only orders them, so it is the same for an ESP32 ROM loader, a CC3220SF
/// bootloader or any flasher to come.
public struct FlashSession {
    public let flasher: any Flasher
    public let resetLines: (any ResetLines)?

    public init(flasher: any Flasher, resetLines: (any ResetLines)?) {
        self.flasher = flasher
        self.resetLines = resetLines
    }

    /// The driver's flasher and reset lines.
    public init(driver: any BoardDriver) {
        self.init(flasher: driver.flasher, resetLines: driver.resetLines)
    }

    public func run(_ plan: FlashPlan, onEvent: @escaping (FlashEvent) -> Void) throws(FlashError) -> FlashOutcome {
        flasher.onEvent = onEvent
        defer { flasher.onEvent = nil }
        if let before = plan.before {
            onEvent(.reset(before, performed: resetLines?.perform(before) ?? false))
        }
        let chip = try flasher.open()
        if let rate = plan.baudRate { try flasher.changeBaudRate(rate) }
        for image in plan.images {
            if plan.verifyOnly {
                try flasher.verify(image)
            } else {
                try flasher.write(image, compress: plan.compress)
            }
        }
        var outcome = FlashOutcome(chip: chip)
        if let update = plan.update {
            outcome.staged = try flasher.stage(update, compress: plan.compress)
        }
        if let readBack = plan.readBack {
            outcome.readBack = try flasher.read(readBack.location, length: readBack.length)
        }
        switch plan.after {
        case .stay:
            break
        case .run:
            try flasher.runApplication()
        case .hardReset:
            onEvent(.reset(.hardReset, performed: resetLines?.perform(.hardReset) ?? false))
        }
        return outcome
    }
}

extension ResetSequence {
    /// The sequence that puts a board wired as `reset` into its ROM loader: the two-transistor auto-reset circuit
    /// takes esptool's Linux default (unix-tight), the built-in USB-Serial/JTAG its own sequence, a CC3220 wired
    /// nRESET/SOP2 SOP2 high with an nRESET pulse, and a board reset by hand none.
    public static func download(for reset: Board.Reset) -> ResetSequence? {
        switch reset {
        case .autoResetCircuit: .unixTight
        case .usbJTAGSerial: .usbJTAGSerial
        case .nresetSOP2: .sop2Bootloader
        case .manual: nil
        }
    }

    /// The sequence that resets a board wired as `reset` into its application, for a loader with no command that
    /// starts it (the CC3220's): SOP2 low and an nRESET pulse. Nil where the loader is asked instead, or by hand.
    public static func application(for reset: Board.Reset) -> ResetSequence? {
        switch reset {
        case .nresetSOP2: .sop2Application
        case .autoResetCircuit, .usbJTAGSerial, .manual: nil
        }
    }
}
