import CZlib

/// zlib streams as esptool and the ROM loader use them for FLASH_DEFL_*: the host compresses the whole image into one
/// zlib stream and sends it in blocks; the device inflates it continuously across blocks.
public enum Zlib {
    public struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        public var code: Int32
        public var description: String { "zlib error \(code)" }
    }

    /// One zlib stream (header, deflate data, Adler-32) of `bytes`, at `level` (esptool uses 9).
    public static func compress(_ bytes: [UInt8], level: Int32 = 9) throws(Failure) -> [UInt8] {
        var bound = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(bound))
        let status = out.withUnsafeMutableBufferPointer { output in
            bytes.withUnsafeBufferPointer { input in
                compress2(output.baseAddress, &bound, input.baseAddress, uLong(input.count), level)
            }
        }
        guard status == Z_OK else { throw Failure(code: status) }
        return Array(out.prefix(Int(bound)))
    }

    /// Inflates a stream given in pieces, as the device does block by block.
    /// Used by one owner at a time (the simulated chip's loader), hence unchecked.
    public final class Inflater: @unchecked Sendable {
        private var stream = z_stream()
        private var open = false
        public private(set) var finished = false
        public private(set) var totalOut = 0

        public init() throws(Failure) {
            let status = inflateInit_(&stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
            guard status == Z_OK else { throw Failure(code: status) }
            open = true
        }

        deinit {
            if open { inflateEnd(&stream) }
        }

        /// The bytes this piece of the stream inflates to.
        public func inflate(_ input: [UInt8]) throws(Failure) -> [UInt8] {
            guard !input.isEmpty, !finished else { return [] }
            var output: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 64 * 1024)
            var status: Int32 = Z_OK
            var input = input
            try input.withUnsafeMutableBufferPointer { (inBuffer) throws(Failure) in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = uInt(inBuffer.count)
                repeat {
                    let produced = chunk.withUnsafeMutableBufferPointer { outBuffer -> Int in
                        stream.next_out = outBuffer.baseAddress
                        stream.avail_out = uInt(outBuffer.count)
                        status = CZlib.inflate(&stream, Z_NO_FLUSH)
                        return outBuffer.count - Int(stream.avail_out)
                    }
                    guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else { throw Failure(code: status) }
                    output.append(contentsOf: chunk[0..<produced])
                    if status == Z_STREAM_END { finished = true; break }
                    if produced == 0 { break }
                } while stream.avail_in > 0 || stream.avail_out == 0
                stream.next_in = nil
            }
            totalOut += output.count
            return output
        }
    }
}
