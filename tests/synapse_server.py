"""A real Synapse homeserver for integration tests, on 127.0.0.1, SQLite, throwaway.

Synapse is installed from PyPI into its own venv under ``.cache/`` (ignored by
git, reused across runs); a config is written for one client listener on a free
port with rate limits raised; users are registered through the admin API with
the shared secret (one HTTP call each, no process per user).
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("CAUCUS_SYNAPSE_VENV", ROOT / ".cache" / "synapse"))
SERVER_NAME = "localhost"


@dataclass(frozen=True)
class Account:
    user_id: str
    password: str
    access_token: str
    device_id: str


def ensure_installed() -> Path:
    """Synapse's venv, made on first use. The suite runs in several processes (xdist),
    each starting its own Synapse: one installs while the others wait on the lock."""
    python = VENV / "bin" / "python"
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(VENV.parent / f"{VENV.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if python.exists() and subprocess.run([str(python), "-c", "import synapse"],
                                              capture_output=True).returncode == 0:
            return python
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", "matrix-synapse"], check=True)
        return python


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Synapse:
    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.secret = secrets.token_hex(16)
        self.process: subprocess.Popen[bytes] | None = None
        self.python = ensure_installed()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write_config(self) -> Path:
        f = self.folder
        f.mkdir(parents=True, exist_ok=True)
        (f / "log.yaml").write_text(
            "version: 1\nformatters:\n  plain:\n    format: '%(asctime)s %(levelname)s "
            "%(name)s: %(message)s'\nhandlers:\n  file:\n    class: logging.FileHandler\n"
            f"    filename: {f / 'homeserver.log'}\n    formatter: plain\n"
            "root:\n  level: WARNING\n  handlers: [file]\ndisable_existing_loggers: false\n")
        limits = {"per_second": 1000, "burst_count": 1000}
        config = {
            "server_name": SERVER_NAME,
            "pid_file": str(f / "homeserver.pid"),
            "listeners": [{"port": self.port, "bind_addresses": ["127.0.0.1"], "type": "http",
                           "tls": False, "x_forwarded": False,
                           "resources": [{"names": ["client"], "compress": False}]}],
            "database": {"name": "sqlite3", "args": {"database": str(f / "homeserver.db")}},
            "log_config": str(f / "log.yaml"),
            "media_store_path": str(f / "media"),
            "signing_key_path": str(f / "signing.key"),
            "registration_shared_secret": self.secret,
            "macaroon_secret_key": secrets.token_hex(16),
            "form_secret": secrets.token_hex(16),
            "report_stats": False,
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "enable_registration": False,
            "bcrypt_rounds": 4,
            "use_presence": False,
            "url_preview_enabled": False,
            "rc_message": limits, "rc_registration": limits, "rc_joins": {"local": limits,
                                                                          "remote": limits},
            "rc_login": {"address": limits, "account": limits, "failed_attempts": limits},
            "rc_admin_redaction": limits, "rc_invites": {"per_room": limits, "per_user": limits,
                                                         "per_issuer": limits},
            "rc_media_create": limits, "rc_presence": {"per_user": limits},
            "rc_key_requests": limits, "rc_3pid_validation": limits,
            "rc_room_creation": limits, "rc_reports": limits,
        }
        path = f / "homeserver.yaml"
        path.write_text(json.dumps(config, indent=1))  # JSON is YAML
        return path

    def start(self) -> None:
        path = self.write_config()
        if not (self.folder / "signing.key").exists():
            subprocess.run([str(self.python), "-m", "synapse.app.homeserver", "-c", str(path),
                            "--generate-keys"], check=True, capture_output=True)
        self.process = subprocess.Popen(
            [str(self.python), "-m", "synapse.app.homeserver", "-c", str(path)],
            stdout=subprocess.DEVNULL, stderr=open(self.folder / "stderr.log", "ab"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("Synapse exited at start: "
                                   + (self.folder / "stderr.log").read_text()[-2000:])
            try:
                with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=1):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        raise RuntimeError("Synapse did not answer within 60 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def _call(self, method: str, path: str, body: dict | None = None,
              token: str | None = None) -> dict:
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         data=json.dumps(body).encode() if body else None,
                                         headers={"Content-Type": "application/json"})
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def register(self, localpart: str, *, admin: bool = False) -> Account:
        nonce = self._call("GET", "/_synapse/admin/v1/register")["nonce"]
        password = secrets.token_hex(8)
        mac = hmac.new(self.secret.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce.encode(), localpart.encode(), password.encode(),
                                 b"admin" if admin else b"notadmin"]))
        answer = self._call("POST", "/_synapse/admin/v1/register", {
            "nonce": nonce, "username": localpart, "password": password, "admin": admin,
            "mac": mac.hexdigest()})
        return Account(answer["user_id"], password, answer["access_token"], answer["device_id"])

    def login(self, account: Account, device_id: str | None = None) -> Account:
        """A fresh device (and access token) for the same user."""
        body: dict = {"type": "m.login.password",
                      "identifier": {"type": "m.id.user", "user": account.user_id},
                      "password": account.password}
        if device_id:
            body["device_id"] = device_id
        answer = self._call("POST", "/_matrix/client/v3/login", body)
        return Account(account.user_id, account.password, answer["access_token"],
                       answer["device_id"])
