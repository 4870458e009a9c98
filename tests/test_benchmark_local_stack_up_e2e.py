"""The engine's benchmark (`benchmarks.local_stack_up`) in its short mode: two operators, one
parallelism setting. Only the engine shows it: the benchmark times real `up` and `destroy` runs."""

from __future__ import annotations

from tests.test_benchmarks import ENGINE_BENCHMARK, RATIO, bench_modules, run_short


def test_the_engine_benchmark_runs_in_its_short_mode_to_its_ratio() -> None:
    assert ENGINE_BENCHMARK in bench_modules()
    result = run_short(ENGINE_BENCHMARK)
    assert result.returncode == 0, result.stderr[-3000:]
    assert RATIO.search(result.stdout), result.stdout
