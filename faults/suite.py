"""One whole fault run: the site up, every configured scenario on it, the verdicts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from faults.config import FaultsConfig
from faults.figures import ScenarioResult
from faults.scenarios import SCENARIO_TITLES, Say, run_scenario
from faults.site import Site, running_site

__all__ = ["report", "run", "say"]


def say(text: str) -> None:
    """Print one line at once (the run is long; its figures show as they come)."""
    print(text, flush=True)


def run(config: FaultsConfig, say: Say = say) -> list[ScenarioResult]:
    """Start the site, run the configured scenarios on it, stop it; their results."""
    started = time.monotonic()
    with running_site(config.workers, keep=config.keep) as site:
        say(
            f"faults: {config.workers} gunicorn workers at {site.url}, their own PostgreSQL "
            f"in {site.data_dir}, ready in {time.monotonic() - started:.1f} s"
        )
        return asyncio.run(_run_all(site, config, say))


async def _run_all(site: Site, config: FaultsConfig, say: Say) -> list[ScenarioResult]:
    results = []
    for name in config.scenarios:
        say(f"\n{name}: {SCENARIO_TITLES[name]}")
        result = await run_scenario(name, site, config, say)
        results.append(result)
        try:
            # The next scenario starts on a whole site, or the run stops here.
            await asyncio.to_thread(site.wait_until_ready, config.workers, 30)
        except RuntimeError as exc:
            result.failures.append(f"the site did not come back afterwards: {exc}")
            break
    return results


def report(results: Sequence[ScenarioResult], seconds: float, say: Say = say) -> bool:
    """Print each scenario's verdict and failures; whether every one passed."""
    say("")
    for result in results:
        say(f"{'PASS' if result.passed else 'FAIL'}  {result.name} ({result.seconds:.1f} s)")
        for failure in result.failures:
            say(f"      {failure}")
    passed = all(result.passed for result in results)
    say(f"\nfaults: {'every requirement met' if passed else 'FAILED'} in {seconds / 60:.1f} min")
    return passed
