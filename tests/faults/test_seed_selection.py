"""Which fault runs the suite makes: by default every scenario once and every seed at least
once; the README's opt-in line, every scenario × every seed. Checked by collecting the suite the
way the README runs it (collecting only: running the whole matrix is what the opt-in is for)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections import Counter
from pathlib import Path

from .scenarios import scenarios
from .test_fault_matrix import SEEDS, SEEDS_ENV

ROOT = Path(__file__).resolve().parents[2]


def readme_line() -> list[str]:
    """The README's command for the whole matrix."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    [line] = [ln for ln in text.splitlines() if ln.startswith(f"{SEEDS_ENV}=")]
    return shlex.split(line)


def collected(command: list[str]) -> Counter[tuple[str, int]]:
    """(scenario, seed) of each fault test `command` would run; the env assignments it starts
    with are applied, -n dropped (collection needs no workers)."""
    env = {k: v for k, v in os.environ.items() if k != SEEDS_ENV}
    while "=" in command[0]:
        name, value = command.pop(0).split("=", 1)
        env[name] = value
    assert command[:3] == ["python", "-m", "pytest"]
    args = [a for a in command[3:] if a not in ("-n", "auto")]
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                           "--collect-only", "-q", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    found = re.findall(r"test_scenario\[(.+)-(\d+)\]$", done.stdout, flags=re.MULTILINE)
    return Counter((name, int(seed)) for name, seed in found)


def test_by_default_every_scenario_runs_once_and_every_seed_is_used() -> None:
    runs = collected(["python", "-m", "pytest", "tests/faults/test_fault_matrix.py"])
    assert sorted(name for name, _ in runs.elements()) == sorted(s.name for s in scenarios())
    assert {seed for _, seed in runs} == set(SEEDS)


def test_the_readme_line_runs_every_scenario_with_every_seed() -> None:
    command = readme_line()
    assert command[0] == f"{SEEDS_ENV}=all"
    runs = collected(command)
    assert set(runs) == {(s.name, seed) for s in scenarios() for seed in SEEDS}
    assert set(runs.values()) == {1}
