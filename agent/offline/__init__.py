"""The offline stand-in for an LLM: what answers when no model is configured.

Everything else in agent/ runs the same with a real model (ChatOpenAI) or with this one; here is
what replaces the model:

- parser.py     free text -> intent, ASIN, persona and deal search filters (rules, no network)
- model.py      OfflineChatModel: a real BaseChatModel that plans the tool call from the parse
                and writes the answer from the tool results
- templates.py  the answers' words, per persona and per tool
- verdicts.py   the mentors' rules of thumb for one deal (Ava's are the deal_advice tool's)

One piece serves both paths: the graph's router reads persona names with `parser.persona_in`.
"""
