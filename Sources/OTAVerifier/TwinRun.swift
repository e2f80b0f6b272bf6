import Foundation

/// One run of the whole twin: the device-equivalent verdict (`DeviceTwin`), then the host-only policy layer on top
/// of it, kept apart so a policy finding never changes what the device would say.
public struct TwinRun: Sendable {
    public var inputs: DeviceInputs
    public var device: DeviceVerdict
    public var policy: PolicyVerdict

    /// Runs the device twin on `inputs`, then the policy checks on the certificate the device verified with (the
    /// one found under certfile, or the compiled-in fallback) and the signature the job carried, against `facts`
    /// (revocations, validity periods) at `now`.
    public static func run(_ inputs: DeviceInputs, facts: SignerFacts?, now: Date) -> TwinRun {
        let device = DeviceTwin.run(inputs)
        var certificateUsed: [UInt8]?
        if case .found(let bytes) = device.certificateLookup {
            certificateUsed = bytes
        } else if device.usedFallbackCertificate {
            certificateUsed = inputs.fallbackCertificate
        }
        let policy = Policy.evaluate(signature: device.job?.signature ?? [], certificate: certificateUsed, facts: facts, now: now)
        return TwinRun(inputs: inputs, device: device, policy: policy)
    }
}

extension TwinRun {
    /// The twin of a whole update on a board that activates an accepted image and reboots into it (the ESP32 PAL):
    /// the download (`run`), then, when the device accepted, the agent's self test after the reboot, with the job
    /// back carrying `statusDetails.updatedBy` (the version that downloaded it), the platform in PendingCommit and
    /// `newVersion` running. The verdict is the self test's; the events and job statuses are both phases' in order.
    public static func runUpdate(_ inputs: DeviceInputs, newVersion: UInt32, facts: SignerFacts?, now: Date) -> TwinRun {
        var run = TwinRun.run(inputs, facts: facts, now: now)
        guard run.device.accepted, !inputs.platformPendingCommit, JobExecution.shape(of: inputs.jobDocument) == .executionMessage else { return run }
        var selfTest = inputs
        selfTest.jobDocument = JobExecution.withSelfTestStatus(inputs.jobDocument, updatedBy: inputs.runningVersion)
        selfTest.runningVersion = newVersion
        selfTest.platformPendingCommit = true
        selfTest.devicePolicy = nil
        var after = DeviceTwin.run(selfTest)
        after.events = run.device.events + after.events
        after.job = run.device.job
        after.digest = run.device.digest
        after.certificateLookup = run.device.certificateLookup
        run.device = after
        return run
    }
}

extension DeviceVerdict {
    /// The digest the PAL computed, as lower-case hex (empty when it computed none).
    public var digestHex: String { Hex.string(digest) }
}
