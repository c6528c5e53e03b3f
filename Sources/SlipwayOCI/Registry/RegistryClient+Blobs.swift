import Foundation
import AsyncHTTPClient
import Logging
import NIOCore
import SlipwayKernel
import NIOHTTP1

extension RegistryClient {
    /// The size of a blob in the repository, or nil when it is not there.
    public func blobSize(_ digest: Digest, in reference: ImageReference) async throws -> Int64? {
        let url = "\(repositoryURL(reference))/blobs/\(digest)"
        let response = try await send(.HEAD, url, registry: reference.registry, scopes: [Self.pullScope(reference.repository)])
        switch response.status {
        case .ok: return response.headers.first(name: "Content-Length").flatMap { Int64($0) } ?? 0
        case .notFound: return nil
        default: throw await failure(response, url: url, what: "cannot check blob \(digest)")
        }
    }

    /// Downloads a blob into `store`, streaming and verifying it; a download cut short is
    /// started again (per the retry policy). Does nothing when the store has it.
    public func fetchBlob(_ descriptor: Descriptor, from reference: ImageReference, into store: ContentStore) async throws {
        if store.contains(descriptor.digest) { return }
        let url = "\(repositoryURL(reference))/blobs/\(descriptor.digest)"
        var attempt = 0
        while true {
            attempt += 1
            do {
                let response = try await send(.GET, url, registry: reference.registry, scopes: [Self.pullScope(reference.repository)])
                guard response.status == .ok else { throw await failure(response, url: url, what: "cannot download blob \(descriptor.digest)") }
                let writer = try store.writer(expected: descriptor.digest, size: descriptor.size, source: url)
                report(.pull, descriptor, .started)
                do {
                    for try await buffer in response.body {
                        try buffer.withUnsafeReadableBytes { try writer.write($0) }
                        report(.pull, descriptor, .transferred(writer.count))
                    }
                    try writer.commit()
                    report(.pull, descriptor, .finished("downloaded"))
                    return
                } catch {
                    writer.abort()
                    throw error
                }
            } catch let error as OCIError {
                throw error  // wrong content is not retried: it would be wrong again
            } catch let error as RegistryError where error.kind != .transport && error.kind != .unavailable {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                guard attempt < configuration.retry.maxAttempts else { throw error }
                let delay = configuration.retry.delay(afterAttempt: attempt, retryAfter: nil)
                logger.warning("download of \(descriptor.digest) interrupted (\(error)); retrying in \(DurationText.format(delay))")
                try await Task.sleep(for: delay)
            }
        }
    }

    /// How an upload ended.
    public enum UploadOutcome: String, Sendable {
        /// The repository already had it (HEAD): nothing sent.
        case existed
        /// The registry linked it from another repository: nothing sent.
        case mounted
        case uploaded
    }

    /// Uploads a blob from `store` unless the repository has it; tries a cross-repository mount
    /// from `mountFrom` (repositories on the same registry) first. A failed or interrupted
    /// upload is started again from scratch, per the retry policy.
    public func pushBlob(
        _ descriptor: Descriptor, from store: ContentStore, to reference: ImageReference, mountFrom: [String] = []
    ) async throws -> UploadOutcome {
        if try await blobSize(descriptor.digest, in: reference) != nil {
            report(.push, descriptor, .finished("exists"))
            return .existed
        }
        var attempt = 0
        report(.push, descriptor, .started)
        while true {
            attempt += 1
            do {
                let outcome = try await uploadOnce(descriptor, from: store, to: reference, mountFrom: mountFrom.filter { $0 != reference.repository })
                report(.push, descriptor, .finished(outcome.rawValue))
                return outcome
            } catch let error as RegistryError where error.kind == .transport || error.kind == .unavailable {
                guard attempt < configuration.retry.maxAttempts else { throw error }
                let delay = configuration.retry.delay(afterAttempt: attempt, retryAfter: nil)
                logger.warning("upload of \(descriptor.digest) failed (\(error)); starting again in \(DurationText.format(delay))")
                try await Task.sleep(for: delay)
            }
        }
    }

