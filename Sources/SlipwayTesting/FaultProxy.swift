import Foundation
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Synchronization

/// An HTTP proxy in front of a real registry that injects the faults a real registry cannot
/// produce on demand: a connection dropped in the middle of an upload, or 5xx/429 answers.
/// Everything else is forwarded unchanged (upload `Location`s are rewritten to stay on the proxy).
public final class FaultProxy: Sendable {
    public enum Fault: Sendable {
        case status(Int, retryAfter: String?)
        case dropMidBody(afterBytes: Int)
    }

    public struct Rule: Sendable {
        public var method: String
        public var uriContains: String
        public var fault: Fault
        /// How many matching requests get the fault; later ones pass.
        public var times: Int

        public init(method: String, uriContains: String, fault: Fault, times: Int = 1) {
            self.method = method
            self.uriContains = uriContains
            self.fault = fault
            self.times = times
        }
    }

    /// `127.0.0.1:PORT`.
    public let address: String
    private let server: LoopbackHTTPServer
    private let state: Shared

    private final class Shared: Sendable {
        let rules: Mutex<[Rule]>
        let injected = Mutex(0)
        init(_ rules: [Rule]) { self.rules = Mutex(rules) }

        /// Consumes one use of the first matching rule whose fault `wanted` accepts.
        func take(method: String, uri: String, _ wanted: (Fault) -> Bool) -> Fault? {
            let fault: Fault? = rules.withLock { rules in
                guard let index = rules.firstIndex(where: { $0.times > 0 && $0.method == method && uri.contains($0.uriContains) && wanted($0.fault) })
                else { return nil }
                rules[index].times -= 1
                return rules[index].fault
            }
            if fault != nil { injected.withLock { $0 += 1 } }
            return fault
        }
    }

    /// Faults injected so far.
    public var injected: Int { state.injected.withLock { $0 } }

    private init(address: String, server: LoopbackHTTPServer, state: Shared) {
        self.address = address
        self.server = server
        self.state = state
    }

    public static func start(upstream: String, rules: [Rule]) async throws -> FaultProxy {
        let state = Shared(rules)
        let ownAddress = Mutex("")
        let server = try await LoopbackHTTPServer.start(
            dropWhen: { method, uri, received in
                state.take(method: method, uri: uri) { fault in
                    if case .dropMidBody(let after) = fault { return received >= after }
                    return false
                } != nil
            },
            handler: { request in
                if case .status(let code, let retryAfter)? = state.take(method: request.method, uri: request.uri, { fault in
                    if case .status = fault { return true } else { return false }
                }) {
                    return LoopbackHTTPServer.Response(
                        status: code, headers: retryAfter.map { [("Retry-After", $0)] } ?? [], body: Data(#"{"errors":[{"code":"UNAVAILABLE","message":"injected fault"}]}"#.utf8))
                }
                return await forward(request, upstream: upstream, proxy: ownAddress.withLock { $0 })
            })
        let address = "127.0.0.1:\(server.port)"
        ownAddress.withLock { $0 = address }
        return FaultProxy(address: address, server: server, state: state)
    }

    public func stop() { server.stop() }

    private static func forward(_ request: LoopbackHTTPServer.Request, upstream: String, proxy: String) async -> LoopbackHTTPServer.Response {
        var outgoing = HTTPClientRequest(url: "http://\(upstream)\(request.uri)")
        outgoing.method = HTTPMethod(rawValue: request.method)
        for (name, value) in request.headers where !["host", "content-length", "connection"].contains(name.lowercased()) {
            outgoing.headers.add(name: name, value: value)
        }
        if !request.body.isEmpty || ["PUT", "PATCH", "POST"].contains(request.method) {
            outgoing.body = .bytes(ByteBuffer(bytes: request.body))
        }
        do {
            let response = try await HTTPClient.shared.execute(outgoing, timeout: .seconds(60))
            let body = try await response.body.collect(upTo: 256 << 20)
            let headers = response.headers.compactMap { header -> (name: String, value: String)? in
                switch header.name.lowercased() {
                case "content-length" where request.method == "HEAD": return (header.name, header.value)
                case "content-length", "connection", "transfer-encoding": return nil
                case "location": return (header.name, header.value.replacingOccurrences(of: upstream, with: proxy))
                default: return (header.name, header.value)
                }
            }
            return LoopbackHTTPServer.Response(status: Int(response.status.code), headers: headers, body: Data(body.readableBytesView))
        } catch {
            return LoopbackHTTPServer.Response(status: 502, body: Data("proxy: \(error)".utf8))
        }
    }
}
