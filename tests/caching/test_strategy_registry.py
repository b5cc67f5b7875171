"""Every registered strategy is complete, and the CLI's choices and help come from the registry."""

from __future__ import annotations

import pytest

from jitwarm.caches.strategies import (
    BASELINE,
    REGISTRY,
    STRATEGIES,
    Strategy,
    by_name,
    parse_strategies,
    strategies_help,
)


@pytest.mark.parametrize("strategy", REGISTRY, ids=[s.name for s in REGISTRY])
def test_strategy_is_complete(strategy):
    assert strategy.name and strategy.help and by_name(strategy.name) is strategy
    measured_by_runner = strategy.state in ("cold", "cached")
    own_measure = type(strategy).measure is not Strategy.measure
    assert measured_by_runner != own_measure, strategy.name  # exactly one way to measure it
    assert strategy.needs is None or strategy.needs in STRATEGIES
    assert parse_strategies(strategy.name) == [strategy.name]
    assert f"{strategy.name}: {strategy.help}" in strategies_help()


def test_the_baseline_is_registered_first_and_names_are_unique():
    assert REGISTRY[0].name == BASELINE and REGISTRY[0].state == "cold"
    assert len(set(STRATEGIES)) == len(STRATEGIES)


def test_cli_help_lists_every_strategy():
    from typer.testing import CliRunner

    from jitwarm.cli.main import app

    out = CliRunner().invoke(app, ["profile", "--help"], env={"COLUMNS": "400"})
    assert out.exit_code == 0
    text = " ".join(out.output.split())
    for st in REGISTRY:
        assert st.name in text
