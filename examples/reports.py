"""A task report: HTML the task builds while it runs, saved as `report.html` next to its outputs."""

import html
from pathlib import Path

import flyte
import flyte.report

env = flyte.TaskEnvironment(name="reports")


@env.task(report=True)
async def inventory(items: dict[str, int]) -> int:
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{count}</td></tr>"
        for name, count in sorted(items.items())
    )
    await flyte.report.log.aio("<h2>Inventory</h2>")
    await flyte.report.log.aio(f"<table><tr><th>item</th><th>count</th></tr>{rows}</table>")
    low = sorted(name for name, count in items.items() if count < 5)
    flyte.report.get_tab("Alerts").log(f"<p>Running low: {', '.join(low) or 'nothing'}</p>")
    return sum(items.values())


if __name__ == "__main__":
    flyte.init_from_config()
    run = flyte.run(inventory, items={"bolts": 120, "nuts": 3, "washers": 48})
    # The root action's report sits beside its outputs in the run's metadata directory.
    report = next(Path(run.url).glob("*/report.html"))
    text = report.read_text()
    print("total items:", run.outputs()[0])
    print("report:", report)
    print("has table:", "<th>item</th>" in text, "| has alerts tab:", "Running low: nuts" in text)
