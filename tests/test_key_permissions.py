"""A service-account key other users of the machine can read is refused (exit 4) with the
exact `chmod 600` to run; running it is the whole fix."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from sheets_health.backends.google_auth import load_credentials
from sheets_health.cli import main
from sheets_health.errors import CredentialsError

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX mode bits only")

ROOT = Path(__file__).resolve().parents[1]


def _key(path: Path, mode: int) -> Path:
    """A parseable key (the example's fields with a real RSA key), stored with ``mode``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    info = json.loads((ROOT / "credentials.example.json").read_text(encoding="utf-8"))
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    info["private_key"] = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    path.write_text(json.dumps(info), encoding="utf-8")
    path.chmod(mode)
    return path


def _config(tmp_path: Path, key: str) -> Path:
    config = tmp_path / "sheets-health.toml"
    config.write_text('[sheet]\nbackend = "google"\nspreadsheet = "1AbCdEfGhIjKlMnOp"\n'
                      f'credentials = "{key}"\napi_url = "http://127.0.0.1:9"\ntimeout = 1\n',
                      encoding="utf-8")
    return config


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_key_readable_by_others_exits_4_with_the_chmod_to_run(tmp_path: Path,
                                                                mode: int) -> None:
    key = _key(tmp_path / "service account.json", mode)  # a space: the command quotes it
    result = CliRunner().invoke(main, ["check", "-c", str(_config(tmp_path, key.name))])
    assert result.exit_code == 4
    assert result.stderr == (
        f"Error: the credentials file {key} is readable by other users of this computer "
        f"(mode {mode:o})\n  Fix: make it private to its owner: chmod 600 '{key}'\n")
    command = result.stderr.split("Fix: make it private to its owner: ")[1].strip()
    subprocess.run(command, shell=True, check=True)
    assert key.stat().st_mode & 0o777 == 0o600
    _creds, email = load_credentials(key)
    assert email is not None and email.endswith(".iam.gserviceaccount.com")


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_a_key_private_to_its_owner_is_accepted(tmp_path: Path, mode: int) -> None:
    _creds, email = load_credentials(_key(tmp_path / "key.json", mode))
    assert email is not None


def test_the_environment_variable_key_is_checked_too(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    key = _key(tmp_path / "key.json", 0o644)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    with pytest.raises(CredentialsError) as raised:
        load_credentials(None)
    assert "(named by GOOGLE_APPLICATION_CREDENTIALS) is readable by other users" in str(
        raised.value)
    assert raised.value.hint == f"make it private to its owner: chmod 600 {key}"


def test_the_readme_chmod_line_runs_verbatim(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [line] = re.findall(r"^\s*\$ (chmod 600 \S+)$", readme, re.M)
    key = _key(tmp_path / "service-account.json", 0o644)
    subprocess.run(line, shell=True, check=True, cwd=tmp_path)
    assert load_credentials(key)[1] is not None
