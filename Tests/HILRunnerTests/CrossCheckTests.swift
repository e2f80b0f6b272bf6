import HILRunner
import OTAVerifier
import Testing

@Suite("The cross-check")
struct CrossCheckTests {
    static let rejectedStatus = #"{"status":"FAILED","statusDetails":{"reason":"0x000000e3: 0x00000000"}}"#
    static let readyStatus = #"{"status":"IN_PROGRESS","statusDetails":{"self_test":"ready","updatedBy":"0x01000000"}}"#

    func observed(accepted: Bool, outcome: String, status: UInt32?, statuses: [String]) -> ObservedVerdict {
        var verdict = ObservedVerdict()
        verdict.accepted = accepted
        verdict.outcome = outcome
        verdict.palStatus = status
        verdict.statuses = statuses
        return verdict
    }

    let accepted = Cell.TwinPrediction(outcome: "accepted", accepted: true, palStatus: 0, statuses: [Self.readyStatus])
    let rejected = Cell.TwinPrediction(outcome: "rejected-signature", accepted: false, palStatus: 0xe300_0000, statuses: [Self.rejectedStatus])
    let revoked = [PolicyFinding(check: .signatureRevoked, result: .fail, detail: "revoked")]

    @Test("device, twin and expectation agree: pass")
    func pass() {
        let judgement = CrossCheck.judge(expected: DeviceExpectation(.rejectedSignature, .signatureCheckFailed), expectedPolicyFailures: [], enforced: [],
                                         device: observed(accepted: false, outcome: "rejected-signature", status: 0xe300_0000, statuses: [Self.rejectedStatus]),
                                         twin: rejected, policy: [])
        #expect(judgement.classification == .pass)
    }

    @Test("device and twin disagree: a fidelity finding, whatever the expectation says")
    func fidelity() {
        let judgement = CrossCheck.judge(expected: .accepted, expectedPolicyFailures: [], enforced: [],
                                         device: observed(accepted: true, outcome: "accepted", status: nil, statuses: [Self.readyStatus]),
                                         twin: rejected, policy: [])
        #expect(judgement.classification == .fidelityFinding)
        #expect(judgement.type == "fidelity.device-twin")
        #expect(judgement.message.contains("the device accepted, the twin predicts it rejects"))
    }

