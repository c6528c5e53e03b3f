/// The dashboard's own stylesheet and script, embedded in the binary: no CDN, no build step.
/// The script only enhances: every page reads whole without it.
enum DashboardAssets {
    static let style = #"""
        :root { --fg: #1d2430; --muted: #5b6675; --line: #d9dee5; --bg: #f6f7f9; --ok: #1a7f37; --bad: #c62828; --run: #1f6feb; --wait: #8a6d00; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
        header { display: flex; gap: 24px; align-items: center; padding: 10px 24px; background: #0f1720; color: #fff; }
        header .brand { font-weight: 700; letter-spacing: .02em; }
        nav a { color: #c9d1d9; text-decoration: none; margin-right: 16px; }
        nav a.current { color: #fff; border-bottom: 2px solid #58a6ff; }
        main { padding: 20px 24px; max-width: 1200px; }
        h1 { font-size: 20px; margin: 0 0 12px; } h2 { font-size: 16px; margin: 20px 0 8px; }
        table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
        th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { background: #eef1f4; font-weight: 600; }
        code, pre, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12.5px; }
        pre.log { background: #0f1720; color: #d1d5da; padding: 8px 10px; max-height: 360px; overflow: auto; margin: 6px 0 14px; white-space: pre-wrap; }
        .status { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; background: var(--muted); }
        .status.succeeded { background: var(--ok); } .status.failed, .status.interrupted { background: var(--bad); }
        .status.running { background: var(--run); } .status.queued { background: var(--wait); } .status.canceled { background: #6e7781; }
        form.inline { display: inline; } button { font: inherit; padding: 3px 10px; border: 1px solid var(--line); background: #fff; border-radius: 4px; cursor: pointer; }
        button.danger { border-color: var(--bad); color: var(--bad); }
        .filters { margin-bottom: 12px; display: flex; gap: 8px; align-items: center; }
        .graph svg { max-width: 100%; height: auto; background: #fff; border: 1px solid var(--line); }
        .muted { color: var(--muted); } .error { color: var(--bad); }
        .card { background: #fff; border: 1px solid var(--line); padding: 10px 14px; margin-bottom: 12px; }
        """#

    static let script = #"""
        // Live updates for pages that read whole without this script.
        (function () {
          function refresh(selector, url) {
            var target = document.querySelector(selector);
            if (!target) return;
            fetch(url, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.text() : null; })
              .then(function (html) { if (html !== null && target.innerHTML !== html) target.innerHTML = html; })
              .catch(function () {});
          }
          function withFragment(name) {
            var url = new URL(location.href);
            url.searchParams.set("fragment", name);
            return url.pathname + url.search;
          }
          // Runs: the table's rows, every second.
          if (document.getElementById("runs-rows")) {
            setInterval(function () { refresh("#runs-rows", withFragment("rows")); }, 1000);
          }
          // Tasks and the dependency graph change more slowly: every five seconds.
          if (document.getElementById("tasks-rows")) {
            setInterval(function () { refresh("#tasks-rows", withFragment("rows")); }, 5000);
          }
          if (document.getElementById("deps-graph")) {
            setInterval(function () { refresh("#deps-graph", withFragment("graph")); }, 5000);
          }
          // A run: its log lines as they are written (Server-Sent Events); its steps' graph and
          // states when a step or the run changes.
          var run = document.body.querySelector("[data-run]");
          if (run && run.dataset.finished !== "true") {
            var id = run.dataset.run;
            var after = run.dataset.after || "0";
            var source = new EventSource("/runs/" + encodeURIComponent(id) + "/events?follow=1&after=" + after);
            source.addEventListener("log", function (message) {
              var event = JSON.parse(message.data);
              var name = event.step || "run";
              var log = document.getElementById("log-" + name);
              if (!log) {
                // A step the page did not list yet (the run was just queued when it loaded).
                var details = document.getElementById("run-details");
                if (!details) return;
                var heading = document.createElement("h2");
                heading.textContent = name;
                log = document.createElement("pre");
                log.className = "log";
                log.id = "log-" + name;
                details.appendChild(heading);
                details.appendChild(log);
              }
              log.appendChild(document.createTextNode((log.textContent ? "\n" : "") + event.text));
              log.scrollTop = log.scrollHeight;
            });
            ["step.started", "step.finished", "step.retrying", "run.started", "run.finished"].forEach(function (kind) {
              source.addEventListener(kind, function () {
                refresh("#run-summary", withFragment("summary"));
                refresh("#run-graph", withFragment("graph"));
              });
            });
            source.addEventListener("end", function () {
              source.close();
              refresh("#run-summary", withFragment("summary"));
              refresh("#run-graph", withFragment("graph"));
              refresh("#run-details", withFragment("details"));
            });
          }
        })();
        """#
}
