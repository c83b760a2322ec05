"""Real servers for the test suite, each on a free loopback port in its own directory.

Every server can be stopped and started again on the same port and data
directory, so tests can simulate an outage. Binaries come from Debian
packages (``scripts/setup`` installs them); a missing binary fails loudly
under ``CI=true`` and skips elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_binary(name: str) -> str:
    """Path of ``name``; fail under CI (it must be installed there), skip elsewhere."""
    for candidate in (shutil.which(name), f"/usr/sbin/{name}", f"/usr/bin/{name}"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    message = f"{name} not found: run scripts/setup (installs the Debian packages the tests use)"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def wait_until(check: Callable[[], bool], *, what: str, timeout_s: float = 20.0) -> None:
    """Poll ``check`` until it is true; raise with ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise TimeoutError(f"{what} did not become ready within {timeout_s} s")


def http_ok(url: str) -> bool:
    """True when ``url`` answers with a 2xx status."""
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return 200 <= int(resp.status) < 300
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def tcp_open(port: int) -> bool:
    """True when something accepts connections on 127.0.0.1:``port``."""
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


@dataclass
class Server:
    """A child process we start, stop and restart; subclasses say how."""

    workdir: Path
    binary: str
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        return tcp_open(self.port)

    def start(self) -> None:
        """Start the server and wait until it answers."""
        with (self.workdir / "server.log").open("ab") as log:
            self.proc = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir
            )
        name = type(self).__name__
        try:
            wait_until(lambda: self._alive() and self.ready(), what=name)
        except TimeoutError:
            self.stop()
            tail = (self.workdir / "server.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{name} failed to start:\n{tail}") from None

    def _alive(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"{type(self).__name__} exited with {self.proc.returncode}")
        return True

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s)."""
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """Kill the server abruptly (SIGKILL), as a crash or a power cut would."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


@dataclass
class Mosquitto(Server):
    """Mosquitto with a plain anonymous listener, a TLS + password listener, and a TLS
    listener that requires a client certificate from the test CA (``cert_port``).

    ``options`` are further global ``mosquitto.conf`` lines (e.g. a test's own
    ``max_queued_messages``). On ``cert_port`` the certificate's CN is the user name
    (``use_identity_as_username``); ``client_cert``/``client_key`` hold one for the CN
    ``cert_username``, issued by the same throw-away CA.
    """

    tls_port: int = field(default_factory=free_port)
    username: str = "vagus"
    password: str = "correct horse battery staple"
    options: tuple[str, ...] = ()
    ca_file: Path = field(init=False)
    cert_port: int = field(default_factory=free_port)
    cert_username: str = "vagus-cert"
    client_cert: Path = field(init=False)
    client_key: Path = field(init=False)

    def __post_init__(self) -> None:
        self.ca_file = self.workdir / "ca.crt"
        make_test_pki(self.workdir)
        self.client_cert, self.client_key = make_client_cert(self.workdir, self.cert_username)
        passwd = self.workdir / "passwd"
        passwd.touch(mode=0o600)
        subprocess.run(
            [require_binary("mosquitto_passwd"), "-b", str(passwd), self.username, self.password],
            check=True,
            capture_output=True,
        )
        lines = [
            "per_listener_settings true",
            "persistence false",
            "log_dest stdout",
            *(["user root"] if os.geteuid() == 0 else []),
            *self.options,
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            f"listener {self.tls_port} 127.0.0.1",
            "allow_anonymous false",
            f"password_file {passwd}",
            f"cafile {self.ca_file}",
            f"certfile {self.workdir / 'server.crt'}",
            f"keyfile {self.workdir / 'server.key'}",
            f"listener {self.cert_port} 127.0.0.1",
            "allow_anonymous false",
            "require_certificate true",
            "use_identity_as_username true",
            f"cafile {self.ca_file}",
            f"certfile {self.workdir / 'server.crt'}",
            f"keyfile {self.workdir / 'server.key'}",
        ]
        (self.workdir / "mosquitto.conf").write_text("\n".join(lines) + "\n")

    def command(self) -> list[str]:
        return [self.binary, "-c", str(self.workdir / "mosquitto.conf")]

    def ready(self) -> bool:
        return tcp_open(self.port) and tcp_open(self.tls_port) and tcp_open(self.cert_port)


def make_test_pki(workdir: Path) -> None:
    """A throw-away CA and a server certificate for 127.0.0.1/localhost, made with openssl."""
    openssl = require_binary("openssl")

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], check=True, capture_output=True, cwd=workdir)

    run(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=vagus test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    )
    run(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    )
    (workdir / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.ext",
        "-out",
        "server.crt",
    )


