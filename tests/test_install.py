"""deploy/install.sh planned in a prefix (--dry-run), the systemd unit checked by systemd, and
(opt-in: EXHIBIT_CHROOT_TEST=1) the real thing in a clean Debian root (deploy/test-in-chroot.sh).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
INSTALL = REPO / "deploy" / "install.sh"
UNIT = REPO / "deploy" / "exhibit.service"
RULE = REPO / "deploy" / "99-exhibit-bridge.rules"
GROUPS = ("gpio", "video", "dialout", "audio")


def plan(*args: str) -> list[list[str]]:
    """The commands install.sh would run, each split as the shell would."""
    done = subprocess.run(
        ["bash", str(INSTALL), "--dry-run", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return [shlex.split(line[2:]) for line in done.stdout.splitlines() if line.startswith("+ ")]


def find(commands: list[list[str]], *head: str) -> list[list[str]]:
    return [c for c in commands if c[: len(head)] == list(head)]


def installed_tree(root: Path, *, groups_of_user: tuple[str, ...] = GROUPS) -> None:
    """What a finished install leaves under ``root``."""
    etc = root / "etc"
    (etc / "exhibit" / "sounds").mkdir(parents=True)
    (etc / "exhibit" / "exhibit.toml").write_text("# the designer's config\n")
    (root / "var/lib/exhibit").mkdir(parents=True)
    (etc / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/bash\n"
        "exhibit:x:998:998:exhibit controller:/var/lib/exhibit:/usr/sbin/nologin\n"
    )
    lines = ["root:x:0:", "exhibit:x:998:"]
    lines += [
        f"{g}:x:{990 + i}:{'exhibit' if g in groups_of_user else ''}" for i, g in enumerate(GROUPS)
    ]
    (etc / "group").write_text("\n".join(lines) + "\n")
    python = root / "opt/exhibit/venv/bin/python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\n")
    python.chmod(0o755)
    source_hash = subprocess.run(
        ["bash", str(INSTALL), "--source-hash"], capture_output=True, text=True, check=True
    ).stdout.strip()
    (root / "opt/exhibit/venv/.exhibit-source").write_text(source_hash + "\n")
    (root / "usr/local/bin").mkdir(parents=True)
    (root / "usr/local/bin/exhibit").symlink_to("/opt/exhibit/venv/bin/exhibit")
    (etc / "udev/rules.d").mkdir(parents=True)
    shutil.copy(RULE, etc / "udev/rules.d" / RULE.name)
    wants = etc / "systemd/system/multi-user.target.wants"
    wants.mkdir(parents=True)
    shutil.copy(UNIT, etc / "systemd/system/exhibit.service")
    (wants / "exhibit.service").symlink_to("/etc/systemd/system/exhibit.service")


def test_the_script_parses() -> None:
    subprocess.run(["bash", "-n", str(INSTALL)], check=True, timeout=10)


def test_a_fresh_install_plans_user_groups_venv_rule_and_unit(tmp_path: Path) -> None:
    commands = plan("--prefix", str(tmp_path))
    prefix = ["--prefix", str(tmp_path)]
    assert [c[-1] for c in find(commands, "groupadd")] == list(GROUPS)
    assert all(c[1:3] == prefix for c in find(commands, "groupadd"))
    (useradd,) = find(commands, "useradd")
    assert useradd[1:3] == prefix
    assert "--system" in useradd and useradd[-1] == "exhibit"
    assert useradd[useradd.index("--groups") + 1] == "gpio,video,dialout,audio"
    assert useradd[useradd.index("--home-dir") + 1] == "/var/lib/exhibit"
    assert useradd[useradd.index("--shell") + 1] == "/usr/sbin/nologin"

    venv = str(tmp_path / "opt/exhibit/venv")
    assert find(commands, "python3", "-m", "venv")[0][-1] == venv
    (pip,) = find(commands, f"{venv}/bin/pip", "install")
    assert pip[pip.index("--constraint") + 1] == str(REPO / "constraints.txt")
    assert pip[-1] == str(REPO)

    installs = {c[-1]: c[-2] for c in find(commands, "install", "-D")}
    assert installs[str(tmp_path / "etc/systemd/system/exhibit.service")] == str(UNIT)
    assert installs[str(tmp_path / "etc/udev/rules.d/99-exhibit-bridge.rules")] == str(RULE)
    config = [c for c in find(commands, "install") if c[-1].endswith("/etc/exhibit/exhibit.toml")]
    assert config and config[0][-2] == str(REPO / "media/demo/exhibit.toml")
    assert find(commands, "systemctl") == [
        ["systemctl", "--root", str(tmp_path), "enable", "exhibit.service"]
    ]
    # A prefix is not this machine: nothing touches the running system.
    assert not find(commands, "udevadm") and not find(commands, "apt-get")
    assert list(tmp_path.iterdir()) == []  # a dry run writes nothing


def test_a_second_run_plans_no_change(tmp_path: Path) -> None:
    installed_tree(tmp_path)
    assert plan("--prefix", str(tmp_path)) == []


def test_only_what_differs_is_planned(tmp_path: Path) -> None:
    installed_tree(tmp_path, groups_of_user=("gpio", "video", "dialout"))
    (tmp_path / "etc/systemd/system/exhibit.service").write_text("[Service]\n# old\n")
    (tmp_path / "opt/exhibit/venv/.exhibit-source").write_text("an older checkout\n")
    commands = plan("--prefix", str(tmp_path))
    pip = f"{tmp_path}/opt/exhibit/venv/bin/pip"
    assert [c[0] for c in commands] == ["usermod", pip, "echo", "install"]
    usermod = ["usermod", "--prefix", str(tmp_path), "--append", "--groups", "audio", "exhibit"]
    assert commands[0] == usermod
    assert commands[-1][-1] == str(tmp_path / "etc/systemd/system/exhibit.service")
    # the designer's config is never overwritten
    assert (tmp_path / "etc/exhibit/exhibit.toml").read_text() == "# the designer's config\n"


def test_uninstall_keeps_config_and_state_unless_purged(tmp_path: Path) -> None:
    installed_tree(tmp_path)
    commands = plan("--uninstall", "--prefix", str(tmp_path))
    removed = {c[-1] for c in find(commands, "rm")}
    assert removed == {
        str(tmp_path / "etc/systemd/system/exhibit.service"),
        str(tmp_path / "etc/udev/rules.d/99-exhibit-bridge.rules"),
        str(tmp_path / "usr/local/bin/exhibit"),
        str(tmp_path / "opt/exhibit"),
    }
    assert find(commands, "systemctl", "--root", str(tmp_path), "disable", "exhibit.service")
    assert find(commands, "userdel", "--prefix", str(tmp_path), "exhibit")
    assert not find(commands, "groupdel", "--prefix", str(tmp_path), "gpio")

    purged = {c[-1] for c in find(plan("--uninstall", "--purge", "--prefix", str(tmp_path)), "rm")}
    assert purged - removed == {str(tmp_path / "etc/exhibit"), str(tmp_path / "var/lib/exhibit")}


def test_uninstalling_nothing_plans_nothing(tmp_path: Path) -> None:
    assert plan("--uninstall", "--purge", "--prefix", str(tmp_path)) == []


def test_bad_options_are_refused(tmp_path: Path) -> None:
    for args in (["--bogus"], ["--purge"], ["--prefix", str(tmp_path / "absent")]):
        done = subprocess.run(
            ["bash", str(INSTALL), "--dry-run", *args], capture_output=True, text=True, timeout=10
        )
        assert done.returncode == 2, args
        assert done.stdout == ""


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed (not a systemd machine): the unit is not verified",
)
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    # verify also checks that ExecStart exists: point it at a stand-in, change nothing else.
    exhibit = tmp_path / "exhibit"
    exhibit.write_text("#!/bin/sh\n")
    exhibit.chmod(0o755)
    text = UNIT.read_text()
    assert text.count("/opt/exhibit/venv/bin/exhibit ") == 1
    unit = tmp_path / "exhibit.service"
    unit.write_text(text.replace("/opt/exhibit/venv/bin/exhibit ", f"{exhibit} "))
    done = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_the_unit_has_what_the_service_relies_on() -> None:
    lines = {line.strip() for line in UNIT.read_text().splitlines()}
    for setting in (
        "Type=notify",
        "NotifyAccess=main",
        "WatchdogSec=10",
        "Restart=on-failure",
        "ExecStart=/opt/exhibit/venv/bin/exhibit run /etc/exhibit/exhibit.toml",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "User=exhibit",
        "SupplementaryGroups=gpio video dialout audio",
        "DevicePolicy=closed",
        "ProtectSystem=strict",
    ):
        assert setting in lines, setting


@pytest.mark.skipif(
    Path("/etc/systemd/system/exhibit.service").exists()
    or Path("/etc/udev/rules.d/99-exhibit-bridge.rules").exists(),
    reason="the service is installed on this machine: a plan for it would differ",
)
def test_where_systemd_does_not_run_nothing_is_started_only_enabled() -> None:
    def plan_here(booted: str) -> tuple[list[list[str]], str]:
        done = subprocess.run(
            ["bash", str(INSTALL), "--dry-run"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
            env=dict(os.environ, EXHIBIT_ASSUME_BOOTED=booted),
        )
        lines = done.stdout.splitlines()
        return [shlex.split(line[2:]) for line in lines if line.startswith("+ ")], done.stderr

    booted, _ = plan_here("1")
    assert ["systemctl", "daemon-reload"] in booted
    assert ["systemctl", "enable", "exhibit.service"] in booted
    assert ["systemctl", "restart", "exhibit.service"] in booted
    assert find(booted, "udevadm", "control", "--reload-rules")

    chroot, said = plan_here("0")  # a chroot, an image being prepared, a container
    assert find(chroot, "systemctl") == [["systemctl", "enable", "exhibit.service"]]
    assert not find(chroot, "udevadm")
    assert "systemd is not running here" in said and "not started" in said


@pytest.mark.chroot
@pytest.mark.skipif(
    os.environ.get("EXHIBIT_CHROOT_TEST") != "1",
    reason="opt-in (EXHIBIT_CHROOT_TEST=1): minutes, root, debootstrap and the network",
)
@pytest.mark.parametrize("installer", ["install.sh", "ansible"])
def test_a_real_install_in_a_clean_debian_root(tmp_path: Path, installer: str) -> None:
    assert os.geteuid() == 0, "needs root (debootstrap, mount, chroot)"
    assert shutil.which("debootstrap"), "needs debootstrap (apt-get install debootstrap)"
    work = Path(os.environ.get("EXHIBIT_CHROOT_WORKDIR", str(tmp_path)))  # keeps its base root
    option = ["--ansible"] if installer == "ansible" else []
    done = subprocess.run(
        ["bash", str(REPO / "deploy" / "test-in-chroot.sh"), *option, str(work)],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert "all checks passed" in done.stderr
    assert "no path changed" in done.stderr
