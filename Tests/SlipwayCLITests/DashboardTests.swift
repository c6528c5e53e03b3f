import Foundation
import SlipwayOCI
import SlipwayTesting
import Testing

/// The dashboard in a real browser (headless Chromium over the DevTools protocol) against a
/// real `slipway serve` with a registry and tasks: runs and log lines appear live, the
/// dependency graph is drawn, cancel works from the page, and a form without the CSRF token
/// is refused. Screenshots go to `.build/test-artifacts/dashboard/`.
@Suite(.serialized)
struct DashboardTests {
    let slipway = CommandRunner.slipway()
    static let artifacts = CLITests.root.appendingPathComponent(".build/test-artifacts/dashboard")

    /// Prints a line, waits, prints the line the test watches for, so it arrives while the page is open.
    static let slowTask = """
        return task {
          name = values.name,
          pipeline = function(run)
            local first = echo { id = "first", message = "first line" }
            local nap = sleep { id = "nap", duration = values.nap or "2s", after = { first } }
            return { first, nap, echo { id = "later", message = "pushed live", after = { nap } } }
          end,
        }
        """

    func createTask(_ text: String, values: [String: String], on server: ServeHarness) async throws {
        let sets = values.sorted { $0.key < $1.key }.flatMap { ["--set", "\($0.key)=\($0.value)"] }
        let result = try await slipway.run(["task", "create", "--file", try Scratch.recipe(text), "--server", server.url] + sets)
        #expect(result.status == 0, "\(result.stderr)")
    }

    func start(_ task: String, on server: ServeHarness, body: String = "{}") async throws -> String {
        let response = try await server.request("POST", "/api/v1/tasks/\(task)/runs", headers: ["Content-Type": "application/json"], body: Data(body.utf8))
        return try #require((try response.json() as? [String: Any])?["id"] as? String)
    }

    @Test func runsLogsAndTheDependencyGraphLiveInABrowser() async throws {
        try Prerequisites.require(["chromium", "dot", "docker-registry"])
        let server = try await ServeHarness.start(["--concurrency", "2"])
        let registry = try await RegistryHarness.start()
        defer { registry.stop() }
        let browser = try await BrowserHarness.start()
        defer { browser.stop() }
        try await createTask(Self.slowTask, values: ["name": "slow", "nap": "3s"], on: server)

        // A run appears and turns from running to succeeded without a reload.
        try await browser.navigate(server.url + "/runs")
        _ = try await browser.evaluate("window.__loaded = 'once'")
        let first = try await start("slow", on: server)
        try await browser.waitUntil("the run to show as running", "document.querySelector('#run-\(first)')?.dataset.status === 'running'")
        try await browser.screenshot(to: Self.artifacts.appendingPathComponent("runs.png"))
        try await browser.waitUntil("the run to turn succeeded", "document.querySelector('#run-\(first)')?.dataset.status === 'succeeded'")
        #expect(try await browser.evaluate("window.__loaded") as? String == "once", "the page was not reloaded")

        // A log line written by the run appears live, and the step graph follows the states.
        let second = try await start("slow", on: server)
        try await browser.navigate(server.url + "/runs/\(second)")
        _ = try await browser.evaluate("window.__loaded = 'once'")
        #expect(try await browser.evaluate("document.body.textContent.includes('pushed live')") as? Bool == false, "not written yet")
        try await browser.waitUntil("the late log line", "document.getElementById('log-later')?.textContent.includes('pushed live')")
        try await browser.waitUntil("the run's state", "document.getElementById('run-status')?.textContent === 'succeeded'")
        try await browser.waitUntil("the graph's states", "document.querySelectorAll('#run-graph svg g.node.succeeded').length === 3")
        #expect(try await browser.evaluate("document.querySelectorAll('#run-graph svg g.edge').length") as? Int == 2)
        #expect(try await browser.evaluate("window.__loaded") as? String == "once")
        try await browser.screenshot(to: Self.artifacts.appendingPathComponent("run.png"))

        // The dependency graph: os → runtime → app, a node per image and an edge per base.
        let store = try Scratch.store("dashboard-base")
        let base = try OCITestImages.write(into: store, files: ["os.txt": "os"])
        _ = try await RegistryClient().push(base.manifest, from: store, to: try ImageReference(parsing: "\(registry.address)/os/base:1"))
        let imageTask = try String(contentsOf: CLITests.root.appendingPathComponent("Recipes/rebuild-on-base.lua"), encoding: .utf8)
        for (name, from) in [("runtime", "os/base:1"), ("app", "team/runtime:1")] {
            let context = try Scratch.files(["Dockerfile": "ARG BASE\nFROM $BASE\nCOPY \(name).txt /\n", "\(name).txt": name], label: "dashboard-\(name)")
            try await createTask(imageTask, values: [
                "name": name, "context": context.path, "base": "\(registry.address)/\(from)", "image": "\(registry.address)/team/\(name):1",
            ], on: server)
            let ran = try await slipway.run(["task", "run", name, "--wait", "--server", server.url])
            #expect(ran.status == 0, "\(ran.stderr)")
        }
        try await browser.navigate(server.url + "/deps")
        #expect(try await browser.evaluate("document.querySelectorAll('#deps-graph svg g.node').length") as? Int == 3)
        #expect(try await browser.evaluate("document.querySelectorAll('#deps-graph svg g.edge').length") as? Int == 2)
        let links = try await browser.evaluate(
            "Array.from(document.querySelectorAll('#deps-graph svg a')).map(a => a.getAttribute('xlink:href') || a.getAttribute('href')).sort()") as? [String]
        #expect(links == ["/tasks#task-app", "/tasks#task-runtime"], "each image a task made links to the task")
        try await browser.screenshot(to: Self.artifacts.appendingPathComponent("deps.png"))
        // A build's run page shows its report: the image, its base, each layer's origin.
        let appRun = try #require(try await server.runs(task: "app").first?["id"] as? String)
        try await browser.navigate(server.url + "/runs/\(appRun)")
        #expect(try await browser.evaluate("document.querySelector('#step-image .report')?.textContent.includes('runtime base')") as? Bool == true)
        try await browser.screenshot(to: Self.artifacts.appendingPathComponent("build-run.png"))
        try await browser.navigate(server.url + "/tasks")
        #expect(try await browser.evaluate("document.querySelectorAll('tr[id^=task-]').length") as? Int == 3)
        try await browser.screenshot(to: Self.artifacts.appendingPathComponent("tasks.png"))
    }

