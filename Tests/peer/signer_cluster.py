"""The scaled-out signing service for the peer tests: a PostgreSQL cluster, moto_server as the S3-compatible object
store, several `otarig serve` instances on both, and nginx in front of them, all on 127.0.0.1 and all started and
stopped here, whatever happens.

PostgreSQL refuses to run as root, and CI runs as root: the cluster then runs as the unprivileged user `nobody`
(its directory is made under /tmp with that owner, since pytest's own temporary directories are private to root).
"""
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from signer_server import SignerServer

BOOTSTRAP = "run Scripts/bootstrap"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, timeout: float, what: str, process=None, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{what} exited with {process.returncode}:\n{log() if log else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{what} did not listen on 127.0.0.1:{port} within {timeout}s:\n{log() if log else ''}")


def postgres_bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if not found:
        raise AssertionError(f"PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres): {BOOTSTRAP}")
    return Path(found[-1]).parent


class PostgresCluster:
    """A throw-away PostgreSQL cluster on 127.0.0.1 and a free port, trust authentication for the user `otarig`."""

    def __init__(self):
        self.bindir = postgres_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="otarig-pg-"))
        os.chmod(self.root, 0o755)
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        self.user = None
        if os.geteuid() == 0:
            self.user = "nobody"
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)

    def _run(self, *args, check=True, timeout=120):
        command = [str(self.bindir / args[0]), *map(str, args[1:])]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=self.root)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(command)} exited {result.returncode}\n{result.stdout}{result.stderr}\n{self.log_text()}")
        return result

    def log_text(self):
        try:
            return self.log.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def start(self):
        if not self.data.exists():
            self._run("initdb", "-D", self.data, "-U", "otarig", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c synchronous_commit=off -c max_connections=200"
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "-t", "60", "start")
        return self

    def stop(self, mode="fast"):
        if self.data.exists():
            self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop", check=False)

    def restart(self):
        """Stops the server (fast: open connections are cut) and starts it again on the same port."""
        self.stop("fast")
        self.start()

    def destroy(self):
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def psql(self, sql: str, database="postgres"):
        result = subprocess.run([str(self.bindir / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "otarig", "-d", database,
                                 "-v", "ON_ERROR_STOP=1", "-At", "-c", sql], capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise AssertionError(f"psql {sql!r} exited {result.returncode}\n{result.stderr}")
        return result.stdout

    def create_database(self, name: str) -> str:
        self.psql(f'CREATE DATABASE "{name}"')
        return f"postgres://otarig@127.0.0.1:{self.port}/{name}"


class MotoServer:
    """moto_server (PyPI moto[server]) on 127.0.0.1 and a free port: an S3-compatible store nobody here wrote."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.log = directory / "moto.log"
        self.process = None

    def start(self):
        executable = shutil.which("moto_server")
        if executable is None:
            raise AssertionError(f"moto_server is not installed (PyPI moto[server]): {BOOTSTRAP}")
        self.process = subprocess.Popen([executable, "-H", "127.0.0.1", "-p", str(self.port)], stdout=open(self.log, "ab"),
                                        stderr=subprocess.STDOUT)
        wait_for_port(self.port, 60, "moto_server", self.process, lambda: self.log.read_text(errors="replace"))
        return self

    def reset(self):
        """Forgets every bucket (moto's own reset call), so each test starts from an empty store."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/moto-api/reset", method="POST", data=b"")
        urllib.request.urlopen(request, timeout=30).read()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    @property
    def url(self):
        return f"s3://127.0.0.1:{self.port}/"


NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
{user}
events {{ worker_connections 512; }}
http {{
    access_log {root}/access.log;
    client_body_temp_path {root}/client_body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    client_max_body_size 256m;
    upstream otarig {{
{servers}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://otarig;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            # SigV4 signs the Host the client saw; pass it through unchanged.
            proxy_set_header Host $http_host;
            proxy_next_upstream error timeout;
            proxy_connect_timeout 2s;
            proxy_read_timeout 120s;
        }}
    }}
}}
"""


class Nginx:
    """nginx from Debian, round-robin over the given loopback ports."""

    def __init__(self, upstream_ports):
        self.root = Path(tempfile.mkdtemp(prefix="otarig-nginx-"))
        os.chmod(self.root, 0o755)
        self.port = free_port()
        self.upstream_ports = list(upstream_ports)
        self.process = None

    def start(self):
        executable = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
        if executable is None:
            raise AssertionError(f"nginx is not installed: {BOOTSTRAP}")
        servers = "\n".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=3s;" for port in self.upstream_ports)
        user = "user nobody nogroup;" if os.geteuid() == 0 else ""
        conf = self.root / "nginx.conf"
        conf.write_text(NGINX_CONF.format(root=self.root, servers=servers, port=self.port, user=user))
        self.process = subprocess.Popen([executable, "-p", str(self.root), "-c", str(conf)], stdout=subprocess.DEVNULL,
                                        stderr=open(self.root / "stderr.log", "ab"))
        wait_for_port(self.port, 30, "nginx", self.process, self.log_text)
        return self

    def log_text(self):
        text = ""
        for name in ("stderr.log", "error.log"):
            path = self.root / name
            if path.exists():
                text += path.read_text(errors="replace")[-3000:]
        return text

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


MOTO_CREDENTIALS = """[moto]
aws_access_key_id = AKIAMOTOEXAMPLE00001
aws_secret_access_key = moto/secret/EXAMPLEKEY+000000000000
"""


class SignerCluster:
    """`instances` × `otarig serve` on one PostgreSQL database and one moto_server, behind nginx. Offers the same
    endpoint/env/aws/client calls as `SignerServer`, so a test written for one instance runs unchanged against it."""

    def __init__(self, otarig: Path, directory: Path, postgres: PostgresCluster, moto: MotoServer, instances=3, extra_args=(),
                 lease_seconds=None):
        self.otarig = otarig
        self.directory = directory
        self.postgres = postgres
        self.moto = moto
        self.database_name = "otarig_" + os.urandom(6).hex()
        self.database_url = None
        objects_credentials = directory / "objects-credentials"
        objects_credentials.write_text(MOTO_CREDENTIALS)
        args = ["--objects", moto.url, "--objects-credentials", str(objects_credentials), *extra_args]
        if lease_seconds is not None:
            args += ["--job-lease", str(lease_seconds)]
        self.servers = []
        for index in range(instances):
            (directory / f"instance{index}").mkdir(parents=True, exist_ok=True)
            self.servers.append(SignerServer(otarig, directory / f"instance{index}", extra_args=args))
        self.nginx = None

    def start(self, timeout=60):
        self.database_url = self.postgres.create_database(self.database_name)
        for server in self.servers:
            server.extra_args = ["--database", self.database_url, *server.extra_args]
        # Started together: the migrations must be safe when several instances race on an empty database.
        for server in self.servers:
            server.launch()
        for server in self.servers:
            server.wait_listening(timeout)
        self.nginx = Nginx([server.port for server in self.servers]).start()
        return self

    def stop(self):
        problems = []
        try:
            for server in self.servers:
                try:
                    server.stop()
                except AssertionError as error:
                    problems.append(str(error))
        finally:
            if self.nginx:
                self.nginx.stop()
        if problems:
            raise AssertionError("\n".join(problems))

    # The SignerServer interface, through nginx.
    @property
    def port(self):
        return self.nginx.port

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.nginx.port}"

    @property
    def credentials(self):
        return self.servers[0].credentials

    @property
    def data_dir(self):
        return self.servers[0].data_dir

    def log_text(self):
        return "\n".join(f"--- instance {index} ---\n{server.log_text()}" for index, server in enumerate(self.servers)) + \
            f"\n--- nginx ---\n{self.nginx.log_text() if self.nginx else ''}"

    def env(self, profile="alice"):
        env = self.servers[0].env(profile)
        env["AWS_ENDPOINT_URL"] = self.endpoint
        return env

    # The aws CLI with this cluster's environment (SignerServer's, through nginx).
    aws = SignerServer.aws

    def client(self, service, profile="alice", config=None):
        return self.servers[0].client(service, profile=profile, config=config, endpoint=self.endpoint)
