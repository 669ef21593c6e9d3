"""The biller's queue: a page of work ordered by rank (deadline urgency, then net value), filtered and
paged through htmx (``/queue/rows`` returns just the table), "next claim", and bulk touches."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from everyclaim.web.data import ORDERS, TIERS, QueueFilter, queue_page
from everyclaim.web.security import User
from everyclaim.web.views import form_day, page
from everyclaim.work import queue as work_queue
from everyclaim.work import routing
from everyclaim.work import touches as work_touches

router = APIRouter(include_in_schema=False)


def queue_filter(queue: str, tier: str, payer: str, search: str, status: str, order: str, page_no: int,
                 mine: str) -> QueueFilter:
    return QueueFilter(queue.strip(), tier, payer.strip(), search.strip(), status, order, page_no, mine == "1")


def _page_data(request: Request, user: User, f: QueueFilter) -> dict[str, object]:
    engine = request.app.state.engine
    with engine.connect() as conn:
        settings = request.app.state.settings
        data = queue_page(conn, user, f, settings.page_size, settings.count_limit)
        # the queues the routing rules send work to (not a GROUP BY over every item on each page view)
        data["queues"] = routing.queue_names(conn)
    return data


@router.get("/queue")
async def queue_view(request: Request, user: User, queue: str = "", tier: str = "", payer: str = "",
                     search: str = "", status: str = "open", order: str = "rank",
                     page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1, mine: str = "",
                     done: str = "") -> Response:
    f = queue_filter(queue, tier, payer, search, status, order, page_no, mine)
    data = await run_in_threadpool(_page_data, request, user, f)
    return page(request, "queue.html", f=f, tiers=TIERS, orders=ORDERS, actions=work_touches.ACTIONS,
                outcomes=work_touches.OUTCOMES, done=done[:80], **data)


@router.get("/queue/rows")
async def queue_rows(request: Request, user: User, queue: str = "", tier: str = "", payer: str = "",
                     search: str = "", status: str = "open", order: str = "rank",
                     page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1, mine: str = "") -> Response:
    """The table alone, for htmx (filters, sorting and paging swap it in place and push the URL)."""
    f = queue_filter(queue, tier, payer, search, status, order, page_no, mine)
    data = await run_in_threadpool(_page_data, request, user, f)
    return page(request, "_queue_rows.html", f=f, **data)


@router.post("/queue/next")
def queue_next(request: Request, user: User, queue: Annotated[str, Form(max_length=64)] = "") -> Response:
    """Claim the best item this user may work and open it (nobody else gets it)."""
    item = work_queue.claim_next(request.app.state.engine, user, queue=queue or None)
    if item is None:
        return RedirectResponse("/queue?done=nothing+left+to+claim", status_code=303)
    return RedirectResponse(f"/claims/{item.pcn}", status_code=303)


@router.post("/queue/bulk")
def queue_bulk(request: Request, user: User, item_id: Annotated[list[int], Form()],
               action: Annotated[str, Form(max_length=32)], outcome: Annotated[str, Form(max_length=32)],
               follow_up_on: Annotated[str, Form(max_length=10)] = "",
               note: Annotated[str, Form(max_length=4000)] = "") -> Response:
    """The same touch on every selected item, all or nothing."""
    with request.app.state.engine.begin() as conn:
        result = work_touches.bulk_touch(conn, user, item_id, action=action, outcome=outcome,
                                         follow_up_on=form_day(follow_up_on, "follow_up_on"), note=note)
    return RedirectResponse(f"/queue?done={result.count}+claims+touched", status_code=303)