    @Test func cancelFromThePageAndFormsWithoutTheTokenAreRefused() async throws {
        try Prerequisites.require(["chromium", "dot"])
        let server = try await ServeHarness.start()
        let browser = try await BrowserHarness.start()
        defer { browser.stop() }
        try await createTask(Self.slowTask, values: ["name": "long", "nap": "60s"], on: server)

        // Without the CSRF token: refused, and the run goes on.
        let forged = try await start("long", on: server, body: #"{"values": {"note": "again"}}"#)
        try await server.wait("the run to start") { try await server.runs(task: "long").first?["status"] as? String == "running" }
        let refused = try await server.request("POST", "/runs/\(forged)/cancel", headers: ["Content-Type": "application/x-www-form-urlencoded"], body: Data("csrf=guess".utf8))
        #expect(refused.status == 403, "\(refused.status)")
        #expect(try await server.runs(task: "long").first?["status"] as? String == "running")

        // The page's own Cancel button stops it.
        try await browser.navigate(server.url + "/runs/\(forged)")
        _ = try await browser.evaluate("document.querySelector('form[action$=\"/cancel\"] button').click()")
        try await browser.waitUntil("the run to show as canceled", "document.getElementById('run-status')?.textContent === 'canceled'")
        #expect(try await server.runs(task: "long").first?["status"] as? String == "canceled")

        // Rerun starts a new run of the task and shows it; Disable shows on the tasks page.
        _ = try await browser.evaluate("document.querySelector('form[action$=\"/rerun\"] button').click()")
        try await browser.waitUntil("the new run's page", "location.pathname !== '/runs/\(forged)' && location.pathname.startsWith('/runs/')")
        #expect(try await server.runs(task: "long").count == 2)
        let rerun = try #require(try await browser.evaluate("location.pathname.split('/').pop()") as? String)
        let view = try await server.request("GET", "/api/v1/runs/\(rerun)").json() as? [String: Any]
        #expect(((view?["request"] as? [String: Any])?["values"] as? [String: Any])?["note"] as? String == "again", "the rerun has the run's values")
        try await browser.navigate(server.url + "/tasks")
        _ = try await browser.evaluate("document.querySelector('form[action$=\"/disable\"] button').click()")
        try await browser.waitUntil("the task to show as disabled", "document.querySelector('#task-long')?.textContent.includes('disabled')")
    }

    @Test func offLoopbackTheTokenSignsIn() async throws {
        try Prerequisites.require(["chromium"])
        let tokenFile = try Scratch.files(["token": "dashboard-token-4711"], label: "dashboard-token").appendingPathComponent("token")
        let server = try await ServeHarness.start(["--api-token-file", tokenFile.path])
        let browser = try await BrowserHarness.start()
        defer { browser.stop() }
        try await browser.navigate(server.url + "/runs")
        #expect(try await browser.evaluate("location.pathname") as? String == "/login")
        #expect(!(try await browser.evaluate("document.documentElement.outerHTML") as? String ?? "").contains("dashboard-token-4711"))
        _ = try await browser.evaluate("document.querySelector('input[name=token]').value = 'wrong'; document.querySelector('form').submit()")
        try await browser.waitUntil("the refusal", "document.body && document.body.textContent.includes('That is not the API token')")
        _ = try await browser.evaluate("document.querySelector('input[name=token]').value = 'dashboard-token-4711'; document.querySelector('form').submit()")
        try await browser.waitUntil("the runs page", "location.pathname === '/runs' && document.querySelector('h1')?.textContent === 'Runs'")
        let cookie = try await browser.evaluate("document.cookie") as? String
        #expect(cookie == "", "the session cookie is HttpOnly")
    }
}
