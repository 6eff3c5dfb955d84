from __future__ import annotations

from types import SimpleNamespace

from e2e_shared.bench import critical_path, write_section


def _job(phase, seconds):
    return SimpleNamespace(phase=SimpleNamespace(name=phase), duration=seconds)


def test_critical_path_takes_the_slowest_suite_of_parallel_phases_and_the_longest_chain():
    jobs = [_job("health", 2), _job("smoke", 5), _job("smoke", 8), _job("flows", 20),
            _job("integrity", 4), _job("resilience", 3), _job("resilience", 6)]
    order = ["health", "smoke", "flows", "integrity", "resilience"]
    needs = {"health": (), "smoke": ("health",), "flows": ("smoke",), "integrity": ("smoke",),
             "resilience": ("flows", "integrity")}
    parallel = {"health": False, "smoke": True, "flows": True, "integrity": True, "resilience": False}
    # health 2 + smoke max(5, 8) + max(flows 20, integrity 4) + resilience 3 + 6 (serial)
    assert critical_path(jobs, order, needs, parallel) == 2 + 8 + 20 + 9


def test_write_section_replaces_only_its_own_section(tmp_path):
    write_section(tmp_path, "a", "first A")
    write_section(tmp_path, "b", "only B")
    write_section(tmp_path, "a", "second A")
    text = (tmp_path / "docs" / "benchmarks.md").read_text()
    assert "second A" in text and "first A" not in text and "only B" in text
    assert text.count("bench:a:begin") == 1


def test_proxy_cost_interleaves_the_two_paths_and_gives_medians_and_their_ratio():
    from e2e_shared.bench import proxy_cost

    calls: list[str] = []
    out = proxy_cost(lambda: calls.append("d"), lambda: calls.append("p"), requests_each=3)
    assert calls == ["d", "p"] * 3
    assert out["direct"] > 0 and out["proxied"] > 0
    assert out["ratio"] == out["proxied"] / out["direct"]
