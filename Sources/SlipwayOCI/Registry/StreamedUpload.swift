import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A blob upload that runs while the blob is still being written, so that a layer reaches the
/// registry as it is compressed instead of after (the registry's own hashing and writing then
/// overlap Slipway's). The bytes go in one streamed PATCH; once the writer knows the digest, a
/// PUT completes the upload and the registry checks the digest.
///
/// Best effort by design: if anything fails (the registry refuses streamed PATCHes, the
/// connection drops, the digest is refused), the upload is abandoned and the push uploads the
/// blob from the store as usual. Nothing is trusted from it: the push still asks the registry.
public final class StreamedUpload: @unchecked Sendable {
    /// Bytes handed over but not yet taken by the HTTP client: the writer waits beyond this.
    static let queueLimit = 8 << 20

    private let client: RegistryClient
    private let reference: ImageReference
    private let continuation: AsyncStream<ByteBuffer>.Continuation
    private let gate: ByteGate
    /// The PATCH: the upload's next location when the registry took every byte.
    private let sending: Task<String?, Never>

    private init(client: RegistryClient, reference: ImageReference, location: String) {
        self.client = client
        self.reference = reference
        let gate = ByteGate(limit: Self.queueLimit)
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
        let body = OneShotBody(stream: stream, gate: gate)
        (self.gate, self.continuation) = (gate, continuation)
        sending = Task {
            defer { gate.close() }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/octet-stream")
            guard
                let response = try? await client.send(
                    .PATCH, location, registry: reference.registry, scopes: [RegistryClient.pushScope(reference.repository)],
                    headers: headers, body: { .stream(body, length: .unknown) }, retrying: false)
            else { return nil }
            _ = try? await response.body.collect(upTo: 1 << 20)
            guard response.status == .accepted || response.status == .noContent else { return nil }
            return response.headers.first(name: "Location").map { RegistryClient.absolute($0, base: client.baseURL(reference)) } ?? location
        }
    }

    /// Opens an upload session in `reference`'s repository; nil when the registry will not.
    public static func start(with client: RegistryClient, to reference: ImageReference) async -> StreamedUpload? {
        guard let location = try? await client.startUpload(to: reference) else { return nil }
        return StreamedUpload(client: client, reference: reference, location: location)
    }

    /// Queues a copy of `bytes`. Called from the (blocking) writer thread; waits while too much
    /// is queued, and drops everything once the upload has failed.
    public func send(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0, gate.admit(bytes.count) else { return }
        continuation.yield(ByteBuffer(bytes: bytes))
    }

    /// Completes the upload as the blob `digest`. - Returns: whether the registry now has it.
    public func finish(digest: Digest) async -> Bool {
        continuation.finish()
        guard let location = await sending.value else { return false }
        return (try? await client.completeUpload(at: location, digest: digest, to: reference)) != nil
    }

    /// Stops sending (the writer failed); the registry drops the unfinished session in time.
    public func abandon() async {
        gate.close()
        continuation.finish()
        sending.cancel()
        _ = await sending.value
    }
}

/// Bounds the bytes queued between a writer thread and the HTTP client.
private final class ByteGate: @unchecked Sendable {
    private let condition = NSCondition()
    private var queued = 0
    private var closed = false
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    /// Waits for room; false once closed.
    func admit(_ count: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while queued >= limit && !closed { condition.wait() }
        guard !closed else { return false }
        queued += count
        return true
    }

    func release(_ count: Int) {
        condition.lock()
        queued -= count
        condition.broadcast()
        condition.unlock()
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}

/// The PATCH body: the stream, taken at most once (a request sent again, after an auth
/// challenge, gets an empty body, and the digest check then fails the upload, as it should).
private struct OneShotBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let stream: AsyncStream<ByteBuffer>
    let gate: ByteGate
    private let taken = Taken()

    init(stream: AsyncStream<ByteBuffer>, gate: ByteGate) {
        (self.stream, self.gate) = (stream, gate)
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        var inner: AsyncStream<ByteBuffer>.AsyncIterator?
        let gate: ByteGate

        mutating func next() async -> ByteBuffer? {
            guard let buffer = await inner?.next() else { return nil }
            gate.release(buffer.readableBytes)
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(inner: taken.take() ? stream.makeAsyncIterator() : nil, gate: gate)
    }

    private final class Taken: @unchecked Sendable {
        private let lock = NSLock()
        private var done = false
        func take() -> Bool { lock.withLock { defer { done = true }; return !done } }
    }
}
