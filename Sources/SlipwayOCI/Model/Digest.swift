import Crypto
public import Foundation

/// A content digest, `sha256:<64 hex>` or `sha512:<128 hex>` (OCI image spec, descriptor.md).
public struct Digest: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public enum Algorithm: String, Sendable, Hashable, CaseIterable {
        case sha256, sha512

        var hexLength: Int { self == .sha256 ? 64 : 128 }
    }

    public let algorithm: Algorithm
    /// Lowercase hex.
    public let hex: String

    /// - Throws: ``OCIError`` when `text` is not a supported, well-formed digest.
    public init(parsing text: String) throws {
        guard let colon = text.firstIndex(of: ":") else { throw OCIError.invalidDigest(text) }
        guard let algorithm = Algorithm(rawValue: String(text[..<colon])) else { throw OCIError.invalidDigest(text) }
        let hex = String(text[text.index(after: colon)...])
        guard hex.count == algorithm.hexLength, hex.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw OCIError.invalidDigest(text)
        }
        self.algorithm = algorithm
        self.hex = hex
    }

    init(algorithm: Algorithm, bytes: some Sequence<UInt8>) {
        self.algorithm = algorithm
        hex = bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// The SHA-256 digest of `data`.
    public static func sha256(of data: some DataProtocol) -> Digest {
        Digest(algorithm: .sha256, bytes: SHA256.hash(data: data))
    }

    public var description: String { "\(algorithm.rawValue):\(hex)" }
    /// The digest without its algorithm, shortened for display (`3f2a9c1b0d4e`).
    public var short: String { String(hex.prefix(12)) }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(parsing: text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "invalid digest '\(text)'"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.description < rhs.description }
}

/// Computes a digest incrementally, for streams of any size.
public struct DigestHasher {
    private enum State {
        case sha256(SHA256)
        case sha512(SHA512)
    }

    private var state: State
    public private(set) var count: Int64 = 0
    public let algorithm: Digest.Algorithm

    public init(_ algorithm: Digest.Algorithm = .sha256) {
        self.algorithm = algorithm
        state = algorithm == .sha256 ? .sha256(SHA256()) : .sha512(SHA512())
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        count += Int64(bytes.count)
        switch state {
        case .sha256(var hasher):
            hasher.update(bufferPointer: bytes)
            state = .sha256(hasher)
        case .sha512(var hasher):
            hasher.update(bufferPointer: bytes)
            state = .sha512(hasher)
        }
    }

    public mutating func update(_ data: some DataProtocol) {
        for region in data.regions { region.withUnsafeBytes { update($0) } }
    }

    public func finalize() -> Digest {
        switch state {
        case .sha256(let hasher): Digest(algorithm: .sha256, bytes: hasher.finalize())
        case .sha512(let hasher): Digest(algorithm: .sha512, bytes: hasher.finalize())
        }
    }
}
