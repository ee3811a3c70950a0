"""The fleet playbook (deploy/ansible/) does what deploy/install.sh does: the same packages,
groups, user, paths, modes and files (both parsed, compared), it is valid Ansible
(``ansible-playbook --syntax-check`` where ansible-core is installed: the ``fleet`` extra), and
its example config template renders to a config that loads."""

from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from exhibit.config.load import load

yaml = pytest.importorskip("yaml", reason="PyYAML (the dev extra) reads the playbook")

ROOT = Path(__file__).resolve().parent.parent
INSTALL = ROOT / "deploy" / "install.sh"
ANSIBLE = ROOT / "deploy" / "ansible"
PLAYBOOK = ANSIBLE / "playbook.yml"
INVENTORY = ANSIBLE / "inventory.example.ini"


def install_sh() -> str:
    return INSTALL.read_text(encoding="utf-8")


def shell_array(name: str) -> list[str]:
    """A ``readonly NAME=(...)`` array of install.sh, as bash would split it."""
    match = re.search(rf"^readonly {name}=\(([^)]*)\)", install_sh(), re.MULTILINE)
    assert match, name
    return shlex.split(match.group(1))


def shell_value(name: str) -> str:
    """A ``readonly NAME=...`` path of install.sh, without its ``$ROOT`` prefix."""
    match = re.search(rf'^readonly {name}="?\$ROOT([^"\n]*)"?$', install_sh(), re.MULTILINE)
    if match is None:  # defined from another one: readonly VENV="$OPT_DIR/venv"
        match = re.search(rf'^readonly {name}="\$(\w+)(/[^"]*)"$', install_sh(), re.MULTILINE)
        assert match, name
        return shell_value(match.group(1)) + match.group(2)
    return match.group(1)


def play() -> dict[str, Any]:
    plays = yaml.safe_load(PLAYBOOK.read_text(encoding="utf-8"))
    assert isinstance(plays, list) and len(plays) == 1
    result: dict[str, Any] = plays[0]
    return result


def tasks(module: str) -> list[dict[str, Any]]:
    """The play's tasks (and handlers) that use ``module``, each as its arguments."""
    found = []
    for task in play()["tasks"] + play()["handlers"]:
        if module in task:
            args = task[module]
            found.append(args if isinstance(args, dict) else {"_raw": args, **task})
    return found


def test_the_same_packages_groups_and_user() -> None:
    variables = play()["vars"]
    assert variables["exhibit_apt_packages"] == shell_array("APT_PACKAGES")
    assert variables["exhibit_apt_optional"] == shell_array("APT_OPTIONAL")
    assert variables["exhibit_groups"] == shell_array("SERVICE_GROUPS")
    assert re.search(r"^readonly SERVICE_USER=exhibit$", install_sh(), re.MULTILINE)
    assert variables["exhibit_user"] == "exhibit"
    (user,) = tasks("ansible.builtin.user")
    assert user["groups"] == "{{ exhibit_groups }}" and user["append"] is True
    assert user["system"] is True and user["create_home"] is False
    useradd = re.search(r"run useradd .*?\"\$SERVICE_USER\"", install_sh(), re.DOTALL)
    assert useradd
    assert f"--home-dir {variables['exhibit_state_dir']}" in useradd.group(0)
    assert f"--shell {user['shell']}" in useradd.group(0)
    assert user["home"] == "{{ exhibit_state_dir }}"
    assert "--user-group" in useradd.group(0) and user["group"] == "{{ exhibit_user }}"


def test_the_same_paths() -> None:
    variables = play()["vars"]
    for var, name in [
        ("exhibit_opt_dir", "OPT_DIR"),
        ("exhibit_venv", "VENV"),
        ("exhibit_etc_dir", "ETC_DIR"),
        ("exhibit_state_dir", "STATE_DIR"),
        ("exhibit_bin_link", "BIN_LINK"),
        ("exhibit_unit", "UNIT"),
        ("exhibit_rule", "RULE"),
    ]:
        assert variables[var] == shell_value(name), var
    # ... and the unit runs what both install
    unit = (ROOT / "deploy" / "exhibit.service").read_text(encoding="utf-8")
    assert f"ExecStart={variables['exhibit_venv']}/bin/exhibit run " in unit
    assert f"{variables['exhibit_etc_dir']}/exhibit.toml" in unit


