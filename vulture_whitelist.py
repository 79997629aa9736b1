"""Names vulture (dead-code check in `make lint`) cannot see used, each group with why.

Reviewed by hand: add a name here only when something outside Python's call graph uses it.
A name that is really unused is deleted instead.
"""

# ruff: noqa: B018

_ = object()

# Called by libraries through an interface, never by our code.
_.warning  # yt-dlp's logger interface (checkers/youtube.py): debug, warning, error
_.connect_unix_socket  # httpcore's AsyncNetworkBackend interface (net/guard.py)
_.normalizeLink  # markdown-it-py's hook, set on the parser (sources/extract.py)
_.indent  # tomlkit's trivia, written to lay out the catalog (sources/importer.py)
_.exc_type  # __aexit__'s signature (net/engine.py)
_.tb  # __aexit__'s signature (net/engine.py)
_._root  # Typer's app callback (--version), registered by decorator (cli/app.py)
_.EN  # enum members chosen by value on the command line (cli/init.py)
_.PT_BR

# Pydantic reads these by name (config/catalog.py).
_.model_config
_._url  # field validator
_._accept  # field validator
_._locale  # field validator: a language with a catalog
_._text  # field validators of labels and titles
_._web_probes  # field validator of [engine] network_probes
_._one_source  # model validator of a fleet list (monitor/fleet/config.py)

# Scraped metadata: stored as JSON and shown by templates, read through dataclasses.fields.
_.channel_id
_.author
_.video_id
_.upload_date
_.view_count
_.live_status
_.age_limit
_.video_count
_.provider
_.forks
_.open_issues
_.pushed_at
_.license
_.default_branch
_.primary_language
_.size_bytes

# A column SQLModel writes and reads by name (monitor/store/fleet.py).
_.reported_at

# Part of a fetch's result that tests observe (the HEAD -> GET fallback).
_.fell_back_to_get

# httpcore's HTTP/1.1 connection takes this lock; ours replaces it (monitor/net/transport.py).
_._state_lock

# Fields of the report context read only by the Jinja templates (templates/*.j2).
_.visible_changed  # rows whose changes a README reader sees (templates/status.md.j2)
_.width
_.height
_.ms
_.state_label
_.emoji
_.glyph
_.verified
_.uptime_cells
_.data_note  # "6 dias de dados" under the uptime windows
_.spark
_.moved_to_href
_.todo
_.catalog_rows
_.total_duration
_.known_durations
_.durations_partial
_.generated
_.verdicts
_.kinds
_.state_labels
_.last_run_time
_.verdict_label  # a check's verdict in the page's language (templates/_detail.html.j2)

# The JSON Schema of status.json shipped in the package, for programs (and tests) that validate it.
_.SCHEMA_FILE  # monitor/reports/status_json.py
