/// The job execution message a device receives (`$aws/things/<thing>/jobs/notify-next`), around the afr_ota
/// document AWS IoT stores for an OTA update. Read with `CoreJSON`, as the agent reads it: the oracle has one JSON
/// reader.
public enum JobExecution {
    /// A bare `{"afr_ota": …}` document inside an execution message, its bytes kept as they are.
    public static func wrap(_ document: [UInt8], jobId: String, clientToken: String) -> [UInt8] {
        Array(#"{"clientToken":"\#(clientToken)","timestamp":0,"execution":{"jobId":"\#(jobId)","status":"QUEUED","jobDocument":"#.utf8)
            + document + Array("}}".utf8)
    }

    /// What a document is, to the agent.
    public enum Shape: Equatable, Sendable {
        /// Not one well-formed JSON value (`JSON_Validate`'s status).
        case invalid(CoreJSON.Status)
        /// Valid JSON, but not an object.
        case notAnObject
        /// An object with an `execution` member: what the agent receives.
        case executionMessage
        /// An object with `afr_ota` and no `execution`: the job document AWS IoT stores, to be wrapped.
        case bareJobDocument
        /// An object with neither.
        case otherObject
    }

    public static func shape(of document: [UInt8]) -> Shape {
        let status = CoreJSON.validate(document)
        guard status == .success else { return .invalid(status) }
        guard let first = document.first(where: { !Byte.isWhitespace($0) }), first == Byte.openBrace else {
            return .notAnObject
        }
        if CoreJSON.search(document, query: "execution").status == .success { return .executionMessage }
        if CoreJSON.search(document, query: "afr_ota").status == .success { return .bareJobDocument }
        return .otherObject
    }

    /// The execution message AWS IoT sends a device again after it reported `self_test: ready` and rebooted into
    /// the new image: the same job, now carrying the status details the device last published
    /// (`{"self_test":"ready","updatedBy":"0x…"}`), so the agent runs its self test. `document` is an execution
    /// message; its `execution` object gets the member first.
    public static func withSelfTestStatus(_ document: [UInt8], updatedBy: UInt32) -> [UInt8] {
        let marker = Array(#""execution":{"#.utf8)
        guard let start = document.indices.first(where: { document[$0...].starts(with: marker) }) else { return document }
        let insert = Array(#""statusDetails":{"self_test":"ready","updatedBy":"0x\#(Hex.word(updatedBy))"},"#.utf8)
        var result = document
        result.insert(contentsOf: insert, at: start + marker.count)
        return result
    }

    /// The document as the agent receives it: an execution message as it is, a bare afr_ota document wrapped.
    public static func asExecutionMessage(_ document: [UInt8], jobId: String, clientToken: String) -> [UInt8] {
        shape(of: document) == .bareJobDocument ? wrap(document, jobId: jobId, clientToken: clientToken) : document
    }

    /// The certfile of the document's first file entry (`afr_ota.files[0].certfile`), as the agent's search returns
    /// it (raw, not unescaped); nil when there is none or it is not a string.
    public static func certfile(in document: [UInt8]) -> String? {
        let prefix = shape(of: document) == .executionMessage ? "execution.jobDocument.afr_ota.files[0].certfile" : "afr_ota.files[0].certfile"
        let found = CoreJSON.search(document, query: prefix)
        guard found.status == .success, found.type == .string else { return nil }
        return String(decoding: document[found.value], as: UTF8.self)
    }

    /// The `sig-<hash>-<alg>` keys the file entries carry, sorted, whether the afr_ota document stands alone or
    /// inside an execution message.
    public static func signatureKeys(in document: [UInt8]) -> [String] {
        let prefix = shape(of: document) == .executionMessage ? "execution.jobDocument.afr_ota.files" : "afr_ota.files"
        let files = CoreJSON.search(document, query: prefix)
        guard files.status == .success, files.type == .array, let entries = CoreJSON.members(document, of: files.value) else { return [] }
        var keys = Set<String>()
        for entry in entries where entry.type == .object {
            for member in CoreJSON.members(document, of: entry.value) ?? [] {
                guard let key = member.key else { continue }
                let name = String(decoding: document[key], as: UTF8.self)
                if name.hasPrefix("sig-") { keys.insert(name) }
            }
        }
        return keys.sorted()
    }
}
