"""[tool.harness] and command-line overrides: defaults, validation, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config import ConfigError, load_settings

pytest_plugins = ["pytester"]


def write(tmp_path: Path, body: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(body)
    return tmp_path


def test_defaults_without_a_table(tmp_path):
    s = load_settings(write(tmp_path, "[project]\nname = 'x'\n"))
    assert s.models == () and s.target == "gemini" and s.gate == "off" and s.alpha == 0.05
    assert s.cassette_dir == tmp_path / "cassettes" and s.retry.attempts == 4
    assert s.gate_underpowered == "warn"
    strict = load_settings(write(tmp_path, '[tool.harness]\ngate_underpowered = "fail"\n'))
    assert strict.gate_underpowered == "fail"


def test_overrides_replace_and_validate(tmp_path):
    s = load_settings(write(tmp_path, '[tool.harness]\nmodels = ["a", "b"]\n'))
    o = s.with_overrides(models=["c", "c", "d"], samples=3, target="sim", gate="only",
                         retries=2, cassette_dir="rec")
    assert o.models == ("c", "d") and o.samples == 3 and o.target == "sim"
    assert o.gate == "only" and o.retry.attempts == 2 and o.cassette_dir == tmp_path / "rec"
    with pytest.raises(ConfigError, match="--samples must be at least 1"):
        s.with_overrides(samples=0)


@pytest.mark.parametrize(("body", "fragments"), [
    ('[tool.harness]\nmodles = ["x"]\n', ["modles", "Valid keys:", "models"]),
    ('[tool.harness]\ntarget = "openai"\n', ["unknown target 'openai'", "gemini, vertex, sim"]),
    ('[tool.harness]\nsamples = 0\n', ["samples", "greater than or equal to 1"]),
    ('[tool.harness]\ngate = "maybe"\n', ["gate"]),
    ('[tool.harness]\ngate_underpowered = "ignore"\n', ["gate_underpowered", "'warn' or 'fail'"]),
    ('[tool.harness.prices]\n"m" = {input = -1, output = 2}\n', ["prices"]),
    ("[tool.harness\n", ["invalid TOML"]),
])
def test_bad_tables_name_the_key_and_the_fix(tmp_path, body, fragments):
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, body))
    message = str(info.value)
    assert "pyproject.toml" in message
    for fragment in fragments:
        assert fragment in message


def test_a_bad_table_stops_pytest_with_a_usage_error(pytester):
    pytester.makefile(".toml", pyproject='[tool.harness]\nmodles = ["x"]\n')
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "harness:" in result.stderr.str() and "modles" in result.stderr.str()
    assert "Traceback" not in result.stderr.str()


def test_no_models_says_where_to_set_them(pytester):
    pytester.makefile(".toml", pyproject="[tool.harness]\n")
    (pytester.path / "x.eval.yaml").write_text("cases:\n  - id: a\n    prompt: hi\n")
    result = pytester.runpytest_subprocess("x.eval.yaml")
    out = result.stdout.str()
    assert "no models to run" in out and "--model NAME" in out and "[tool.harness]" in out


def test_a_baseline_that_is_not_a_model_is_a_usage_error(tmp_path):
    s = load_settings(write(tmp_path, '[tool.harness]\nmodels = ["sim-oracle", "sim-retry"]\n'
                                      'baseline = "sim-oracle"\n'))
    with pytest.raises(ConfigError) as err:
        s.with_overrides(baseline="sim-orcale")
    message = str(err.value)
    assert message.startswith("--baseline: baseline 'sim-orcale' is not one of the models")
    assert "(sim-oracle, sim-retry)" in message and "Did you mean 'sim-oracle'?" in message
    # A baseline given with the models it belongs to is fine.
    assert s.with_overrides(models=["x", "y"], baseline="y").baseline == "y"
    with pytest.raises(ConfigError, match=r"pyproject.toml: \[tool.harness\]: baseline 'b'"):
        load_settings(write(tmp_path, '[tool.harness]\nmodels = ["a"]\nbaseline = "b"\n'))


def test_a_mistyped_baseline_stops_pytest_with_the_models(pytester):
    pytester.makepyprojecttoml('[tool.harness]\nmodels = ["sim-oracle", "sim-retry"]\n'
                               'target = "sim"\n')
    result = pytester.runpytest("--baseline", "sim-orcale", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*baseline 'sim-orcale' is not one of the models this run uses "
                                 "(sim-oracle, sim-retry). Did you mean 'sim-oracle'?*"])


def test_vertex_settings_and_base_url(tmp_path):
    s = load_settings(write(tmp_path, '[tool.harness]\ntarget = "vertex"\nbase_url = "http://gw"\n'
                                      '[tool.harness.vertex]\nproject = "p"\nlocation = "l"\n'))
    assert (s.target, s.vertex.project, s.vertex.location, s.vertex.express) == (
        "vertex", "p", "l", False)
    assert s.base_url == "http://gw" and s.with_overrides(base_url="http://o").base_url == "http://o"
    with pytest.raises(ConfigError, match=r"vertex\.projekt"):
        load_settings(write(tmp_path, '[tool.harness.vertex]\nprojekt = "p"\n'))


def test_gate_underpowered_from_the_command_line(tmp_path):
    s = load_settings(write(tmp_path, '[tool.harness]\ngate_underpowered = "warn"\n'))
    assert s.with_overrides(gate_underpowered="fail").gate_underpowered == "fail"
    with pytest.raises(ConfigError, match="unknown gate_underpowered mode 'never'"):
        s.with_overrides(gate_underpowered="never")
