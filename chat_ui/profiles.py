"""Who a seller can talk to (chat profiles), what to ask first (starters), admin commands.

The profile name is also the persona key handed to the agent, so the UI and the graph agree
on who answers. Admin-only entries are built per user: a regular user's list never holds them.
"""

from __future__ import annotations

from dataclasses import dataclass

import chainlit as cl
from chainlit.config import (
    ChainlitConfigOverrides,
    FeaturesSettings,
    SpontaneousFileUploadFeature,
)
from chainlit.types import CommandDict

DEFAULT_PROFILE = "Ava"


@dataclass(frozen=True)
class Person:
    name: str
    persona: str  # key for the agent (agent/personas.py)
    title: str
    description: str


PEOPLE: tuple[Person, ...] = (
    Person(
        "Ava",
        "ava",
        "Deal analyst",
        "Finds and checks deals with live data: buy / pass / watch with the numbers.",
    ),
    Person(
        "Olyvia",
        "olyvia",
        "the CFO",
        "Conservative: margins and risk first, tells you when a deal is too thin.",
    ),
    Person(
        "Joel",
        "joel",
        "the Flipper",
        "Energetic: velocity and fast turns, spots what sells this week.",
    ),
    Person(
        "Evelyn",
        "evelyn",
        "the Professor",
        "Explains the why: market dynamics, seasonality, the concepts behind a deal.",
    ),
    Person(
        "Errol",
        "errol",
        "the Quant",
        "Numbers first: velocity, price variance, confidence, structured verdicts.",
    ),
)
BY_NAME = {p.name: p for p in PEOPLE}


def persona_for(profile: str | None) -> str:
    """Persona key for a chat profile name (unknown or missing -> Ava)."""
    return BY_NAME.get(profile or DEFAULT_PROFILE, BY_NAME[DEFAULT_PROFILE]).persona


def _starters(person: Person, is_admin: bool) -> list[cl.Starter]:
    common = {
        "Ava": [
            cl.Starter(
                label="Best textbook deals I can sell right now",
                message="Best textbook deals I can sell right now",
                icon="/public/avatars/ava.svg",
            ),
            cl.Starter(label="Is 0131103628 a buy?", message="Is 0131103628 a buy?"),
            cl.Starter(
                label="Deals under $20 with ROI over 50%",
                message="Show deals under $20 with ROI over 50% and rank under 500000",
            ),
            cl.Starter(
                label="What is peaking this month?",
                message="Which deals are in their peak season now?",
            ),
        ],
        "Olyvia": [
            cl.Starter(label="Is this margin safe?", message="Is 0131103628 a safe buy?"),
            cl.Starter(
                label="Low-risk deals", message="Show me low-risk deals with profit over $20"
            ),
        ],
        "Joel": [
            cl.Starter(label="Fast flips today", message="What can I flip fast this week?"),
            cl.Starter(
                label="Rank dropping fast", message="Deals with at least 10 drops in 30 days"
            ),
        ],
        "Evelyn": [
            cl.Starter(
                label="Why do textbooks peak?",
                message="Why do textbook prices peak in August and January?",
            ),
            cl.Starter(label="Explain deal trust", message="What does deal trust tell me?"),
        ],
        "Errol": [
            cl.Starter(label="Quant view of a deal", message="Give me the numbers on 0131103628"),
            cl.Starter(
                label="High-confidence deals",
                message="Deals with deal trust over 70% and ROI over 30%",
            ),
        ],
    }[person.name]
    if is_admin and person.name == "Ava":
        common.append(
            cl.Starter(
                label="Teach a strategy (admin)",
                message="Teach: IF a textbook's rank is above 1M in October "
                "THEN hold it for the January peak instead of passing.",
                command="teach",
            )
        )
    return common


def _no_uploads() -> ChainlitConfigOverrides:
    """Only admins attach files (to teach); for everyone else the paperclip and the drop zone
    are hidden rather than offered and then ignored."""
    return ChainlitConfigOverrides(
        features=FeaturesSettings(
            spontaneous_file_upload=SpontaneousFileUploadFeature(enabled=False)
        )
    )


def chat_profiles(is_admin: bool) -> list[cl.ChatProfile]:
    return [
        cl.ChatProfile(
            name=p.name,
            display_name=f"{p.name}, {p.title}" if p.name != "Ava" else "Ava",
            markdown_description=f"**{p.name}, {p.title}.** {p.description}",
            icon=f"/avatars/{p.name.lower()}",
            default=p.name == DEFAULT_PROFILE,
            starters=_starters(p, is_admin),
            config_overrides=None if is_admin else _no_uploads(),
        )
        for p in PEOPLE
    ]


def admin_commands() -> list[CommandDict]:
    """Commands shown only to admins (Chainlit's command menu in the composer)."""
    return [
        {
            "id": "teach",
            "icon": "graduation-cap",
            "description": "Teach a strategy: paste a URL or text, or attach a .txt/.md/.pdf file",
            "button": True,
            "persistent": False,
            "selected": False,
        },
    ]
