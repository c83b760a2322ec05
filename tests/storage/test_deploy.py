"""deploy/docker-compose.yml and the Grafana provisioning refer to the same paths and names."""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath
from typing import Any

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
