public import Foundation
import Glibc
import Synchronization

/// Headless Chromium (Debian's `chromium`) driven over the DevTools protocol on a pipe
/// (`--remote-debugging-pipe`: requests on fd 3, answers on fd 4, each a JSON text ended by a NUL),
/// so tests can load a page, let its scripts run, ask the DOM and save screenshots. One page.
public final class BrowserHarness: Sendable {
    private let pid: pid_t
    private let commands: Int32
    private let profile: URL
    private let inbox = Inbox()
    private let nextID = Atomic<Int>(1)
    private let session = Mutex<String?>(nil)

    public struct ProtocolError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Starts Chromium with an empty profile and attaches to a new page.
    /// - Throws: ``Prerequisites/Missing`` without `chromium`.
    public static func start() async throws -> BrowserHarness {
        try Prerequisites.require(["chromium"])
        let profile = Scratch.location("chromium-profile")
        try FileManager.default.createDirectory(at: profile, withIntermediateDirectories: true)
        var toBrowser: [Int32] = [0, 0]
        var fromBrowser: [Int32] = [0, 0]
        guard pipe(&toBrowser) == 0, pipe(&fromBrowser) == 0 else { throw ProtocolError(description: "pipe: \(String(cString: strerror(errno)))") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toBrowser[0], 3)
        posix_spawn_file_actions_adddup2(&actions, fromBrowser[1], 4)
        let devNull = open("/dev/null", O_WRONLY)
        posix_spawn_file_actions_adddup2(&actions, devNull, 1)
        posix_spawn_file_actions_adddup2(&actions, devNull, 2)
        let arguments = [
            "/usr/bin/chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--no-default-browser-check", "--remote-debugging-pipe", "--user-data-dir=\(profile.path)", "--window-size=1280,900", "about:blank",
        ]
        var argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], &actions, nil, &argv, environ)
        close(toBrowser[0])
        close(fromBrowser[1])
        close(devNull)
        guard spawned == 0 else { throw ProtocolError(description: "cannot start chromium: \(String(cString: strerror(spawned)))") }
        let browser = BrowserHarness(pid: pid, commands: toBrowser[1], answers: fromBrowser[0], profile: profile)
        let created = try await browser.send("Target.createTarget", ["url": "about:blank"], inSession: false)
        guard let target = (try JSONSerialization.jsonObject(with: created) as? [String: Any])?["targetId"] as? String else {
            throw ProtocolError(description: "no page target")
        }
        let attached = try await browser.send("Target.attachToTarget", ["targetId": target, "flatten": true], inSession: false)
        browser.session.withLock { $0 = (try? JSONSerialization.jsonObject(with: attached) as? [String: Any])?["sessionId"] as? String }
        _ = try await browser.send("Page.enable", [:])
        _ = try await browser.send("Runtime.enable", [:])
        return browser
    }

    private init(pid: pid_t, commands: Int32, answers: Int32, profile: URL) {
        self.pid = pid
        self.commands = commands
        self.profile = profile
        // The answers are read on a thread of their own: a blocking read never sits on the
        // cooperative pool.
        let thread = Thread { [inbox] in
            var buffer = Data()
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = read(answers, &chunk, chunk.count)
                if count <= 0 { break }
                buffer.append(contentsOf: chunk[0..<count])
                while let end = buffer.firstIndex(of: 0) {
                    let message = buffer[buffer.startIndex..<end]
                    buffer = Data(buffer[(end + 1)...])
                    guard let object = try? JSONSerialization.jsonObject(with: message) as? [String: Any], let id = object["id"] as? Int else { continue }
                    let continuation = inbox.pending.withLock { $0.removeValue(forKey: id) }
                    if let error = object["error"] as? [String: Any] {
                        continuation?.resume(throwing: ProtocolError(description: "\(error["message"] ?? error)"))
                    } else {
                        let result = (try? JSONSerialization.data(withJSONObject: object["result"] ?? [:])) ?? Data("{}".utf8)
                        continuation?.resume(returning: result)
                    }
                }
            }
            close(answers)
            for continuation in inbox.pending.withLock({ entries in defer { entries.removeAll() }; return Array(entries.values) }) {
                continuation.resume(throwing: ProtocolError(description: "chromium closed its pipe"))
            }
        }
        thread.start()
    }

    /// One protocol command on the page's session (or the browser's); its `result` as JSON.
    public func send(_ method: String, _ parameters: [String: Any], inSession: Bool = true) async throws -> Data {
        let id = nextID.add(1, ordering: .relaxed).oldValue
        var message: [String: Any] = ["id": id, "method": method, "params": parameters]
        if inSession, let session = session.withLock({ $0 }) { message["sessionId"] = session }
        var data = try JSONSerialization.data(withJSONObject: message)
        data.append(0)
        return try await withCheckedThrowingContinuation { continuation in
            inbox.pending.withLock { $0[id] = continuation }
            let written = data.withUnsafeBytes { write(commands, $0.baseAddress, $0.count) }
            if written != data.count {
                inbox.pending.withLock { $0.removeValue(forKey: id) }?.resume(throwing: ProtocolError(description: "cannot write to chromium"))
            }
        }
    }

    /// Loads `url` and waits until the document has loaded.
    public func navigate(_ url: String) async throws {
        _ = try await send("Page.navigate", ["url": url])
        try await waitUntil("the page \(url) to load", "document.readyState === 'complete' && location.href !== 'about:blank'")
    }

    /// The value of a JavaScript expression in the page (JSON-compatible values).
    public func evaluate(_ expression: String) async throws -> Any? {
        let data = try await send("Runtime.evaluate", ["expression": expression, "returnByValue": true, "awaitPromise": true])
        let result = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        if let exception = result?["exceptionDetails"] { throw ProtocolError(description: "\(expression): \(exception)") }
        return (result?["result"] as? [String: Any])?["value"]
    }

    /// Waits (polling every 100 ms, up to `timeout`) until `condition` is true in the page.
    public func waitUntil(_ what: String, _ condition: String, timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await evaluate("Boolean(\(condition))")) as? Bool == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ProtocolError(description: "timed out waiting for \(what)")
    }

    /// Saves a PNG of the page as it is now (the test's artifact).
    @discardableResult
    public func screenshot(to file: URL) async throws -> URL {
        let data = try await send("Page.captureScreenshot", ["format": "png", "captureBeyondViewport": true])
        guard let text = (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["data"] as? String, let png = Data(base64Encoded: text) else {
            throw ProtocolError(description: "no screenshot data")
        }
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try png.write(to: file)
        return file
    }

    /// Answers awaited, by request id; filled by the reader thread.
    private final class Inbox: Sendable {
        let pending = Mutex<[Int: CheckedContinuation<Data, any Error>]>([:])
    }

    public func stop() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<50 {
            if waitpid(pid, &status, WNOHANG) == pid { break }
            usleep(100_000)
        }
        if waitpid(pid, &status, WNOHANG) == 0 {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
        }
        close(commands)
        try? FileManager.default.removeItem(at: profile)
    }
}
