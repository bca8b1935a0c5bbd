"""A running watch shift is on no public read, even to someone who learned its id.

Report ids are not secret: every leaf of the transparency log names one. So
the report API, the report page and the evidence bundle of a shift still
running answer 404 until it has ended; its author ends it with the edit key.
"""

from __future__ import annotations

import httpx
from starlette.concurrency import run_in_threadpool

from courtwatch.services import Services
from projections.transparency_log import store
from tests.conftest import wait_until
from tests.web.reports.test_api import recent, submit


async def test_a_running_shift_found_through_the_log_is_not_served_until_it_ends(
    client: httpx.AsyncClient, services: Services
) -> None:
    started = await submit(
        client, {"kind": "watch_shift", "courthouse_code": "BOS", "observed_at": recent(0.5)}
    )
    assert started.status_code == 201, started.text
    shift = started.json()

    # Anyone can list report ids from the log's leaves.
    async def logged() -> bool:
        return (
            await run_in_threadpool(store.publish_checkpoint, services.database, services.settings)
            is not None
            and (await client.get("/api/log/inclusion", params={"leaf": 0})).status_code == 200
        )

    await wait_until(logged, timeout=20, interval=0.2)
    leaf = (await client.get("/api/log/inclusion", params={"leaf": 0})).json()
    assert leaf["report_id"] == shift["id"]

    for path in (
        f"/api/reports/{shift['id']}",
        f"/reports/{shift['id']}",
        f"/reports/{shift['id']}/evidence.zip",
    ):
        answer = await client.get(path)
        assert answer.status_code == 404, (path, answer.status_code)
        assert "BOS" not in answer.text and "observed_at" not in answer.text

    ended = await client.post(
        f"/api/reports/{shift['id']}/end",
        json={"token": shift["author_token"], "ended_at": recent(0.1)},
    )
    assert ended.status_code == 200, ended.text
    shown = await client.get(f"/api/reports/{shift['id']}")
    assert shown.status_code == 200 and shown.json()["courthouse_code"] == "BOS"
    assert (await client.get(f"/reports/{shift['id']}")).status_code == 200
