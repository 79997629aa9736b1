"""Reports: the HTML status page, the Markdown report, the README tables and the badge.

They read a history snapshot (`monitor.domain.snapshot.HistorySnapshot`, loaded by the caller
through the store), never the store itself, never check a link, and take `now` as a parameter
so the same data renders the same bytes.
"""
