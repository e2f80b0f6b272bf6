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

extension DeviceVerdict {
    /// The digest the PAL computed, as lower-case hex (empty when it computed none).
    public var digestHex: String { Hex.string(digest) }
}
