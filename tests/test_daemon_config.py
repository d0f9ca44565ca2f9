"""The daemon's configuration: the published JSON Schema, the example file, the loader's checks,
and the service files in deploy/ (systemd, launchd)."""

from __future__ import annotations

import configparser
import json
import plistlib
import subprocess
import tomllib
from pathlib import Path

import pytest

from sidecar import config as config_module
from sidecar.config import load
from sidecar.errors import ConfigError

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is installed by make install (test extra)")

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "schemas" / "config.schema.json").read_text())


def _validate(doc: dict) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)


@pytest.mark.parametrize("example", ["sidecar.toml", "docker.toml", "docker-worker.toml"])
def test_example_files_are_valid_for_the_schema_and_the_loader(example, monkeypatch):
    monkeypatch.delenv("SIDECAR_MAX_URL", raising=False)
    monkeypatch.delenv("SIDECAR_DB", raising=False)
    path = ROOT / "deploy" / example
    _validate(tomllib.loads(path.read_text()))
    cfg = load(str(path)).check()
    assert cfg.roots and all(r.path.startswith("/") for r in cfg.roots)


def test_schema_names_exactly_the_keys_the_loader_knows():
    props = SCHEMA["properties"]
    assert set(props) == set(config_module._TOP_KEYS)
    for table, keys in (("scan", config_module._SCAN_KEYS), ("write", config_module._WRITE_KEYS),
                        ("daemon", config_module._DAEMON_KEYS), ("osc", config_module._OSC_KEYS),
                        ("learn", config_module._LEARN_KEYS)):
        assert set(props[table]["properties"]) == set(keys), table
    assert set(props["roots"]["items"]["properties"]) == set(config_module._ROOT_KEYS)


@pytest.mark.parametrize("text, says", [
    ("[daemon]\nstable_second = 1\n", "unknown key daemon.'stable_second'"),
    ("[daemon]\nmax_tries = \"3\"\n", "daemon.max_tries must be an integer"),
    ("[daemon]\nrescan = \"every night\"\n", "daemon.rescan: not a cron expression"),
    ("[daemon]\nrescan = \"0 3 * * * * *\"\n", "daemon.rescan: not a cron expression"),
    ("[daemon]\nlease_seconds = 0\n", "daemon.lease_seconds must be a positive number"),
    ("[osc]\nport = 70000\n", "osc.port must be in 0..65535"),
    ("[learn]\nschedule = \"weekly\"\n", "learn.schedule: not a cron expression"),
    ("[[roots]]\npath = \"/x\"\nobserver = \"fanotify\"\n", "roots[0].observer must be one of auto, native, polling"),
])
def test_bad_daemon_settings_are_refused_naming_the_key(tmp_path, text, says):
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load(str(path)).check()
    assert says in str(err.value) and str(path) in str(err.value)
    with pytest.raises(jsonschema.ValidationError):
        _validate(tomllib.loads(text))


def test_six_field_cron_has_seconds_first():
    trigger = config_module.cron_trigger("*/2 * * * * *")
    fields = {f.name: str(f) for f in trigger.fields}
    assert fields["second"] == "*/2" and fields["minute"] == "*"
    assert {f.name: str(f) for f in config_module.cron_trigger("0 3 * * *").fields}["hour"] == "3"


def test_systemd_unit_runs_the_daemon_and_reloads_with_sighup():
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str
    unit.read_string((ROOT / "deploy" / "sidecar.service").read_text())
    service = unit["Service"]
    assert service["ExecStart"].split()[1:3] == ["daemon", "--config"]
    assert "-HUP" in service["ExecReload"] and service["KillSignal"] == "SIGTERM"
    assert int(service["TimeoutStopSec"]) > 10          # the daemon stops within 10 s
    assert service["RestartPreventExitStatus"] == "2"  # a configuration error is not retried
    assert unit["Install"]["WantedBy"] == "default.target"
    # the database URL and its password come from a file, never from the unit's command line
    assert service["EnvironmentFile"].lstrip("-").endswith("/sidecar.env")
    assert "SIDECAR_DB" not in service["ExecStart"] and "postgresql" not in service["ExecStart"]


def test_launchd_plist_runs_the_daemon():
    plist = plistlib.loads((ROOT / "deploy" / "com.sfxsidecar.daemon.plist").read_bytes())
    assert plist["Label"] == "com.sfxsidecar.daemon"
    shell, flag, script = plist["ProgramArguments"]
    assert (shell, flag) == ("/bin/sh", "-c")
    assert '. "$env"' in script and "sidecar.env" in script          # the environment file, if there is one
    assert 'sidecar" daemon --config' in script and script.split(";")[-1].strip().startswith("exec ")
    assert "postgresql" not in plistlib.dumps(plist).decode()
    assert plist["RunAtLoad"] is True and plist["KeepAlive"] == {"SuccessfulExit": False}
    assert plist["ExitTimeOut"] > 10


def test_launchd_agents_shell_reads_the_environment_file_then_runs_the_daemon(tmp_path):
    """The plist's shell line, run for real with a stand-in `sidecar`: it exports the file's values."""
    plist = plistlib.loads((ROOT / "deploy" / "com.sfxsidecar.daemon.plist").read_bytes())
    home = tmp_path / "home"
    (home / ".config" / "sidecar").mkdir(parents=True)
    (home / ".local" / "bin").mkdir(parents=True)
    (home / ".config" / "sidecar" / "sidecar.env").write_text(
        "SIDECAR_DB=postgresql://editor@db.example/sfx\nPGPASSWORD=s3cret\n")
    fake = home / ".local" / "bin" / "sidecar"
    fake.write_text('#!/bin/sh\necho "$SIDECAR_DB|$PGPASSWORD|$*"\n')
    fake.chmod(0o755)
    done = subprocess.run(plist["ProgramArguments"], env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=30)
    assert done.stdout.strip() == (f"postgresql://editor@db.example/sfx|s3cret|daemon --config "
                                   f"{home}/.config/sidecar/sidecar.toml")
