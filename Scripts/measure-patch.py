#!/usr/bin/env python3
"""`make measure-patch`: the 1000-image rebase fan-out #13 asks to be measured, never a test.

One base, 1000 tasks whose images are COPY-only (`base_image { strategy = "auto" }`), each image
pushed to the real registry on loopback with its build record; then a new base is pushed (the
registry's notification reaches serve) and every image is rebased and pushed. Prints the time
from the push's end until all 1000 runs succeeded, registry requests per image (from the
rebase steps' own counts and, independently, the registry's log) and bytes uploaded.

The 1000 images are written with the registry API directly (one shared base layer, mounted, and
one small layer of their own each), and their build records are seeded in the store, so that
the measurement is the rebase and not 1000 builds. Uses the debug build unless SLIPWAY is set.
"""
import gzip, hashlib, io, json, os, sqlite3, subprocess, sys, tarfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SLIPWAY = os.environ.get("SLIPWAY", os.path.join(ROOT, ".build/debug/slipway"))
COUNT = int(os.environ.get("MEASURE_IMAGES", "1000"))
CONCURRENCY = os.environ.get("MEASURE_CONCURRENCY", "8")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measurelib import Lab

lab = Lab("slipway-measure-patch.")
work = lab.work


def request(method, url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=60) as response:
        return response.status, dict(response.headers), response.read()


def api(server, path, body):
    return json.loads(request("POST", server + path, json.dumps(body).encode(), {"Content-Type": "application/json"})[2])


def push_base(reference, content):
    context = os.path.join(work, "base-context")
    os.makedirs(context, exist_ok=True)
    with open(os.path.join(context, "Dockerfile"), "w") as f:
        f.write("FROM scratch\nCOPY version.txt /\nENV BASE_VERSION=" + content + "\n")
    with open(os.path.join(context, "version.txt"), "w") as f:
        f.write(content * 4096)
    subprocess.run([SLIPWAY, "build", "-t", reference, context], check=True, capture_output=True,
                   env={**os.environ, "SLIPWAY_STATE_DIR": os.path.join(work, "pusher")})


def upload(registry, repository, data, mount_from=None):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    if mount_from:
        status, _, _ = request("POST", f"http://{registry}/v2/{repository}/blobs/uploads/?mount={digest}&from={mount_from}")
        if status == 201:
            return digest
    _, headers, _ = request("POST", f"http://{registry}/v2/{repository}/blobs/uploads/")
    location = headers["Location"]
    location = location if location.startswith("http") else f"http://{registry}{location}"
    request("PUT", location + ("&" if "?" in location else "?") + "digest=" + digest, data, {"Content-Type": "application/octet-stream"})
    return digest


