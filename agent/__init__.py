"""The LangGraph agent: Ava and the four mentors, their tools, and the offline model.

What runs with a real model (and with the offline one):

- context.py     AgentContext: who asks, role, persona, settings (the run context, not state)
- state.py       AgentState: the thread's messages plus this turn's persona, knowledge, steps left
- personas.py    the personas as data: names, aliases, voices, greetings
- prompts.py     the system prompt: voice + house rules + user + retrieved knowledge
- tools.py       the LangChain tools over tools/ and knowledge/
- advice.py      Ava's buy / pass / watch rules behind the deal_advice tool
- graph.py       router -> persona -> tools -> persona, the knowledge approval, checkpointers
- runner.py      one turn: run, stream, resume
- checkpoints.py a thread's checkpoints: its owner, only the latest kept, deletion

offline/ is what replaces the model when none is configured (see offline/__init__.py).
"""
