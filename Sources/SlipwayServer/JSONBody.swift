import Foundation
import Hummingbird
import SlipwayKernel

/// JSON in and out of the API: ISO 8601 dates (``API/encoder(pretty:)``), sorted keys, errors as `{"error": "..."}`.
enum JSONBody {
    static let encoder = API.encoder(pretty: true)
    static let decoder = API.decoder()

    /// The largest request body the API reads.
    static let maximumRequest = 2 << 20

    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        var data = try encoder.encode(value)
        data.append(0x0A)
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ message: String, status: Int) -> Response {
        struct Message: Encodable { var error: String }
        let data = (try? encoder.encode(Message(error: message))) ?? Data("{}".utf8)
        return Response(
            status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data + [0x0A])))
    }

    static func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        var request = request
        let buffer = try await request.collectBody(upTo: maximumRequest)
        do {
            return try decoder.decode(type, from: Data(buffer.readableBytesView))
        } catch {
            throw ServerError(.invalidInput, "the request body is not the JSON expected: \(error)")
        }
    }
}