    @Test("the same verdict but another job status is a fidelity finding too")
    func statusDiffers() {
        let judgement = CrossCheck.judge(expected: .accepted, expectedPolicyFailures: [], enforced: [],
                                         device: observed(accepted: true, outcome: "accepted", status: nil, statuses: [#"{"status":"SUCCEEDED"}"#]),
                                         twin: accepted, policy: [])
        #expect(judgement.classification == .fidelityFinding)
        #expect(judgement.message.contains("job status 1"))
    }

    @Test("device = twin ≠ expectation: a product failure")
    func product() {
        let judgement = CrossCheck.judge(expected: DeviceExpectation(.rejectedSignature, .signatureCheckFailed), expectedPolicyFailures: [], enforced: [],
                                         device: observed(accepted: true, outcome: "accepted", status: nil, statuses: [Self.readyStatus]),
                                         twin: accepted, policy: [])
        #expect(judgement.classification == .productFailure && judgement.type == "product.device-verdict")
    }

    @Test("the policy layer failing a check the scenario does not expect is a product failure")
    func policyUnexpected() {
        let judgement = CrossCheck.judge(expected: .accepted, expectedPolicyFailures: [], enforced: [],
                                         device: observed(accepted: true, outcome: "accepted", status: nil, statuses: [Self.readyStatus]),
                                         twin: accepted, policy: revoked)
        #expect(judgement.classification == .productFailure && judgement.type == "product.policy-verdict")
    }

    @Test("a stock device accepting what policy rejects is a known device gap")
    func gap() {
        let judgement = CrossCheck.judge(expected: .accepted, expectedPolicyFailures: [.signatureRevoked], enforced: [],
                                         device: observed(accepted: true, outcome: "accepted", status: nil, statuses: [Self.readyStatus]),
                                         twin: accepted, policy: revoked)
        #expect(judgement.classification == .knownDeviceGap && judgement.type == "gap.device-policy")
    }

    @Test("a board that enforces revocation must reject a revoked signature: accepting is a product failure")
    func enforcing() throws {
        let scenario = try #require(Scenario.catalog["signature-revoked"])
        let enforced = CrossCheck.checks(enforcedBy: ["revocation"])
        #expect(enforced == [.signatureRevoked, .profileRevoked])
        let expected = try #require(CrossCheck.expectedDevice(scenario.expected, pal: "esp32-mbedtls", enforced: enforced))
        #expect(expected.enforcedByDevice && expected.0 == DeviceExpectation(.rejectedSignature, .signatureCheckFailed))
        let judgement = CrossCheck.judge(expected: expected.0, expectedPolicyFailures: scenario.expected.policyFailures, enforced: enforced,
                                         device: observed(accepted: true, outcome: "accepted", status: nil, statuses: [Self.readyStatus]),
                                         twin: accepted, policy: revoked)
        #expect(judgement.classification == .productFailure)
        // The stock board's expectation stays acceptance.
        #expect(CrossCheck.expectedDevice(scenario.expected, pal: "esp32-mbedtls", enforced: [])?.0 == .accepted)
    }

    @Test("no verdict on the console is a rig error")
    func noVerdict() {
        let judgement = CrossCheck.judge(expected: .accepted, expectedPolicyFailures: [], enforced: [], device: ObservedVerdict(), twin: accepted, policy: [])
        #expect(judgement.classification == .rigError)
    }
}

@Suite("Reading the verdict from a console")
struct ConsoleVerdictTests {
    @Test("the simulated firmware's lines: statuses, the close status, the verdict line; later lines ignored")
    func simulated() {
        let verdict = ConsoleVerdict.read([
            "I (105) AWS_OTA: publish $aws/things/sim-esp32/jobs/AFR_OTA-x/update {\"status\":\"IN_PROGRESS\",\"statusDetails\":{\"receive\":\"1/65\"}}",
            "E (123) AWS_OTA: Failed to close the OTA file: Error=(OtaPalSignatureCheckFailed:0xe3000000)",
            "I (129) AWS_OTA: publish $aws/things/sim-esp32/jobs/AFR_OTA-x/update {\"status\":\"FAILED\",\"statusDetails\":{\"reason\":\"0x000000e3: 0x00000000\"}}",
            "E (132) AWS_OTA: OTA verdict: rejected-signature, OtaPalSignatureCheckFailed (0xe3000000)",
            "I (140) AWS_OTA: publish $aws/things/sim-esp32/jobs/other/update {\"status\":\"SUCCEEDED\"}",
        ])
        #expect(verdict.accepted == false && verdict.outcome == "rejected-signature" && verdict.palStatus == 0xe300_0000)
        #expect(verdict.statuses.count == 2 && verdict.statuses[1].contains("FAILED"))
    }

    @Test("a console without the verdict line: the last final status decides")
    func inferred() {
        let ready = ConsoleVerdict.read(["x publish $aws/things/t/jobs/j/update {\"status\":\"IN_PROGRESS\",\"statusDetails\":{\"self_test\":\"ready\",\"updatedBy\":\"0x01000000\"}}"])
        #expect(ready.accepted == true && ready.outcome == "accepted")
        let nothing = ConsoleVerdict.read(["I (27) boot: otarig simulated ESP32 second-stage bootloader"])
        #expect(!nothing.isComplete)
    }

    // spec/simplelink-close.md: a locked device's close is -28674, which otaPal_CloseFile maps to OtaPalFileClose with
    // the code's low 24 bits (0xeeff8ffe); a SignatureCheckFailed with another sub-code is not what was expected.
    @Test("A stated sub-code is judged: the main code alone does not pass a CC3220SF refusal")
    func subCode() {
        let locked = DeviceExpectation.simpleLink(.rejectedWrite, .fileClose, code: -28674)
        #expect(locked.palSub == 0xff_8ffe && locked.description == "rejected-write (OtaPalFileClose, 0xeeff8ffe)")
        let status: UInt32 = 0xe3ff_d7cf  // -10289
        let twin = Cell.TwinPrediction(outcome: "rejected-signature", accepted: false, palStatus: status, statuses: [CrossCheckTests.rejectedStatus])
        var device = ObservedVerdict()
        device.accepted = false
        device.outcome = "rejected-signature"
        device.palStatus = status
        device.statuses = [CrossCheckTests.rejectedStatus]
        let right = CrossCheck.judge(expected: .simpleLink(.rejectedSignature, .signatureCheckFailed, code: -10289), expectedPolicyFailures: [],
                                     enforced: [], device: device, twin: twin, policy: [])
        #expect(right.classification == Cell.Classification.pass)
        let wrong = CrossCheck.judge(expected: .simpleLink(.rejectedSignature, .signatureCheckFailed, code: -10287), expectedPolicyFailures: [],
                                     enforced: [], device: device, twin: twin, policy: [])
        #expect(wrong.classification == Cell.Classification.productFailure && wrong.message.contains("0xe3ffd7cf"))
    }

    @Test("The console's sl_FsClose line gives the close's SimpleLink code")
    func simpleLinkLine() {
        let verdict = ConsoleVerdict.read([
            "[SL] sl_FsClose: SL_ERROR_FS_WRONG_SIGNATURE_SECURITY_ALERT (-10289), security alerts 1/15",
            "[OTA] OTA verdict: rejected-signature, OtaPalSignatureCheckFailed (0xe3ffd7cf)",
        ])
        #expect(verdict.simpleLinkCode == -10289 && verdict.simpleLinkName == "SL_ERROR_FS_WRONG_SIGNATURE_SECURITY_ALERT")
        #expect(verdict.palStatus == 0xe3ff_d7cf && verdict.accepted == false)
    }
}
