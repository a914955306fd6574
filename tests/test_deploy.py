"""deploy/caucus-bot.service: a unit systemd accepts, and hardened."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "deploy" / "caucus-bot.service"
INSTALLED = "/opt/caucus-bot/venv"  # where the unit expects the program


def settings() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_the_unit_is_hardened_and_restarts_on_failure():
    unit = settings()
    for key, value in {"DynamicUser": "yes", "ProtectSystem": "strict", "NoNewPrivileges": "yes",
                       "StateDirectory": "caucus-bot", "Restart": "on-failure",
                       "PrivateTmp": "yes", "ProtectHome": "yes", "CapabilityBoundingSet": ""
                       }.items():
        assert unit.get(key) == [value], key
    assert unit["ExecStart"] == [f"{INSTALLED}/bin/caucus-bot run --config "
                                 "/etc/caucus-bot/config.toml"]


@pytest.fixture
def installed_unit(tmp_path: Path) -> Path:
    """The unit as installed here: its program is this checkout's (systemd checks it exists)."""
    venv = Path(sys.executable).parent.parent
    if not (venv / "bin" / "caucus-bot").exists():
        pytest.skip("caucus-bot is not installed next to this Python")
    path = tmp_path / "caucus-bot.service"
    path.write_text(UNIT.read_text().replace(INSTALLED, str(venv)))
    return path


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed here (Debian: systemd)")
def test_systemd_analyze_verifies_the_unit_without_a_word(installed_unit: Path):
    done = subprocess.run(["systemd-analyze", "verify", str(installed_unit)],
                          capture_output=True, text=True)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed here (Debian: systemd)")
def test_systemd_rates_the_unit_well_protected(installed_unit: Path):
    done = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(installed_unit)],
                          capture_output=True, text=True)
    if "--offline" in done.stderr and done.returncode != 0:
        pytest.skip("this systemd-analyze cannot rate a unit file offline")
    level = re.search(r"Overall exposure level for \S+: ([\d.]+)", done.stdout)
    assert level is not None, done.stdout[-500:] + done.stderr
    assert float(level.group(1)) <= 2.0  # systemd's "OK" band; a bare unit scores 9.6
