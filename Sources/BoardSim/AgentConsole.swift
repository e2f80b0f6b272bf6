import OTAVerifier

/// What otarig's simulated firmware prints about an OTA update, the same on every simulated board, so the rig reads
/// each board's console the same way (HILRunner `ConsoleVerdict`).
public enum AgentConsole {
    /// The line the firmware prints after the agent's run: `OTA verdict: <outcome>, <PAL status name> (0x<status>)`,
    /// the outcome named as `DeviceOutcome` names it.
    public static func verdictLine(_ verdict: DeviceVerdict) -> String {
        "OTA verdict: \(verdict.outcome.rawValue), \(verdict.palStatus.mainName) (\(verdict.palStatus.hex))"
    }

    /// The CC3220SF's network processor on the close it ran: `sl_FsClose: <errors.h name> (<code>), security alerts
    /// <count>/<threshold>`.
    public static func simpleLinkLine(_ evidence: SimpleLinkNWP.Evidence, threshold: UInt32) -> String {
        "sl_FsClose: \(evidence.name) (\(evidence.code)), security alerts \(evidence.securityAlerts)/\(threshold)"
    }
}
