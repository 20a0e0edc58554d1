"""The environment, the CLI, the docs and the compose file agree on every setting."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from edgevoice.cli import _FLAGS, build_parser
from edgevoice.signalling.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
ENV_ALIASES = {"openai_api_key": "OPENAI_API_KEY"}


def test_every_setting_has_a_row_in_the_configuration_table() -> None:
    table = (ROOT / "docs" / "deploy.md").read_text()
    rows = set(re.findall(r"^\| `([A-Z_]+)` \|", table, re.MULTILINE))
    wanted = {ENV_ALIASES.get(name, "EDGEVOICE_" + name.upper()) for name in Settings.model_fields}
    assert wanted - rows == set(), "settings missing from docs/deploy.md"
    assert rows - wanted == set(), "docs/deploy.md lists settings that do not exist"


def test_every_flag_is_a_setting_and_documented_with_its_command() -> None:
    table = (ROOT / "docs" / "deploy.md").read_text()
    for command, names in _FLAGS.items():
        for name in names:
            assert name in Settings.model_fields
            flag = "--" + name.replace("_", "-")
            row = next(line for line in table.splitlines()
                       if line.startswith(f"| `EDGEVOICE_{name.upper()}`"))  # fmt: skip
            assert flag in row, f"{flag} ({command}) missing from its row"
            setting = Settings.model_fields[name]
            choices = getattr(setting.annotation, "__args__", ())
            if setting.annotation in (bool, bool | None):
                argv = [command, flag]
            elif choices and all(isinstance(c, str) for c in choices):
                argv = [command, flag, choices[0]]
            else:
                argv = [command, flag, "1"]
            args = build_parser().parse_args(argv)
            assert args.kind == command and getattr(args, name) is not None


def test_the_compose_file_runs_commands_the_cli_accepts() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    services = compose["services"]
    assert {"redis", "coturn", "signalling", "node-eu", "node-us"} <= set(services)
    regions = set()
    for name in ("signalling", "node-eu", "node-us"):
        command = [
            re.sub(r"\$\{[^}]+\}", "203.0.113.7", part) for part in services[name]["command"]
        ]
        args = build_parser().parse_args(command)
        assert args.kind == command[0]
        if args.kind == "node":
            regions.add(args.region)
            assert args.advertise_url and args.public_ip and args.rtc_ports
    assert regions == {"eu", "us"}
