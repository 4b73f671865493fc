"""Metrics label squatting: made-up operation names must not take the label slots for good.

`/metrics` labels each operation with its name, which the client writes; the process
keeps at most MAX_OPERATION_NAMES of them. 200 junk names, sent once by anyone, used to
take every slot for the life of the process, so the real operations deployed after that
were all counted as `other`. Now only an operation that ran without error earns a slot,
and a slot unused for LABEL_IDLE_SECONDS (on the server's clock, moved here with
CLOCK_OFFSET_FILE) goes to the next name that earns one. `python server.py` with METRICS=1.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from schema.observe import LABEL_IDLE_SECONDS, MAX_OPERATION_NAMES
from tests.support_processes import api_for, server_process
from tests.test_metrics import METRICS_ON, scrape, value

OPS = "milestones_graphql_operations_total"
MISSING = '{ project(id: "UHJvamVjdDo5OTk5") { id } }'  # anonymous: refused while running


async def _send_all(api: object, documents: list[str]) -> None:
    post = api.post  # type: ignore[attr-defined]
    for start in range(0, len(documents), 20):
        await asyncio.gather(*(post(doc) for doc in documents[start : start + 20]))


async def test_junk_names_earn_no_label_and_idle_labels_are_given_back(tmp_path: Path) -> None:
    clock = tmp_path / "clock-offset"
    clock.write_text("0")
    env = METRICS_ON | {"CLOCK_OFFSET_FILE": str(clock)}
    async with (
        server_process(f"sqlite://{tmp_path / 'db.sqlite3'}", "", tmp_path, env=env) as url,
        api_for(url) as api,
    ):
        # Junk: operations that fail while running, and documents that never validate.
        failing = [f"query Junk{i} {MISSING}" for i in range(MAX_OPERATION_NAMES)]
        invalid = [f"query Bad{i} {{ nothing }}" for i in range(MAX_OPERATION_NAMES)]
        await _send_all(api, failing + invalid)
        user = await api.sign_up("CLIENT")
        await api.data("query Me { me { id } }", token=user.token)
        samples = await scrape(api)
        assert value(samples, OPS, operation="Me", type="query", outcome="ok") == 1
        assert not any("Junk" in str(labels) or "Bad" in str(labels) for _, labels in samples)
        assert value(samples, OPS, operation="other", type="query", outcome="error") >= 200

        # Names that ran without error earn slots, until every slot is taken...
        filler = [f"query Fill{i} {{ __typename }}" for i in range(MAX_OPERATION_NAMES)]
        await _send_all(api, filler)
        await api.post("query Late { __typename }")
        samples = await scrape(api)
        assert value(samples, OPS, operation="Late", type="query", outcome="ok") == 0
        # ... and a slot unused for LABEL_IDLE_SECONDS goes to the next name that earns one.
        clock.write_text(str(LABEL_IDLE_SECONDS + 60))
        await api.post("query Late { __typename }")
        samples = await scrape(api)
        assert value(samples, OPS, operation="Late", type="query", outcome="ok") == 1
        # The least recently used name (Me) made way; its series are gone with it.
        assert value(samples, OPS, operation="Me", type="query", outcome="ok") == 0
        assert value(samples, OPS, operation="Fill0", type="query", outcome="ok") == 1
