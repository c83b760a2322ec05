"""deploy/docker-compose.yml and the Grafana provisioning refer to the same paths and names;
deploy/vagus.service runs the daemon sandboxed, writing only its state directory."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "deploy"


def load_yaml(path: Path) -> Any:
    """A YAML file as Python data."""
    return yaml.safe_load(path.read_text())


def mounts(service: dict[str, Any]) -> dict[PurePosixPath, Path]:
    """Bind mounts of a compose service: container path -> host path (resolved from deploy/)."""
    out = {}
    for volume in service.get("volumes", []):
        source, target, *_ = volume.split(":")
        if source.startswith((".", "/")):
            out[PurePosixPath(target)] = (DEPLOY / source).resolve()
    return out


def host_path(binds: dict[PurePosixPath, Path], container: str) -> Path:
    """Where a container path lives on the host, through the longest matching bind mount."""
    path = PurePosixPath(container)
    best = max((t for t in binds if path == t or t in path.parents), key=lambda t: len(t.parts))
    return binds[best].joinpath(*path.relative_to(best).parts)


def test_compose_starts_the_three_servers() -> None:
    """Mosquitto, InfluxDB 2 and Grafana are services, with their config files mounted."""
    compose = load_yaml(DEPLOY / "docker-compose.yml")
    services = compose["services"]
    assert set(services) == {"mosquitto", "influxdb", "grafana"}
    assert services["influxdb"]["image"].startswith("influxdb:2")
    conf = host_path(mounts(services["mosquitto"]), "/mosquitto/config/mosquitto.conf")
    assert conf == DEPLOY / "mosquitto" / "mosquitto.conf"
    assert "listener 1883" in conf.read_text()


def test_grafana_mounts_match_the_provisioning() -> None:
    """Grafana's provisioning dir is mounted, and the dashboards provider path is a mount of
    grafana/dashboards holding every dashboard; the home dashboard exists there too."""
    grafana = load_yaml(DEPLOY / "docker-compose.yml")["services"]["grafana"]
    binds = mounts(grafana)
    provisioning = host_path(binds, "/etc/grafana/provisioning")
    assert provisioning == ROOT / "grafana" / "provisioning"
    providers = load_yaml(provisioning / "dashboards" / "vagus.yaml")["providers"]
    assert len(providers) == 1
    served = host_path(binds, providers[0]["options"]["path"])
    assert served == ROOT / "grafana" / "dashboards"
    assert {p.name for p in served.glob("*.json")} == {
        "live-session.json",
        "trends.json",
        "fleet.json",
    }
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert host_path(binds, home).is_file()


def test_datasource_matches_influxdb_and_dashboards() -> None:
    """Every ${VAR} of the datasource is set for Grafana; its database is the InfluxDB bucket;
    its uid is the one every dashboard uses."""
    compose = load_yaml(DEPLOY / "docker-compose.yml")["services"]
    text = (ROOT / "grafana" / "provisioning" / "datasources" / "vagus.yaml").read_text()
    env = compose["grafana"]["environment"]
    assert set(re.findall(r"\$\{(\w+)\}", text)) <= set(env)
    (source,) = yaml.safe_load(text)["datasources"]
    assert source["jsonData"]["dbName"] == "${VAGUS_INFLUX_BUCKET}"
    assert (
        env["VAGUS_INFLUX_BUCKET"]
        == compose["influxdb"]["environment"]["DOCKER_INFLUXDB_INIT_BUCKET"]
    )
    assert env["VAGUS_INFLUX_URL"] == "http://influxdb:8086"
    for path in (ROOT / "grafana" / "dashboards").glob("*.json"):
        board = json.loads(path.read_text())
        uids = {p["datasource"]["uid"] for p in board["panels"]}
        assert uids == {source["uid"]}, path.name


UNIT = DEPLOY / "vagus.service"


def unit_settings(path: Path, section: str) -> dict[str, list[str]]:
    """A systemd unit's ``key=value`` lines of one section, every value of a repeated key."""
    out: dict[str, list[str]] = {}
    current = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = line.strip("[]")
        elif current == section:
            key, _, value = line.partition("=")
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def test_unit_is_hardened() -> None:
    """Private umask, no privileges, read-only system and home, few address families, and
    the usual kernel/cgroup/realtime/personality/W^X protections (BLE over D-Bus needs none)."""
    service = unit_settings(UNIT, "Service")
    expected = {
        "UMask": "0077",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "PrivateTmp": "yes",
        "ProtectHome": "yes",
        "PrivateDevices": "yes",
        "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes",
        "ProtectControlGroups": "yes",
        "RestrictRealtime": "yes",
        "RestrictSUIDSGID": "yes",
        "LockPersonality": "yes",
        "MemoryDenyWriteExecute": "yes",
        "CapabilityBoundingSet": "",
        "StateDirectoryMode": "0700",
    }
    assert {key: service.get(key, [None])[-1] for key in expected} == expected
    families = service["RestrictAddressFamilies"][-1].split()
    assert sorted(families) == ["AF_BLUETOOTH", "AF_INET", "AF_INET6", "AF_UNIX"]


def test_unit_writes_only_where_vagus_keeps_state() -> None:
    """The one writable path holds the working directory and ``XDG_STATE_HOME`` (so the state
    dir, journal, baselines and InfluxDB spool), and it is not under /home (ProtectHome)."""
    service = unit_settings(UNIT, "Service")
    (writable,) = service["ReadWritePaths"]
    state_home = dict(v.split("=", 1) for v in service["Environment"])["XDG_STATE_HOME"]
    top = PurePosixPath(writable)
    for path in (service["WorkingDirectory"][-1], state_home):
        assert PurePosixPath(path) == top or top in PurePosixPath(path).parents, path
    assert service["StateDirectory"] == [top.name]
    assert top.parent == PurePosixPath("/var/lib")
    assert not str(top).startswith(("/home", "/root", "/run/user"))


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_rates_the_unit_ok() -> None:
    """``systemd-analyze security --offline`` rates the unit's exposure at most 2.0 ("OK")."""
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--threshold=20", str(UNIT)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-300:] + result.stderr[-300:]
