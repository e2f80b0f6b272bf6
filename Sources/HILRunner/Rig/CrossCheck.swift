import OTAVerifier

/// The rig's judgement of one cell: the scenario's expectation, what the device said, what the twin predicts for the
/// device, and what the policy layer says, compared in that order.
///
/// - Device ≠ twin: a **fidelity finding** (the twin does not model this device; both consoles go in the report).
/// - Device = twin ≠ expectation (or policy ≠ its expectation): a **product failure**.
/// - The device accepts what policy rejects: a **known device gap**, unless the board declares that its firmware
///   enforces that policy, in which case its expectation is a rejection and accepting is a product failure.
public enum CrossCheck {
    /// The policy checks each board-file policy word covers.
    public static func checks(enforcedBy words: [String]) -> Set<PolicyFinding.Check> {
        var checks: Set<PolicyFinding.Check> = []
        for word in words {
            switch word {
            case "certificate-validity": checks.insert(.certificateValidity)
            case "revocation": checks.formUnion([.signatureRevoked, .profileRevoked])
            default: break
            }
        }
        return checks
    }

    /// The device verdict a board must give: the scenario's for the board's PAL family; a policy rejection
    /// (SignatureCheckFailed at close, as the device policy reports it) when the board enforces a check the scenario
    /// expects to fail. Nil when the scenario says nothing for that PAL family.
    public static func expectedDevice(_ expectation: Expectation, pal: String, enforced: Set<PolicyFinding.Check>) -> (DeviceExpectation, enforcedByDevice: Bool)? {
        guard let stock = expectation.device[pal] else { return nil }
        let enforcedFailures = expectation.policyFailures.intersection(enforced)
        if stock.accepted && !enforcedFailures.isEmpty {
            return (DeviceExpectation(.rejectedSignature, .signatureCheckFailed), true)
        }
        return (stock, false)
    }

    public struct Judgement: Equatable, Sendable {
        public var classification: Cell.Classification
        public var type: String?
        public var message: String
    }

    public static func judge(expected: DeviceExpectation, expectedPolicyFailures: Set<PolicyFinding.Check>, enforced: Set<PolicyFinding.Check>,
                             device: ObservedVerdict, twin: Cell.TwinPrediction, policy: [PolicyFinding]) -> Judgement {
        guard let deviceAccepted = device.accepted else {
            return Judgement(classification: .rigError, type: "rig.no-verdict", message: "the board printed no verdict")
        }
        // 1. Device against twin: the verdict, the PAL status when the device reported one, and the job statuses.
        var differences: [String] = []
        if deviceAccepted != twin.accepted {
            differences.append("the device \(deviceAccepted ? "accepted" : "rejected"), the twin predicts it \(twin.accepted ? "accepts" : "rejects")")
        }
        if let outcome = device.outcome, outcome != twin.outcome, deviceAccepted == twin.accepted {
            differences.append("outcome \(outcome) on the device, \(twin.outcome) from the twin")
        }
        if let status = device.palStatus, status != twin.palStatus {
            differences.append("PAL status \(PALStatus(rawValue: status)) on the device, \(PALStatus(rawValue: twin.palStatus)) from the twin")
        }
        if device.statuses != twin.statuses {
            let index = zip(device.statuses, twin.statuses).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(device.statuses.count, twin.statuses.count)
            let said = index < device.statuses.count ? device.statuses[index] : "nothing"
            let predicted = index < twin.statuses.count ? twin.statuses[index] : "nothing"
            differences.append("job status \(index + 1): the device published \(said), the twin predicts \(predicted)")
        }
        if !differences.isEmpty {
            return Judgement(classification: .fidelityFinding, type: "fidelity.device-twin", message: differences.joined(separator: "; "))
        }

        // 2. Device (= twin) against the expectation.
        let outcome = device.outcome ?? twin.outcome
        let palStatus = device.palStatus ?? twin.palStatus
        let palMain = palStatus >> 24
        // An acceptance is an acceptance whether the board reports it at the download or after its self test.
        let outcomeMatches = outcome == expected.outcome.rawValue
            || (expected.outcome == .accepted && DeviceOutcome(rawValue: outcome)?.isAcceptance == true)
        let statusMatches = (expected.palMain.map { UInt32($0.rawValue) == palMain } ?? true)
            && (expected.palSub.map { $0 == palStatus & 0xFF_FFFF } ?? true)
        if !outcomeMatches || !statusMatches {
            let showStatus = expected.palMain != nil || outcome == DeviceOutcome.rejectedSignature.rawValue
            let status = PALStatus(rawValue: palStatus)
            let got = !showStatus ? outcome
                : expected.palSub != nil ? "\(outcome) (\(status.mainName), \(status.hex))" : "\(outcome) (\(status.mainName))"
            return Judgement(classification: .productFailure, type: "product.device-verdict",
                             message: "expected \(expected), the device and the twin both give \(got)")
        }

        // 3. The policy layer against its expectation.
        let failing = Set(policy.filter { $0.result == .fail }.map(\.check))
        if failing != expectedPolicyFailures {
            let unexpected = failing.subtracting(expectedPolicyFailures).map(\.rawValue).sorted()
            let missing = expectedPolicyFailures.subtracting(failing).map(\.rawValue).sorted()
            var parts: [String] = []
            if !unexpected.isEmpty { parts.append("policy fails \(unexpected.joined(separator: ", ")), which the scenario does not expect") }
            if !missing.isEmpty { parts.append("policy passes \(missing.joined(separator: ", ")), which the scenario expects to fail") }
            return Judgement(classification: .productFailure, type: "product.policy-verdict", message: parts.joined(separator: "; "))
        }

        // 4. What policy rejects and the device took.
        if deviceAccepted && !failing.isEmpty {
            let gap = failing.subtracting(enforced).map(\.rawValue).sorted()
            return Judgement(classification: .knownDeviceGap, type: "gap.device-policy",
                             message: "the device accepts; policy rejects (\(gap.joined(separator: ", "))), which stock FreeRTOS firmware does not check")
        }
        return Judgement(classification: .pass, type: nil, message: deviceAccepted ? "accepted, as expected" : "rejected as expected: \(expected)")
    }
}
