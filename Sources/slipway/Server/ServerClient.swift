import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SlipwayKernel
import SlipwayServer

/// Where the client commands find `slipway serve`: `--server URL`, else `$SLIPWAY_SERVER`, else
/// the loopback address serve listens on by default; `--token`, else `$SLIPWAY_TOKEN`.
struct ServerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The server's URL (default $SLIPWAY_SERVER, else http://127.0.0.1:\(Server.defaultPort)).", valueName: "url"))
    var server: String?

    @Option(help: ArgumentHelp("Read the server's API token from this file (default $SLIPWAY_TOKEN).", valueName: "file"))
    var tokenFile: String?

    func client() throws -> ServerClient {
        let environment = ProcessInfo.processInfo.environment
        var base = server ?? environment["SLIPWAY_SERVER"] ?? "http://127.0.0.1:\(Server.defaultPort)"
        while base.hasSuffix("/") { base.removeLast() }
        guard base.hasPrefix("http://") || base.hasPrefix("https://") else { throw InputError("--server \(base): expected an http:// or https:// URL") }
        let token = try ServeCommand.secret(file: tokenFile, variable: "SLIPWAY_TOKEN", what: "--token-file")
        return ServerClient(base: base, token: token)
    }
}

/// Calls the server's JSON API (Docs/OperatorGuide.md).
struct ServerClient: Sendable {
    let base: String
    let token: String?

    /// What the server answered with an error status.
    struct Failure: CategorizedError, CustomStringConvertible {
        var status: Int
        var message: String
        var description: String { message }
        var category: ErrorCategory {
            switch status {
            case 400, 413, 422: .invalidInput
            case 401, 403: .unauthorized
            case 404: .notFound
            case 409: .conflict
            case 503: .transient
            default: .internal
            }
        }
    }

    static let encoder = API.encoder()
    static let decoder = API.decoder()

    func request(_ method: HTTPMethod, _ path: String, body: (some Encodable)? = Optional<String>.none) async throws -> Data {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try Self.encoder.encode(body)))
        }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        } catch {
            throw ServerError(.transient, "cannot reach the Slipway server at \(base) (start one with slipway serve, or give --server): \(error)")
        }
        let data = Data(try await response.body.collect(upTo: 64 << 20).readableBytesView)
        guard (200..<300).contains(Int(response.status.code)) else {
            let message = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["error"] as? String
                ?? String(decoding: data.prefix(500), as: UTF8.self)
            throw Failure(status: Int(response.status.code), message: message)
        }
        return data
    }

    func get<T: Decodable>(_ type: T.Type, _ path: String) async throws -> T {
        try decode(type, try await request(.GET, path))
    }

    func send<T: Decodable>(_ type: T.Type, _ method: HTTPMethod, _ path: String, body: some Encodable) async throws -> T {
        try decode(type, try await request(method, path, body: body))
    }

    func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
        do {
            return try Self.decoder.decode(type, from: data)
        } catch {
            throw ServerError(.internal, "the server at \(base) answered something this slipway does not read: \(error)")
        }
    }

    /// Server-Sent Events of a run, each event's data decoded, until the stream ends.
    func follow(run id: String, after: Int, _ handle: (RunEvent) -> Void) async throws {
        var request = HTTPClientRequest(url: base + "/api/v1/runs/\(Self.escape(id))/events?follow=1&after=\(after)")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.headers.add(name: "Accept", value: "text/event-stream")
        let response = try await HTTPClient.shared.execute(request, timeout: .hours(24))
        guard response.status == .ok else {
            let data = Data(try await response.body.collect(upTo: 1 << 20).readableBytesView)
            let message = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["error"] as? String ?? "HTTP \(response.status.code)"
            throw Failure(status: Int(response.status.code), message: message)
        }
        var pending = ""
        for try await chunk in response.body {
            pending += String(buffer: chunk)
            while let end = pending.range(of: "\n\n") {
                let block = String(pending[..<end.lowerBound])
                pending = String(pending[end.upperBound...])
                guard let line = block.split(separator: "\n").first(where: { $0.hasPrefix("data: ") }),
                    let event = try? Self.decoder.decode(RunEvent.self, from: Data(line.dropFirst(6).utf8))
                else { continue }
                handle(event)
            }
        }
    }

    static func escape(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? segment
    }
}
