public import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A small HTTP/1.1 server on 127.0.0.1 for tests: the token service and the fault-injecting
/// proxy are built on it. Each request is answered by an async handler; `dropWhen` can cut a
/// connection in the middle of a request body, as a failing network would.
public final class LoopbackHTTPServer: Sendable {
    public struct Request: Sendable {
        public var method: String
        public var uri: String
        public var headers: [(name: String, value: String)]
        public var body: Data

        public func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
    }

    public struct Response: Sendable {
        public var status: Int
        public var headers: [(name: String, value: String)]
        public var body: Data

        public init(status: Int, headers: [(name: String, value: String)] = [], body: Data = Data()) {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    public typealias Handler = @Sendable (Request) async -> Response
    /// Called as body bytes arrive: return true to drop the connection now.
    public typealias DropRule = @Sendable (_ method: String, _ uri: String, _ receivedBodyBytes: Int) -> Bool

    public let port: Int
    private let serverTask: Task<Void, Never>

    private init(port: Int, serverTask: Task<Void, Never>) {
        self.port = port
        self.serverTask = serverTask
    }

    public static func start(dropWhen: DropRule? = nil, handler: @escaping Handler) async throws -> LoopbackHTTPServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: child)
                }
            }
        let port = channel.channel.localAddress?.port ?? 0
        let task = Task<Void, Never> {
            _ = try? await withThrowingDiscardingTaskGroup { group in
                try await channel.executeThenClose { connections in
                    for try await connection in connections {
                        group.addTask { try? await serve(connection, dropWhen: dropWhen, handler: handler) }
                    }
                }
            }
        }
        return LoopbackHTTPServer(port: port, serverTask: task)
    }

    public func stop() { serverTask.cancel() }

    deinit { serverTask.cancel() }

    private static func serve(
        _ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, dropWhen: DropRule?, handler: Handler
    ) async throws {
        try await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body = Data()
            for try await part in inbound {
                switch part {
                case .head(let requestHead):
                    head = requestHead
                    body = Data()
                case .body(let buffer):
                    body.append(contentsOf: buffer.readableBytesView)
                    if let head, let dropWhen, dropWhen(head.method.rawValue, head.uri, body.count) {
                        return  // closes the connection mid-body
                    }
                case .end:
                    guard let head else { continue }
                    let request = Request(
                        method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: body)
                    let response = await handler(request)
                    var headers = HTTPHeaders(response.headers.map { ($0.name, $0.value) })
                    // A handler that sets Transfer-Encoding gets a chunked body with no length.
                    if !headers.contains(name: "Content-Length") && !headers.contains(name: "Transfer-Encoding") { headers.add(name: "Content-Length", value: "\(response.body.count)") }
                    let status = HTTPResponseStatus(statusCode: response.status)
                    try await outbound.write(.head(HTTPResponseHead(version: head.version, status: status, headers: headers)))
                    if head.method != .HEAD && !response.body.isEmpty { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: response.body)))) }
                    try await outbound.write(.end(nil))
                }
            }
        }
    }
}