    /// Links a blob of repository `source` (same registry) into `reference`'s repository
    /// without sending it. - Returns: false when the registry would not (it then starts a
    /// normal upload, which is abandoned).
    public func mountBlob(_ digest: Digest, from source: String, to reference: ImageReference) async throws -> Bool {
        let url = "\(repositoryURL(reference))/blobs/uploads/?mount=\(digest)&from=\(source)"
        let scopes = [Self.pushScope(reference.repository), Self.pullScope(source)]
        let response = try await send(.POST, url, registry: reference.registry, scopes: scopes, retrying: false)
        _ = try? await response.body.collect(upTo: 1 << 20)
        return response.status == .created
    }

    private func uploadOnce(
        _ descriptor: Descriptor, from store: ContentStore, to reference: ImageReference, mountFrom: [String]
    ) async throws -> UploadOutcome {
        let base = baseURL(reference)
        for source in mountFrom where try await mountBlob(descriptor.digest, from: source, to: reference) {
            return .mounted
        }
        var location = try await startUpload(to: reference)
        let blob = store.blobURL(descriptor.digest)
        let size = descriptor.size
        let chunkSize = configuration.chunkSize
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/octet-stream")

        if size > configuration.chunkedUploadThreshold {
            var offset: Int64 = 0
            while offset < size {
                let length = min(Int64(chunkSize), size - offset)
                let url = Self.absolute(location, base: base)
                var chunkHeaders = headers
                chunkHeaders.add(name: "Content-Range", value: "\(offset)-\(offset + length - 1)")
                chunkHeaders.add(name: "Content-Length", value: "\(length)")
                let start = offset
                let response = try await send(
                    .PATCH, url, registry: reference.registry, scopes: [Self.pushScope(reference.repository)], headers: chunkHeaders,
                    body: { .stream(FileChunks(url: blob, offset: start, length: length, chunkSize: 1 << 20), length: .known(length)) },
                    retrying: false)
                guard response.status == .accepted, let next = response.headers.first(name: "Location") else {
                    throw await failure(response, url: url, what: "chunk upload refused at offset \(offset)")
                }
                _ = try? await response.body.collect(upTo: 1 << 20)
                location = next
                offset += length
            }
            try await completeUpload(at: Self.absolute(location, base: base), digest: descriptor.digest, to: reference)
            return .uploaded
        }

        let url = Self.appendingDigest(Self.absolute(location, base: base), descriptor.digest)
        var putHeaders = headers
        putHeaders.add(name: "Content-Length", value: "\(size)")
        let response = try await send(
            .PUT, url, registry: reference.registry, scopes: [Self.pushScope(reference.repository)], headers: putHeaders,
            body: { .stream(FileChunks(url: blob, offset: 0, length: size, chunkSize: 1 << 20), length: .known(size)) },
            retrying: false)
        guard response.status == .created else { throw await failure(response, url: url, what: "registry refused blob \(descriptor.digest)") }
        _ = try? await response.body.collect(upTo: 1 << 20)
        return .uploaded
    }

    /// Opens an upload session in `reference`'s repository. - Returns: its location, absolute.
    func startUpload(to reference: ImageReference) async throws -> String {
        let uploads = "\(repositoryURL(reference))/blobs/uploads/"
        let start = try await send(.POST, uploads, registry: reference.registry, scopes: [Self.pushScope(reference.repository)], retrying: false)
        guard start.status == .accepted, let location = start.headers.first(name: "Location") else {
            throw await failure(start, url: uploads, what: "registry refused to start an upload")
        }
        _ = try? await start.body.collect(upTo: 1 << 20)
        return Self.absolute(location, base: baseURL(reference))
    }

    /// Completes the upload session at `location` (absolute) as the blob `digest`, sending no
    /// more bytes; the registry checks the digest of what it received.
    func completeUpload(at location: String, digest: Digest, to reference: ImageReference) async throws {
        let url = Self.appendingDigest(location, digest)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: "0")
        let response = try await send(
            .PUT, url, registry: reference.registry, scopes: [Self.pushScope(reference.repository)], headers: headers, retrying: false)
        guard response.status == .created else { throw await failure(response, url: url, what: "registry refused to complete the upload") }
        _ = try? await response.body.collect(upTo: 1 << 20)
    }

    static func absolute(_ location: String, base: String) -> String {
        location.hasPrefix("/") ? base + location : location
    }

    static func appendingDigest(_ url: String, _ digest: Digest) -> String {
        url + (url.contains("?") ? "&" : "?") + "digest=\(digest)"
    }
}
