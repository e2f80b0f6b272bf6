import Foundation

/// The job execution message a device receives (`$aws/things/<thing>/jobs/notify-next`), around the afr_ota
/// document AWS IoT stores for an OTA update.
public enum JobExecution {
    /// A bare `{"afr_ota": …}` document inside an execution message, its bytes kept as they are.
    public static func wrap(_ document: [UInt8], jobId: String, clientToken: String) -> [UInt8] {
        Array(#"{"clientToken":"\#(clientToken)","timestamp":0,"execution":{"jobId":"\#(jobId)","status":"QUEUED","jobDocument":"#.utf8)
            + document + Array("}}".utf8)
    }

    /// The document's top-level JSON object, if it is one.
    static func object(_ document: [UInt8]) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(document))) as? [String: Any]
    }

    /// Whether the document is already an execution message.
    public static func isExecutionMessage(_ document: [UInt8]) -> Bool {
        object(document)?["execution"] != nil
    }

    /// The `sig-<hash>-<alg>` keys the file entries carry, sorted, whether the afr_ota document stands alone or
    /// inside an execution message.
    public static func signatureKeys(in document: [UInt8]) -> [String] {
        guard let top = object(document) else { return [] }
        let job = (top["execution"] as? [String: Any])?["jobDocument"] as? [String: Any] ?? top
        let files = (job["afr_ota"] as? [String: Any])?["files"] as? [[String: Any]] ?? []
        return Set(files.flatMap { $0.keys.filter { $0.hasPrefix("sig-") } }).sorted()
    }
}