def test_the_same_folders_modes_and_files() -> None:
    dirs = {t["path"]: t for t in tasks("ansible.builtin.file") if t.get("state") == "directory"}
    assert dirs["{{ exhibit_etc_dir }}"]["mode"] == "0755"
    assert 'run install -d -m 0755 "$ETC_DIR"' in install_sh()
    state = dirs["{{ exhibit_state_dir }}"]
    assert (state["mode"], state["owner"], state["group"]) == (
        "0750",
        "{{ exhibit_user }}",
        "{{ exhibit_user }}",
    )
    assert re.search(r'install -d -m 0750 "\$\{OWN_USER\[@\]\}" "\$STATE_DIR"', install_sh())

    copies = {t["dest"]: t for t in tasks("ansible.builtin.copy") if "src" in t}
    assert copies["{{ exhibit_unit }}"]["src"] == "{{ src_dir }}/deploy/exhibit.service"
    rule = copies["{{ exhibit_rule }}"]
    assert rule["src"] == "{{ src_dir }}/deploy/99-exhibit-bridge.rules"
    assert 'install_file "$UNIT_SOURCE" "$UNIT" 0644' in install_sh()
    assert 'install_file "$RULE_SOURCE" "$RULE" 0644' in install_sh()
    assert copies["{{ exhibit_unit }}"]["mode"] == rule["mode"] == "0644"
    demo = copies["{{ exhibit_etc_dir }}/exhibit.toml"]
    assert demo["force"] is False  # like install.sh: the designer's config is never overwritten

    (link,) = [t for t in tasks("ansible.builtin.file") if t.get("state") == "link"]
    assert link["src"] == "{{ exhibit_venv }}/bin/exhibit"
    assert "ln -sfn /opt/exhibit/venv/bin/exhibit" in install_sh()


def test_the_same_pip_install_and_the_same_staleness_check() -> None:
    text = PLAYBOOK.read_text(encoding="utf-8")
    pip = re.search(r'run "\$VENV/bin/pip" install (.*?) "\$SOURCE_DIR"\n', install_sh(), re.DOTALL)
    assert pip
    options = [o for o in shlex.split(pip.group(1).replace("\\\n", " ")) if o.startswith("--")]
    assert options == [
        "--quiet",
        "--upgrade",
        "--no-cache-dir",
        "--root-user-action=ignore",
        "--constraint",
    ]
    for option in options:
        assert option in text
    assert "install.sh --source-hash" in text  # the venv is rebuilt on the same condition
    assert "python3 -m venv --system-site-packages" in text
    assert "python3 -m venv --system-site-packages" in install_sh()


def test_the_service_is_enabled_started_and_restarted_on_change() -> None:
    services = tasks("ansible.builtin.systemd_service")
    assert {"name": "exhibit.service", "enabled": True} in services
    states = {t.get("state") for t in services}
    assert states == {None, "started", "restarted", "reloaded"}
    notified = {t.get("notify") for t in play()["tasks"]}
    assert {"Restart exhibit", "Reload exhibit", "Reload udev"} <= notified
    assert {h["name"] for h in play()["handlers"]} == {
        "Restart exhibit",
        "Reload exhibit",
        "Reload udev",
    }


def inventory_hosts() -> dict[str, dict[str, str]]:
    parser = configparser.ConfigParser(allow_no_value=True, delimiters=("\0",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(INVENTORY, encoding="utf-8")
    hosts = {}
    for line in parser["exhibits"]:
        name, *assignments = shlex.split(line)
        hosts[name] = dict(a.split("=", 1) for a in assignments)
    return hosts


def test_the_example_inventory_lists_exhibits_with_their_config_and_name() -> None:
    hosts = inventory_hosts()
    assert len(hosts) >= 3
    with_config = [h for h in hosts.values() if "exhibit_config" in h]
    assert len(with_config) >= 2
    for variables in with_config:
        assert (ANSIBLE / variables["exhibit_config"]).is_file()
        assert variables["exhibit_name"]


def test_the_example_config_template_renders_to_a_config_that_loads(tmp_path: Path) -> None:
    jinja2 = pytest.importorskip("jinja2", reason="Jinja2 (with ansible-core) renders templates")
    (tmp_path / "sounds").symlink_to(ROOT / "media" / "demo" / "sounds")
    for host, variables in inventory_hosts().items():
        if "exhibit_config" not in variables:
            continue
        template = jinja2.Template(
            (ANSIBLE / variables["exhibit_config"]).read_text(encoding="utf-8"),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
        path = tmp_path / "exhibit.toml"
        path.write_text(template.render(**variables), encoding="utf-8")
        config = load(path)
        assert config.name == variables["exhibit_name"], host
        assert config.targets["projector"].url.startswith(f"udp://{variables['projector_host']}:")
        assert config.status.enabled and config.status.port == 9180


def ansible_playbook() -> str | None:
    beside = Path(sys.executable).parent / "ansible-playbook"
    return str(beside) if beside.exists() else shutil.which("ansible-playbook")


@pytest.mark.skipif(
    ansible_playbook() is None,
    reason="ansible-core is not installed (pip install -c constraints.txt -e '.[fleet]')",
)
def test_ansible_accepts_the_playbook(tmp_path: Path) -> None:
    command = ansible_playbook()
    assert command is not None
    env = dict(os.environ, ANSIBLE_HOME=str(tmp_path), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    done = subprocess.run(
        [command, "-i", str(INVENTORY), "--syntax-check", str(PLAYBOOK)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "playbook: " in done.stdout
    assert "WARNING" not in done.stderr, done.stderr
    listed = subprocess.run(
        [command, "-i", str(INVENTORY), "--list-hosts", str(PLAYBOOK)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert listed.returncode == 0, listed.stderr
    for host in inventory_hosts():
        assert host in listed.stdout
