#!/usr/bin/env python3
"""`make measure-serve`: what #12 asks to be measured of `slipway serve`, never part of the tests.

  1. notification → run started: a base pushed 50 times (new content each time) to a real
     registry whose notifications go to serve; for each push, the time from the push's end to
     the dependent task's run.started (p50, p95);
  2. fan-out: 1000 tasks recorded as built on one base; one push; the time until all 1000 runs
     are queued;
  3. polling: 100 tasks on 10 distinct bases; registry requests (HEAD/GET manifests) per poll.

Uses the debug build unless SLIPWAY is set. Needs docker-registry (Scripts/setup.sh installs it).
"""
import json, os, sqlite3, subprocess, sys, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SLIPWAY = os.environ.get("SLIPWAY", os.path.join(ROOT, ".build/debug/slipway"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measurelib import Lab

lab = Lab("slipway-measure.")
work = lab.work


def start_registry(notify):
    return lab.start_registry(notify)


def start_serve(state, *arguments):
    return lab.start_serve(SLIPWAY, state, *arguments)[0]


def api(server, path, body=None):
    request = urllib.request.Request(server + path, data=None if body is None else json.dumps(body).encode(), method="GET" if body is None else "POST")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def slipway(*arguments, state):
    subprocess.run([SLIPWAY, *arguments], check=True, capture_output=True, env={**os.environ, "SLIPWAY_STATE_DIR": state})


def push_base(reference, content, state):
    context = os.path.join(work, "base-context")
    os.makedirs(context, exist_ok=True)
    with open(os.path.join(context, "Dockerfile"), "w") as f:
        f.write("FROM scratch\nCOPY version.txt /\n")
    with open(os.path.join(context, "version.txt"), "w") as f:
        f.write(content)
    slipway("build", "-t", reference, context, state=state)


def seconds(text):
    return time.mktime(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone + float("0." + text[20:-1] if "." in text else 0)


def wait_for_log(text, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        newest = sorted((p for p in os.listdir(work) if p.startswith("serve-")), key=lambda p: os.path.getmtime(os.path.join(work, p)))[-1]
        with open(os.path.join(work, newest)) as f:
            if text in f.read():
                return
        time.sleep(0.2)
    sys.exit(f"serve never logged: {text}")


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


APP_TASK = """return task {
  name = values.name,
  triggers = { base_image { } },
  pipeline = function(run) return { echo { message = "rebuilt on " .. (run.base_digest or "?") } } end,
}"""


def seed(store_path, names, base_of, digest_of):
    """Records each task as built on its base (what a first manual run would record)."""
    db = sqlite3.connect(store_path)
    now = time.time()
    run = f"seed-{now:.6f}"
    for name in names:
        db.execute("INSERT INTO image (task, run, reference, digest, platform, recorded) VALUES (?, ?, ?, ?, ?, ?)",
                   (name, run, f"measure.test/{name}:1", "sha256:" + "0" * 64, "linux/amd64", now))
        db.execute("INSERT INTO image_base (task, run, digest, scope, reference, base_digest) VALUES (?, ?, ?, 'runtime', ?, ?)",
                   (name, run, "sha256:" + "0" * 64, base_of(name), digest_of(name)))
    db.commit()
    db.close()


def latency():
    state = os.path.join(work, "latency")
    server = start_serve(state, "--debounce", "50ms", "--base-poll-interval", "1h")
    registry, _ = start_registry(server)
    base = f"{registry}/measure/base:1"
    push_base(base, "0", os.path.join(work, "pusher"))
    api(server, "/api/v1/tasks", {"text": APP_TASK.replace("values.name", '"app"'), "values": {}})
    # What a first run records: the task is built on the base's current digest.
    digest = subprocess.run(["skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}", f"docker://{base}"], capture_output=True, text=True, check=True).stdout.strip()
    seed(os.path.join(state, "slipway.sqlite"), ["app"], lambda _: base, lambda _: digest)
    samples = []
    for i in range(1, 51):
        before = len(api(server, "/api/v1/runs?task=app"))
        push_base(base, str(i), os.path.join(work, "pusher"))
        pushed = time.time()
        for _ in range(600):
            runs = api(server, "/api/v1/runs?task=app")
            if len(runs) > before and runs[0].get("started") and runs[0]["status"] == "succeeded":
                break
            time.sleep(0.02)
        else:
            sys.exit(f"push {i}: no run started")
        samples.append(seconds(runs[0]["started"]) - pushed)
        # The next push must find a recorded image on this digest: the echo task records none,
        # so record what a rebuild would have.
        digest = subprocess.run(["skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}", f"docker://{base}"], capture_output=True, text=True, check=True).stdout.strip()
        seed(os.path.join(state, "slipway.sqlite"), ["app"], lambda _: base, lambda _: digest)
    ms = [s * 1000 for s in samples]
    print(f"notification → run started over {len(ms)} pushes: p50 {percentile(ms, 50):.0f} ms, p95 {percentile(ms, 95):.0f} ms, max {max(ms):.0f} ms")


def fan_out():
    state = os.path.join(work, "fanout")
    server = start_serve(state, "--debounce", "50ms", "--base-poll-interval", "1h", "--concurrency", "4", "--verbose")
    registry, _ = start_registry(server)
    base = f"{registry}/measure/base:1"
    push_base(base, "0", os.path.join(work, "pusher2"))
    names = [f"app{n:04d}" for n in range(1000)]
    for name in names:
        api(server, "/api/v1/tasks", {"text": APP_TASK, "values": {"name": name}})
    seed(os.path.join(state, "slipway.sqlite"), names, lambda _: base, lambda _: "sha256:" + "1" * 64)
    # serve loads the 1000 tasks' triggers (each recipe evaluated once) before the push.
    wait_for_log("watching the triggers of 1000 task(s)")
    push_base(base, "1", os.path.join(work, "pusher2"))
    pushed = time.time()
    db = sqlite3.connect(os.path.join(state, "slipway.sqlite"))
    while True:
        count, last = db.execute("SELECT COUNT(*), MAX(queued) FROM run WHERE trigger = 'base_image'").fetchone()
        if count >= 1000 or time.time() - pushed > 120:
            break
        time.sleep(0.05)
    if os.environ.get("MEASURE_DEBUG"):
        newest = sorted((p for p in os.listdir(work) if p.startswith("serve-")), key=lambda p: os.path.getmtime(os.path.join(work, p)))[-1]
        print("".join(line for line in open(os.path.join(work, newest)) if "base" in line or "hints" in line or "queued 1000" in line))
    print(f"fan-out: {count} dependents of one base queued {last - pushed:.2f} s after the push ended")


def polling():
    state = os.path.join(work, "polling")
    server = start_serve(state, "--base-poll-interval", "2s", "--verbose")
    registry, _ = start_registry(server)
    bases = [f"{registry}/measure/base{b}:1" for b in range(10)]
    for index, base in enumerate(bases):
        push_base(base, f"b{index}", os.path.join(work, "pusher3"))
    names = [f"poll{n:03d}" for n in range(100)]
    for name in names:
        api(server, "/api/v1/tasks", {"text": APP_TASK, "values": {"name": name}})
    digests = {}
    for base in bases:
        digests[base] = subprocess.run(["skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}", f"docker://{base}"], capture_output=True, text=True, check=True).stdout.strip()
    seed(os.path.join(state, "slipway.sqlite"), names, lambda n: bases[int(n[4:]) % 10], lambda n: digests[bases[int(n[4:]) % 10]])
    wait_for_log("watching the triggers of 100 task(s)")
    time.sleep(8)
    newest = sorted((p for p in os.listdir(work) if p.startswith("serve-")), key=lambda p: os.path.getmtime(os.path.join(work, p)))[-1]
    with open(os.path.join(work, newest)) as f:
        cycles = [line for line in f if "base check: 100 task(s)" in line]
    counts = [int(line.split("task(s), ")[1].split(" ")[0]) for line in cycles]
    runs = len(api(server, "/api/v1/runs"))
    print(f"polling: 100 tasks on 10 distinct bases: registry requests per poll cycle {counts} over {len(counts)} cycles; {runs} runs started (none expected)")


try:
    for section in os.environ.get("MEASURE", "latency fan_out polling").split():
        globals()[section]()
finally:
    lab.stop()
