"""What the measurement scripts (make measure-serve, make measure-patch) share: loopback ports,
the real CNCF registry with its notifications pointed at serve, `slipway serve` itself, and
stopping all of it. Never part of the tests."""
import os, shutil, signal, socket, subprocess, sys, tempfile, time


class Lab:
    def __init__(self, prefix):
        self.work = tempfile.mkdtemp(prefix=prefix)
        self.processes = []

    @staticmethod
    def free_port():
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        return port

    @staticmethod
    def wait_port(port):
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                return
            except OSError:
                time.sleep(0.05)
        sys.exit(f"nothing listens on {port}")

    def start_registry(self, notify):
        """A registry on loopback whose notifications go to serve's /hooks/registry: (address, log path)."""
        port = self.free_port()
        storage = os.path.join(self.work, f"registry-{port}")
        os.makedirs(storage)
        config = os.path.join(self.work, f"registry-{port}.yml")
        with open(config, "w") as f:
            f.write(f"""version: 0.1
log: {{level: info, formatter: text}}
storage: {{filesystem: {{rootdirectory: {storage}}}}}
http: {{addr: 127.0.0.1:{port}}}
notifications:
  endpoints:
    - name: slipway
      url: {notify}/hooks/registry
      timeout: 2s
      threshold: 5
      backoff: 1s
      ignore: {{mediatypes: [application/octet-stream], actions: [pull]}}
""")
        log = open(os.path.join(self.work, f"registry-{port}.log"), "w")
        self.processes.append(subprocess.Popen(["docker-registry", "serve", config], stdout=log, stderr=log))
        self.wait_port(port)
        return f"127.0.0.1:{port}", log.name

    def start_serve(self, slipway, state, *arguments):
        """`slipway serve` on a free loopback port: (URL, log path)."""
        port = self.free_port()
        log = open(os.path.join(self.work, f"serve-{port}.log"), "w")
        self.processes.append(subprocess.Popen(
            [slipway, "serve", "--state-dir", state, "--listen", f"127.0.0.1:{port}", *arguments], stdout=log, stderr=log))
        self.wait_port(port)
        return f"http://127.0.0.1:{port}", log.name

    def stop(self):
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(self.work, ignore_errors=True)
