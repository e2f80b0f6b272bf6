import Foundation

/// Where an OTA update goes on an ESP32, decided from what the chip holds (the layout is in Boards/README.md): the
/// image into the OTA slot after the one otadata selects, the job into the staging partition. Pure: the owner reads
/// the partition table and the otadata sectors, asks `decide`, and writes what it says.
public struct OTAStagingPlan: Equatable, Sendable {
    /// Bytes of each otadata sector the bootloader reads (`esp_ota_select_entry_t`).
    public static let otadataEntryLength = 32
    /// The second otadata sector's distance from the first (one flash sector).
    public static let otadataSectorSize = 0x1000

    /// The chip's partition table as read.
    public let table: PartitionTable
    /// The OTA slots, in slot order; at least two.
    public let slots: [PartitionTable.Entry]
    /// The data partition the job is staged in (`OTAStaging.label`).
    public let staging: PartitionTable.Entry

    /// What to do: the image (its first `slotBytes`) into `slot`, `record` (the encoded job) at the start of the
    /// staging partition.
    public struct Decision: Equatable, Sendable {
        /// The OTA slot the image goes to.
        public var slot: PartitionTable.Entry
        /// How many of the image's bytes go into the slot: all of them, or the slot's size when the image is larger.
        /// An OTA stream delivers the whole file and the device's PAL writes block by block until one ends past the
        /// partition (the ESP32 PAL's `otaPal_WriteBlock`), so an update larger than its slot is staged as far as it
        /// fits, with the job's `size` the whole image's: the device finds out, not the flasher.
        public var slotBytes: Int
        /// The staging partition; `record` goes at its start.
        public var staging: PartitionTable.Entry
        /// The job with its slot and size filled in.
        public var job: OTAStaging.Job
        /// The job as the firmware reads it (`OTAStaging.encode`).
        public var record: [UInt8]
    }

    /// Reads the chip's partition table (`PartitionTable.length` bytes from `PartitionTable.offset`); a table
    /// that cannot take an OTA update is a `.layout` error saying what to flash first.
    public init(partitionTable bytes: [UInt8]) throws(FlashError) {
        let table: PartitionTable
        do {
            table = try PartitionTable(decoding: bytes)
        } catch {
            throw .layout("the chip's partition table: \(error); flash a table with the OTA slots and an '\(OTAStaging.label)' data partition first")
        }
        let slots = table.otaSlots
        guard slots.count >= 2, let staging = table.entry(OTAStaging.label) else {
            throw .layout("the chip's partition table has \(slots.count) OTA slots and \(table.entry(OTAStaging.label) == nil ? "no" : "an") '\(OTAStaging.label)' partition; an OTA update needs two slots and the staging partition")
        }
        self.table = table
        self.slots = slots
        self.staging = staging
    }

    /// Where the otadata entries are (`otadataEntryLength` bytes each); none when the table has no otadata, in
    /// which case the bootloader boots the first slot.
    public var otadataOffsets: [Int] {
        guard let otadata = table.entry("otadata") else { return [] }
        return [otadata.offset, otadata.offset + Self.otadataSectorSize]
    }

    /// Picks the slot after the active one, and encodes the job with that slot and the image's size (the whole
    /// image's, also when only its first `target.size` bytes fit the slot).
    public func decide(otadata sectors: [[UInt8]], imageSize: Int, job: OTAStaging.Job) throws(FlashError) -> Decision {
        let active = OTASelectEntry.activeSlot(sectors: sectors, slotCount: slots.count)?.slot ?? 0
        let target = slots[(active + 1) % slots.count]
        var job = job
        job.slot = target.label
        job.size = imageSize
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let json = try? encoder.encode(job) else { throw .layout("the staged job does not encode as JSON") }
        let record = OTAStaging.encode(json: Array(json))
        guard record.count <= staging.size else {
            throw .layout("the job and certificate (\(record.count) bytes) do not fit the \(staging.size)-byte staging partition")
        }
        return Decision(slot: target, slotBytes: min(imageSize, target.size), staging: staging, job: job, record: record)
    }
}

/// Where a CC3220SF update waits for the device's own OTA agent when the rig delivers it as files (otarig's names,
/// not TI's): the job document and the image, each a plain file in the SimpleLink file system. The application takes
/// them at its next boot as the FreeRTOS agent takes a job and its blocks from the OTA service, and removes them.
public enum CC3220AgentFiles {
    public static let jobDocument = "/otarig/ota-job.json"
    public static let image = "/otarig/ota-image.bin"
    /// The CC3220SF PAL's MCU image file (aws/amazon-freertos cc3220_launchpad `ota_pal.c`).
    public static let mcuImage = "/sys/mcuflashimg.bin"
}
