"""Backups: one file, made while the app runs, that restores a working app.

`arbitrage backup`, `arbitrage restore` and the nightly beat task (tools/backup/service.py).

What a backup holds, and why:
- the database (deals, users, chat history, knowledge, encrypted SP-API credentials, pipeline
  state): SQLite through its online backup API, PostgreSQL through pg_dump (both one
  consistent snapshot while writers carry on), with every table's row count in the manifest;
- on SQLite, DATA_DIR/checkpoints.db, the agent's LangGraph checkpoints (on PostgreSQL they
  are tables in the same database, so in the dump);
- DATA_DIR/secret.key when the key comes from that file: without it the stored SP-API
  credentials cannot be decrypted. It is a secret, so the backup file is 0600; with SECRET_KEY
  set in the environment the key is not in the backup (keep it with your other secrets);
- DATA_DIR/chat_files: files shown in chat history (charts, deal tables).
Not included: Redis (queued tasks and the token bucket rebuild themselves), logs, session
uploads, the beat schedule.

Restore refuses while the app runs (tools/runstate.py; on PostgreSQL also while any other
client is connected), checks the whole backup before touching anything, saves the current
state first as a `pre-restore` backup, then migrates an older backup to the current schema.
"""
