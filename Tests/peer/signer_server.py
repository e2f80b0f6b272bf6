"""Start and stop `otarig serve` for the peer tests, and build aws CLI environments and boto3 clients for it."""
import os
import signal
import subprocess
import time
from pathlib import Path

import boto3
import botocore.session
from botocore.config import Config

REGION = "us-east-1"

CREDENTIALS = """[alice]
aws_access_key_id = AKIAALICEEXAMPLE0001
aws_secret_access_key = alice/secret/EXAMPLEKEY+0000000000000
account_id = 111111111111
principal_arn = arn:aws:iam::111111111111:user/alice

[bob]
aws_access_key_id = AKIABOBEXAMPLE000002
aws_secret_access_key = bob/secret/EXAMPLEKEY+00000000000000
account_id = 222222222222
principal_arn = arn:aws:iam::222222222222:role/ci
"""

ACCOUNTS = {"alice": "111111111111", "bob": "222222222222"}


class SignerServer:
    """One `otarig serve` process on a free loopback port, with its own data directory."""

    def __init__(self, otarig: Path, directory: Path, extra_args=()):
        self.otarig = otarig
        self.directory = directory
        self.data_dir = directory / "state"
        self.credentials = directory / "credentials"
        self.credentials.write_text(CREDENTIALS)
        self.log_path = directory / "serve.log"
        self.extra_args = list(extra_args)
        self.process = None
        self.port = None

    def start(self, timeout=60):
        self.launch()
        return self.wait_listening(timeout)

    def launch(self):
        """Starts the process without waiting for it to listen (`wait_listening`), so several can start together."""
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [str(self.otarig), "serve", "--port", "0", "--data-dir", str(self.data_dir), "--credentials", str(self.credentials),
             *self.extra_args],
            stdout=subprocess.PIPE, stderr=log, text=True)
        return self

    def wait_listening(self, timeout=60):
        deadline = time.monotonic() + timeout
        lines = []
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                if self.process.poll() is not None:
                    raise AssertionError(f"otarig serve exited with {self.process.returncode}:\n{''.join(lines)}\n{self.log_text()}")
                continue
            lines.append(line)
            self.startup_lines = lines
            if "listening on http://" in line:
                self.port = int(line.split("http://127.0.0.1:")[1].split()[0])
                return self
        raise AssertionError(f"otarig serve did not start within {timeout}s:\n{''.join(lines)}\n{self.log_text()}")

    def stop(self, kill=False):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError("otarig serve did not stop within 30s of SIGTERM")
        finally:
            self.process.stdout.close()
        if not kill and self.process.returncode != 0:
            raise AssertionError(f"otarig serve exited {self.process.returncode} on SIGTERM, not 0:\n{self.log_text()[-3000:]}")

    def log_text(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def env(self, profile="alice"):
        env = dict(os.environ)
        env.update({
            "AWS_ENDPOINT_URL": self.endpoint, "AWS_DEFAULT_REGION": REGION, "AWS_SHARED_CREDENTIALS_FILE": str(self.credentials),
            "AWS_PROFILE": profile, "AWS_CONFIG_FILE": os.devnull, "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
            "AWS_MAX_ATTEMPTS": "1", "AWS_PAGER": "",
        })
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            env.pop(name, None)
        return env

    def aws(self, *args, profile="alice", check=True, cwd=None):
        result = subprocess.run(["aws", *map(str, args)], env=self.env(profile), capture_output=True, text=True, timeout=120, cwd=cwd)
        if check and result.returncode != 0:
            raise AssertionError(f"aws {' '.join(map(str, args))} exited {result.returncode}\n{result.stderr}")
        return result

    def client(self, service, profile="alice", config=None, endpoint=None):
        core = botocore.session.Session()
        core.set_config_variable("credentials_file", str(self.credentials))
        core.set_config_variable("config_file", os.devnull)
        core.set_config_variable("profile", profile)
        session = boto3.Session(botocore_session=core, region_name=REGION)
        defaults = Config(inject_host_prefix=False, retries={"max_attempts": 1, "mode": "standard"})
        return session.client(service, endpoint_url=endpoint or self.endpoint, config=defaults.merge(config) if config else defaults)
