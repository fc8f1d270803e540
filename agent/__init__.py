"""The LangGraph agent: Ava and the four mentors, their tools, and the offline model."""
