"""A thread written and resumed through the chat's data layer (shared by the SQLite unit test
and the PostgreSQL integration test): what a chat turn writes, and what resuming reads back."""

from __future__ import annotations

import uuid
from typing import Any

from tools.settings import Settings

CHART_URL = "data:application/json;base64,eyJkYXRhIjpbXX0="  # {"data":[]}


def http_context() -> None:
    """A Chainlit context outside a socket session, as an HTTP request has (the data layer's
    write queueing reads it); unlike init_http_context it does not look up a data layer."""
    from chainlit.context import ChainlitContext, context_var
    from chainlit.session import HTTPSession

    context_var.set(
        ChainlitContext(
            HTTPSession(id=str(uuid.uuid4()), client_type="webapp", thread_id=str(uuid.uuid4()))
        )
    )


async def write_and_resume(settings: Settings) -> dict[str, Any]:
    """Create a user and a thread with a user message, a tool step (created, then updated),
    an answer, a deal table and a chart; return the thread as a resumed chat reads it."""
    from chainlit.element import CustomElement
    from chainlit.types import Pagination, ThreadFilter
    from chainlit.user import User

    from chat_ui.data_layer import make_data_layer
    from chat_ui.render import PlotlyFigure

    layer = make_data_layer(settings)
    try:
        http_context()
        user = await layer.create_user(User(identifier="seller", metadata={"role": "user"}))
        assert user is not None
        thread_id = str(uuid.uuid4())
        await layer.update_thread(thread_id, name="Best deals", user_id=user.id, tags=["Ava"])
        question, tool, answer = (str(uuid.uuid4()) for _ in range(3))
        base = {"threadId": thread_id, "streaming": False, "metadata": {}}
        await layer.create_step(
            {
                **base,
                "id": question,
                "name": "seller",
                "type": "user_message",
                "output": "Best deals?",
                "createdAt": "2025-01-01T00:00:00Z",
            }
        )
        await layer.create_step(
            {
                **base,
                "id": tool,
                "name": "search_deals",
                "type": "tool",
                "parentId": question,
                "input": '{"limit": 5}',
                "showInput": "json",
                "createdAt": "2025-01-01T00:00:01Z",
            }
        )
        await layer.update_step(
            {
                **base,
                "id": tool,
                "name": "search_deals",
                "type": "tool",
                "parentId": question,
                "output": "5 deals shown",
                "createdAt": "2025-01-01T00:00:01Z",
            }
        )
        await layer.create_step(
            {
                **base,
                "id": answer,
                "name": "Ava",
                "type": "assistant_message",
                "output": "Here are 5 deals.",
                "createdAt": "2025-01-01T00:00:02Z",
            }
        )
        table = CustomElement(
            name="DealTable",
            props={"rows": [{"asin": "B0TEST0001"}]},
            display="inline",
            for_id=answer,
            thread_id=thread_id,
        )
        chart = PlotlyFigure(
            name="price-rank",
            figure={"data": []},
            display="inline",
            for_id=answer,
            thread_id=thread_id,
        )
        await layer.create_element(table)
        await layer.create_element(chart)
        thread = await layer.get_thread(thread_id)  # reads queue behind the writes
        listed = await layer.list_threads(Pagination(first=10), ThreadFilter(userId=user.id))
        assert [t["id"] for t in listed.data] == [thread_id]
        assert thread is not None
        return {"thread": thread, "ids": (question, tool, answer)}
    finally:
        await layer.close()


def check_resumed(out: dict[str, Any]) -> None:
    thread, (question, tool, answer) = out["thread"], out["ids"]
    assert thread["name"] == "Best deals"
    assert thread["userIdentifier"] == "seller"
    assert thread["tags"] == ["Ava"]
    steps = {s["id"]: s for s in thread["steps"]}
    assert [s["id"] for s in thread["steps"]] == [question, tool, answer]
    assert steps[tool]["output"] == "5 deals shown"  # the update landed on the created step
    assert steps[tool]["input"] == '{"limit": 5}'  # and kept what the update did not send
    assert steps[answer]["output"] == "Here are 5 deals."
    elements = {e["name"]: e for e in thread["elements"]}
    assert elements["DealTable"]["props"] == {"rows": [{"asin": "B0TEST0001"}]}
    assert elements["DealTable"]["forId"] == answer
    assert elements["price-rank"]["url"] == CHART_URL
