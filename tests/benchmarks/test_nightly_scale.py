"""benchmarks/nightly_scale.py, run as a user runs it: the figures it prints are complete."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingestion.settings import REPO_ROOT

SCRIPT = REPO_ROOT / "benchmarks" / "nightly_scale.py"
SOURCES = ("x", "meta", "mastodon", "inbox", "crm")


def project_models() -> set[str]:
    manifest = json.loads((REPO_ROOT / "dbt_project" / "target" / "manifest.json").read_text())
    return {n["name"] for n in manifest["nodes"].values()
            if n["resource_type"] == "model" and n["package_name"] == "rapport"
            and n["config"].get("enabled", True)}


@pytest.fixture(scope="module")
def benchmark(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str, Path]:
    """One run at 2,000 interactions with one held-back day played as a second night."""
    out = tmp_path_factory.mktemp("scale")
    figures = out / "figures.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--interactions", "2000", "--nights", "1",
         "--out", str(out), "--json", str(figures)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(figures.read_text()), done.stdout, out


def test_full_night_is_measured_per_phase_and_per_dbt_model(benchmark) -> None:
    result, printed, out = benchmark
    full = result["nights"][0]
    assert full["label"] == "full" and full["wall_s"] > 0 and full["cpu_s"] > 0
    # the whole process tree was sampled: more than the CLI alone, less than the machine
    assert 100 < full["peak_rss_mib"] < psutil_total_mib()
    assert full["cpu_s"] <= full["wall_s"] * os.cpu_count() * 1.2
    phases = {p["phase"]: p for p in full["phases"]}
    assert {f"ingestion {s}" for s in SOURCES} | {"checks", "dbt build", "publish"} <= set(phases)
    assert abs(sum(p["wall_s"] for p in phases.values()) - full["wall_s"]) < 1.0
    for step in full["steps"]:
        assert step["wall_s"] > 0 and step["cpu_s"] >= 0 and step["peak_rss_mib"] > 0
    models = {m["model"]: m["seconds"] for m in full["dbt_models"] if m["kind"] == "model"}
    assert set(models) == project_models()
    assert all(seconds > 0 for seconds in models.values())
    assert "int_message_sentiment" in printed and "dbt build" in printed
    # its own warehouse, Dagster home and serving folder, inside --out
    run_dir = next(out.glob("run-n2000-*"))
    assert (run_dir / "warehouse" / "rapport.duckdb").is_file()
    assert (run_dir / "serving").is_dir() and (run_dir / "dagster_home").is_dir()


def test_floor_steps_and_ratios_come_from_the_measured_figures(benchmark) -> None:
    result, printed, _ = benchmark
    floor = result["floor"]
    expected = sorted(p.stem for p in (REPO_ROOT / "benchmarks" / "floor").glob("*.sql"))
    assert [s["step"] for s in floor["steps"]] == expected
    assert all(s["wall_s"] > 0 for s in floor["steps"])
    assert floor["rows"]["messages"] > 1000 and floor["rows"]["conversations"] > 100
    assert floor["rows"]["response_daily"] > 0 and floor["rows"]["mrm_daily"] > 0
    assert floor["vader"]["texts"] > 1000 and floor["vader"]["cpu_s"] > 0
    assert floor["wall_s"] == pytest.approx(
        sum(s["wall_s"] for s in floor["steps"]) + floor["vader"]["wall_s"])
    full = result["nights"][0]
    dbt = next(p for p in full["phases"] if p["phase"] == "dbt build")
    ratios = result["ratios"]
    assert ratios["dbt_build_over_floor"] == pytest.approx(dbt["wall_s"] / floor["wall_s"])
    assert ratios["night_over_floor"] == pytest.approx(full["wall_s"] / floor["wall_s"])
    assert f"dbt build / floor {ratios['dbt_build_over_floor']:.1f}x" in printed


def test_one_day_night_is_measured_against_the_full_night(benchmark) -> None:
    result, printed, _ = benchmark
    full, night = result["nights"]
    assert night["label"] == "night 1" and night["released_from"] == "2026-10-30"
    assert night["relative_to_full"]["wall"] == pytest.approx(night["wall_s"] / full["wall_s"])
    assert night["relative_to_full"]["cpu"] == pytest.approx(night["cpu_s"] / full["cpu_s"])
    assert {p["phase"] for p in night["phases"]} >= {"dbt build", "ingestion x"}
    assert "night 1 (one new day from 2026-10-30)" in printed
    machine = result["machine"]
    assert machine["cores"] == os.cpu_count() and machine["duckdb"]
    assert result["data"]["interactions"] >= 2000


def psutil_total_mib() -> float:
    import psutil

    return psutil.virtual_memory().total / 2**20
