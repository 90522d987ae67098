"""Two ``twin serve`` processes on one broker, each owning a partition of a fleet file."""

from __future__ import annotations

import time

import pytest

from tests.twin.service_support import (
    Client,
    ServeProcess,
    payloads,
    plant_readings,
    publish_all,
    wait_online,
    write_config,
)

pytestmark = pytest.mark.requires_broker


def test_two_processes_with_disjoint_components_process_every_reading_once(mosquitto, tmp_path):
    from sensors.reader import ArchiveReader

    for name in ("header-a", "header-b"):
        write_config(tmp_path, component=name)
    fleet = tmp_path / "fleet.toml"
    fleet.write_text(
        'schema_version = 1\n[[component]]\nconfig = "header-a.toml"\n'
        'partition = "east"\n[[component]]\nconfig = "header-b.toml"\n'
        'partition = "west"\nseed = 1\n'
    )
    common = [
        "--fleet",
        str(fleet),
        "--broker",
        mosquitto.url,
        "--archive",
        str(tmp_path / "a"),
        "--state",
        str(tmp_path / "s"),
    ]
    mon = Client(mosquitto.url, "twin/#")
    started = time.time()
    procs = {
        p: ServeProcess([*common, "--partition", p], tmp_path / f"{p}.log").start()
        for p in ("east", "west")
    }
    try:
        for part, comp in (("east", "header-a"), ("west", "header-b")):
            wait_online(mon, f"twin/plant-1/{comp}/status", after=started, proc=procs[part])
        # a third process given an owned component is refused at start (exit 75, one line)
        third = ServeProcess([*common, "--partition", "east"], tmp_path / "third.log").start()
        assert third.wait(60) == 75
        lines = [ln for ln in third.text().splitlines() if "error" in ln]
        assert len(lines) == 1 and "already written by another" in lines[0], third.text()[-800:]
        readings = {
            c: plant_readings(600, t0=time.time() - 7200, seed=i)
            for i, c in enumerate(("header-a", "header-b"))
        }
        n = {c: r["time"].size for c, r in readings.items()}
        for comp, r in readings.items():
            publish_all(mosquitto.url, payloads(r, component=comp))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            last = {
                c: (mon.json_on(f"twin/plant-1/{c}/state") or [{"readings": -1}])[-1] for c in n
            }
            if all(last[c]["readings"] == n[c] for c in n):
                break
            time.sleep(0.1)
    finally:
        for p in procs.values():
            p.kill(15)
    for p in procs.values():
        assert p.proc.exitcode == 0, p.text()[-1500:]
    for comp in n:
        assert last[comp]["readings"] == n[comp] and last[comp]["archive_offset"] == n[comp]
        rows = ArchiveReader(tmp_path / "a" / "plant-1" / f"{comp}.zarr").read(0)
        assert len(rows) == n[comp]
    # each process published only its own component
    east = [ln for ln in procs["east"].text().splitlines() if "header-b" in ln]
    assert not east
    mon.close()
