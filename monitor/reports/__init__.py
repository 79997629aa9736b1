"""Reports: the HTML status page, the Markdown report, the README tables and the badge.

They read only from the store (through `monitor.domain.state`), never check a link, and take
`now` as a parameter so the same data renders the same bytes.
"""
