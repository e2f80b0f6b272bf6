/// The OTA job document AWS IoT derives from a signing job (`CreateOTAUpdate`), the `afr_ota` object that a
/// FreeRTOS device receives as `execution.jobDocument`.
///
/// Derivation (aws-samples/aws-iot-create-ota-update-deconstructed `create_ota_update.py` and its `README.md`):
/// `filesize` = `rawPayloadSize`, `certfile` = the profile's `signingParameters.certname`, and the key
/// `sig-<hash>-<alg>` holds the signed object's `signature` string verbatim. Key order and the `null` members
/// follow the sample's output.
public struct OTAJobDocument: Sendable, Equatable {
    /// One entry of `afr_ota.files`.
    public struct File: Sendable, Equatable {
        public var filepath: String?
        public var filesize: Int
        public var fileid: Int
        public var certfile: String
        public var updateDataURL: String?
        public var authScheme: String?
        /// `sig-sha256-ecdsa`, `sig-sha1-rsa`, …
        public var signatureKey: String
        /// The base64 signature, verbatim from the signed object.
        public var signature: String

        public init(filepath: String?, filesize: Int, fileid: Int = 0, certfile: String, updateDataURL: String? = nil,
                    authScheme: String? = nil, signatureKey: String, signature: String) {
            self.filepath = filepath
            self.filesize = filesize
            self.fileid = fileid
            self.certfile = certfile
            self.updateDataURL = updateDataURL
            self.authScheme = authScheme
            self.signatureKey = signatureKey
            self.signature = signature
        }
    }

    public var protocols: [String]
    public var streamname: String?
    public var files: [File]

    public init(protocols: [String] = ["MQTT"], streamname: String?, files: [File]) {
        self.protocols = protocols
        self.streamname = streamname
        self.files = files
    }

    /// The document for one signed object, as CreateOTAUpdate builds it.
    public init(signedObject: SignedObjectDocument, certname: String, streamname: String?, filepath: String? = nil,
                fileid: Int = 0, protocols: [String] = ["MQTT"]) throws(CodeSigningError) {
        guard let algorithm = SignatureAlgorithm(rawValue: signedObject.signatureAlgorithm) else {
            throw CodeSigningError(.malformedSignedObject, "unknown signatureAlgorithm '\(signedObject.signatureAlgorithm)' in the signed object")
        }
        let file = File(filepath: filepath, filesize: signedObject.rawPayloadSize, fileid: fileid, certfile: certname,
                        signatureKey: algorithm.jobDocumentSignatureKey, signature: signedObject.signatureBase64)
        self.init(protocols: protocols, streamname: streamname, files: [file])
    }

    /// Compact JSON: `{"afr_ota":{"protocols":[…],"streamname":…,"files":[{…}]}}`.
    public func encoded() -> String {
        var out = "{\"afr_ota\":{\"protocols\":[" + protocols.map(JSONText.quoted).joined(separator: ",") + "]"
        if let streamname { out += ",\"streamname\":" + JSONText.quoted(streamname) }
        out += ",\"files\":["
        out += files.map { file in
            "{\"filepath\":\(JSONText.quotedOrNull(file.filepath)),\"filesize\":\(file.filesize),\"fileid\":\(file.fileid),"
                + "\"certfile\":\(JSONText.quoted(file.certfile)),\"update_data_url\":\(JSONText.quotedOrNull(file.updateDataURL)),"
                + "\"auth_scheme\":\(JSONText.quotedOrNull(file.authScheme)),\(JSONText.quoted(file.signatureKey)):\(JSONText.quoted(file.signature))}"
        }.joined(separator: ",")
        out += "]}}"
        return out
    }
}