def make_client_cert(workdir: Path, common_name: str) -> tuple[Path, Path]:
    """A client certificate (and its key) for ``common_name``, issued by `make_test_pki`'s CA
    in ``workdir``; returns the paths of the certificate and the key."""
    openssl = require_binary("openssl")
    cert, key, csr = (workdir / f"client-{common_name}.{ext}" for ext in ("crt", "key", "csr"))

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], check=True, capture_output=True, cwd=workdir)

    run(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        f"/CN={common_name}",
        "-keyout",
        str(key),
        "-out",
        str(csr),
    )
    (workdir / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    run(
        "x509",
        "-req",
        "-in",
        str(csr),
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "client.ext",
        "-out",
        str(cert),
    )
    return cert, key


@dataclass
class VictoriaMetrics(Server):
    """VictoriaMetrics: accepts the InfluxDB v2 write API; read back with /api/v1/export."""

    def command(self) -> list[str]:
        return [
            self.binary,
            f"-httpListenAddr=127.0.0.1:{self.port}",
            f"-storageDataPath={self.workdir / 'data'}",
            "-search.latencyOffset=0s",
            "-loggerLevel=WARN",
        ]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ready(self) -> bool:
        return http_ok(f"{self.url}/health")

    def delete_all(self) -> None:
        """Delete every series, so a test starts from an empty store."""
        import urllib.parse

        query = urllib.parse.urlencode({"match[]": '{__name__!=""}'})
        with urllib.request.urlopen(
            f"{self.url}/api/v1/admin/tsdb/delete_series?{query}", timeout=10
        ):
            pass

    def export(self, match: str = '{__name__!=""}') -> list[dict[str, object]]:
        """Every stored series matching ``match`` (any time), as /api/v1/export's JSON lines."""
        import json
        import urllib.parse

        with urllib.request.urlopen(f"{self.url}/internal/force_flush", timeout=10):
            pass
        # Sped-up sessions stamp beats ahead of the wall clock: export up to a day ahead.
        end_s = int(time.time()) + 86_400
        query = urllib.parse.urlencode({"match[]": match, "start": 0, "end": end_s})
        with urllib.request.urlopen(f"{self.url}/api/v1/export?{query}", timeout=30) as resp:
            return [json.loads(line) for line in resp.read().splitlines() if line.strip()]


@dataclass
class InfluxDB1(Server):
    """InfluxDB 1.x (Debian ships 1.6) for InfluxQL: fed with /write, queried with /query."""

    database: str = "vagus"

    def __post_init__(self) -> None:
        rpc_port = free_port()
        root = self.workdir
        (root / "influxdb.conf").write_text(
            f"""reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{root / "meta"}"
[data]
  dir = "{root / "data"}"
  wal-dir = "{root / "wal"}"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:{self.port}"
  log-enabled = false
[monitor]
  store-enabled = false
"""
        )

    def command(self) -> list[str]:
        return [self.binary, "run", "-config", str(self.workdir / "influxdb.conf")]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ready(self) -> bool:
        return http_ok(f"{self.url}/ping")

    def start(self) -> None:
        super().start()
        self.query(f'CREATE DATABASE "{self.database}"', method="POST")

    def write(self, lines: str, precision: str = "ns") -> None:
        """Write line protocol to the test database."""
        req = urllib.request.Request(
            f"{self.url}/write?db={self.database}&precision={precision}",
            data=lines.encode(),
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=10):
            pass

    def query(self, q: str, *, method: str = "GET") -> dict[str, object]:
        """Run InfluxQL ``q`` on the test database; raise on an error in the answer."""
        import json
        import urllib.parse

        params = urllib.parse.urlencode({"db": self.database, "q": q, "epoch": "ns"})
        req = urllib.request.Request(
            f"{self.url}/query?{params}" if method == "GET" else f"{self.url}/query",
            data=None if method == "GET" else params.encode(),
            method=method,
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            answer: dict[str, object] = json.loads(resp.read())
        results = answer.get("results", [])
        assert isinstance(results, list)
        for result in results:
            if "error" in result:
                raise RuntimeError(f"InfluxQL error for {q!r}: {result['error']}")
        return answer


@dataclass
class SystemBus(Server):
    """A private D-Bus daemon configured like a system bus, for the fake BlueZ."""

    socket_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.socket_path = self.workdir / "system_bus_socket"
        (self.workdir / "bus.conf").write_text(
            f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={self.socket_path}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
"""
        )

    @property
    def address(self) -> str:
        """The value for ``DBUS_SYSTEM_BUS_ADDRESS``."""
        return f"unix:path={self.socket_path}"

    def command(self) -> list[str]:
        return [
            self.binary,
            "--config-file",
            str(self.workdir / "bus.conf"),
            "--nofork",
            "--nopidfile",
        ]

    def ready(self) -> bool:
        if not self.socket_path.exists():
            return False
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(self.socket_path))
            return True
        return False


@dataclass
class NatsServer(Server):
    """nats-server with JetStream (store in the work dir) and its MQTT listener (``mqtt_port``).

    ``mappings`` are the server's subject mappings (source -> destination), e.g. the
    partition mapping of `ingest.nats_subjects.partition_mapping`. The MQTT listener
    needs JetStream and a ``server_name``; both are set.
    """

    mqtt_port: int = field(default_factory=free_port)
    mappings: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        lines = [
            f"server_name: vagus-test-{self.port}",
            f"listen: 127.0.0.1:{self.port}",
            f'jetstream {{ store_dir: "{self.workdir / "jetstream"}" }}',
            f"mqtt {{ listen: 127.0.0.1:{self.mqtt_port} }}",
            "mappings = {",
            *(f'  "{source}": "{destination}"' for source, destination in self.mappings.items()),
            "}",
        ]
        (self.workdir / "nats.conf").write_text("\n".join(lines) + "\n")

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [self.binary, "-c", str(self.workdir / "nats.conf")]

    def ready(self) -> bool:
        return tcp_open(self.port) and tcp_open(self.mqtt_port)
