"""Past one machine: many lists checked by Celery workers into one PostgreSQL history.

config   the fleet file (which lists, where each publishes, the fleet's politeness)
lists    a list's catalog, from a path or a git clone
shards   every host owned by one shard: a stable hash into N shard queues
work     one shard's work as a message, and running it through the single-process engine
app      the Celery app (broker and settings from the environment) and its one task
dispatch `monitor fleet check`: start a run, send one task per shard, wait, report
"""