def app_image(registry, name, base_repository, base_manifest, base_config, base_digest, base_reference):
    """A COPY-only app on the base: the base's layers (mounted) and one small layer of its own."""
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w", format=tarfile.PAX_FORMAT) as archive:
        body = f"app {name}\n".encode()
        info = tarfile.TarInfo("app/" + name + ".txt")
        info.size, info.mtime = len(body), 0
        archive.addfile(info, io.BytesIO(body))
    raw = tar.getvalue()
    layer = gzip.compress(raw, mtime=0)
    repository = f"team/{name}"
    for descriptor in base_manifest["layers"]:
        request("POST", f"http://{registry}/v2/{repository}/blobs/uploads/?mount={descriptor['digest']}&from={base_repository}")
    layer_digest = upload(registry, repository, layer)
    config = dict(base_config)
    config["rootfs"] = {"type": "layers", "diff_ids": base_config["rootfs"]["diff_ids"] + ["sha256:" + hashlib.sha256(raw).hexdigest()]}
    config["history"] = base_config.get("history", []) + [{"created_by": f"COPY {name}.txt /app/", "comment": "slipway"}]
    config_data = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    config_digest = upload(registry, repository, config_data)
    manifest = {
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": len(config_data)},
        "layers": base_manifest["layers"] + [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": len(layer)}],
        "annotations": {"org.opencontainers.image.base.name": base_reference, "org.opencontainers.image.base.digest": base_digest},
    }
    data = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    request("PUT", f"http://{registry}/v2/{repository}/manifests/1", data, {"Content-Type": manifest["mediaType"]})
    origins = [{"kind": "base", "digest": d["digest"]} for d in base_manifest["layers"]] + [{"kind": "copy", "digest": layer_digest}]
    return "sha256:" + hashlib.sha256(data).hexdigest(), origins


TASK = """return task {
  name = values.name,
  triggers = { base_image { strategy = "auto" } },
  pipeline = function(run) return { echo { message = "a rebuild would run here" } } end,
}"""


def main():
    state = os.path.join(work, "state")
    server, serve_log = lab.start_serve(SLIPWAY, state, "--debounce", "50ms", "--base-poll-interval", "1h", "--concurrency", CONCURRENCY)
    registry, registry_log = lab.start_registry(server)
    base = f"{registry}/measure/base:1"
    push_base(base, "1")
    _, headers, body = request("GET", f"http://{registry}/v2/measure/base/manifests/1", headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
    base_manifest, base_digest = json.loads(body), headers["Docker-Content-Digest"]
    base_config = json.loads(request("GET", f"http://{registry}/v2/measure/base/blobs/{base_manifest['config']['digest']}")[2])

    started = time.time()
    names = [f"app{n:04d}" for n in range(COUNT)]
    images = {name: app_image(registry, name, "measure/base", base_manifest, base_config, base_digest, base) for name in names}
    for name in names:
        api(server, "/api/v1/tasks", {"text": TASK, "values": {"name": name}})
    db = sqlite3.connect(os.path.join(state, "slipway.sqlite"))
    now = time.time()
    for name in names:
        digest, origins = images[name]
        tag = f"{registry}/team/{name}:1"
        db.execute("INSERT INTO image (task, run, reference, digest, platform, layers, tags, recorded) VALUES (?, 'seed', ?, ?, 'linux/amd64', ?, ?, ?)",
                   (name, tag, digest, json.dumps(origins), json.dumps([tag]), now))
        db.execute("INSERT INTO image_base (task, run, digest, scope, reference, base_digest) VALUES (?, 'seed', ?, 'runtime', ?, ?)",
                   (name, digest, base, base_digest))
    db.commit()
    print(f"set-up: {COUNT} app images pushed and their tasks stored in {time.time() - started:.1f} s")
    deadline = time.time() + 120
    while f"watching the triggers of {COUNT} task(s)" not in open(serve_log).read():
        if time.time() > deadline:
            sys.exit("serve never loaded the tasks")
        time.sleep(0.2)

    registry_lines_before = len(open(registry_log).read().splitlines())
    push_base(base, "2")
    pushed = time.time()
    while True:
        done, failed = db.execute(
            "SELECT SUM(status = 'succeeded'), SUM(status IN ('failed', 'interrupted', 'canceled')) FROM run WHERE trigger = 'base_image'").fetchone()
        if (done or 0) + (failed or 0) >= COUNT or time.time() - pushed > 300:
            break
        time.sleep(0.1)
    finished = db.execute("SELECT MAX(finished) FROM run WHERE trigger = 'base_image'").fetchone()[0] or time.time()
    elapsed = finished - pushed
    requests, uploaded, layer_bytes = 0, 0, 0
    for (outputs,) in db.execute("SELECT s.outputs FROM step s JOIN run r ON r.id = s.run WHERE r.trigger = 'base_image' AND s.step = 'rebase'"):
        fields = json.loads(outputs or "{}")
        requests += fields.get("requests", 0)
        uploaded += fields.get("uploaded_bytes", 0)
        layer_bytes += fields.get("layer_bytes_uploaded", 0)
    registry_requests = sum(1 for line in open(registry_log).read().splitlines()[registry_lines_before:] if "response completed" in line)
    decisions = db.execute("SELECT COUNT(*) FROM step s JOIN run r ON r.id = s.run WHERE r.trigger = 'base_image' AND s.step = 'rebase' AND s.status = 'succeeded'").fetchone()[0]
    print(f"fan-out: {done or 0} of {COUNT} runs succeeded ({failed or 0} failed), {decisions} by rebase, {elapsed:.1f} s after the push ended "
          f"(serve --concurrency {CONCURRENCY})")
    print(f"per image: {requests / max(1, decisions):.1f} registry requests counted by the rebase step; "
          f"{registry_requests / max(1, COUNT):.1f} served by the registry after the push (base check, base push, notifications and rebase); "
          f"uploaded {uploaded / max(1, decisions):.0f} bytes (configs), layer bytes uploaded in all: {layer_bytes}")
    # Every image now names the new base.
    _, headers, _ = request("HEAD", f"http://{registry}/v2/measure/base/manifests/1", headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
    new_digest = headers["Docker-Content-Digest"]
    moved = 0
    for name in names:
        manifest = json.loads(request("GET", f"http://{registry}/v2/team/{name}/manifests/1", headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})[2])
        moved += manifest.get("annotations", {}).get("org.opencontainers.image.base.digest") == new_digest
    print(f"checked: {moved} of {COUNT} images in the registry name the new base")
    if os.environ.get("MEASURE_DEBUG"):
        print(open(serve_log).read()[-5000:])


try:
    main()
finally:
    lab.stop()
