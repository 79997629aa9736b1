"""What the web checker knows about real sites, as data: each entry names what it works around.

`monitor.checkers.web` holds the logic; this module holds only tables, so a new bot wall or a
new soft-404 phrasing is one line here and one test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# --------------------------------------------------------------------------------------------
# Soft-404 phrases. A page that answers 200 but says it does not exist. Matched against the
# *normalised* <title> and first <h1>: casefolded, accents stripped ("página não encontrada" ->
# "pagina nao encontrada"), whitespace collapsed, and split on the separators sites put between
# the page title and the site name ("Page not found | Example"). A pattern must match a whole
# segment, so "404 tips for designers" or "How to fix HTTP 404 errors" never match: the phrase
# has to *be* the title, not appear in it.
# --------------------------------------------------------------------------------------------
SOFT_404_PATTERNS: tuple[tuple[str, str], ...] = (
    # "404", "Error 404", "404 error", "Erro 404" (pt), "HTTP 404"
    (r"(?:(?:http|error|erro)\s*)?404(?:\s*(?:error|erro))?", "bare 404 / error 404 / erro 404"),
    # "404 Not Found", "404 - Page Not Found", "Error 404: page not found", "404 | Not found"
    (
        r"(?:(?:error|erro)\s*)?404\s*[:.!-]?\s*(?:(?:page|file|document)\s+)?not\s+found",
        "404 not found (nginx, Apache, many CMS themes)",
    ),
    # "Not Found", "Page not found", "File not found", "Document not found" (Apache, WordPress)
    (r"(?:(?:page|file|document|resource|content)\s+)?not\s+found", "generic not found"),
    # "404: This page could not be found" (Next.js default), "This page does not exist"
    (
        r"(?:404\s*[:.!-]?\s*)?this\s+page\s+(?:could\s+not\s+be\s+found|"
        r"(?:does\s+not|doesn'?t|doesn't)\s+exist|(?:is\s+not|isn'?t)\s+available)",
        "Next.js / Instagram-style 'this page doesn't exist'",
    ),
    # "Sorry, this page isn't available." (Facebook, Instagram)
    (
        r"(?:sorry|oops)[,!.]?\s*(?:this|that|the)\s+page\s+(?:is\s+not|isn'?t)\s+available",
        "Meta's 'Sorry, this page isn't available'",
    ),
    # "Oops! That page can't be found." (WordPress themes), "Page cannot be found"
    (
        r"(?:oops[!.]?\s*)?(?:that|this|the)?\s*page\s+(?:can'?t|cannot|could\s*not)\s+be\s+found",
        "WordPress themes' 'That page can't be found'",
    ),
    # "The page you were looking for doesn't exist" (Rails public/404.html)
    (
        r"the\s+page\s+you\s+(?:were|are)\s+looking\s+for\s+(?:does\s+not|doesn'?t)\s+exist",
        "Rails default 404 page",
    ),
    # "410 Gone"
    (r"410\s*[:.!-]?\s*gone", "410 Gone served with status 200"),
    # Portuguese: "Página não encontrada", "Erro 404 - Página não encontrada"
    (
        r"(?:(?:erro\s*)?404\s*[:.!-]?\s*)?(?:a\s+)?pagina\s+nao\s+(?:foi\s+)?encontrada",
        "pt: página não encontrada",
    ),
    # Portuguese: "Página não existe", "Esta página não existe", "Página inexistente"
    (
        r"(?:(?:esta|essa|a)\s+)?pagina\s+(?:nao\s+existe|inexistente)",
        "pt: página não existe / inexistente",
    ),
    # Portuguese: "Conteúdo não encontrado", "Arquivo não encontrado"
    (r"(?:conteudo|arquivo|ficheiro)\s+nao\s+encontrado", "pt: conteúdo não encontrado"),
    # Spanish: "Página no encontrada", "Error 404 - Página no encontrada"
    (
        r"(?:(?:error\s*)?404\s*[:.!-]?\s*)?(?:la\s+)?pagina\s+no\s+(?:fue\s+)?encontrada",
        "es: página no encontrada",
    ),
    # Spanish: "La página no existe", "Esta página no existe", "No se encontró la página"
    (r"(?:(?:esta|la)\s+)?pagina\s+no\s+existe", "es: la página no existe"),
    (
        r"no\s+se\s+(?:encontro|ha\s+encontrado|pudo\s+encontrar)\s+la\s+pagina",
        "es: no se encontró",
    ),
)

# What sites put between a page title and the site name: "Not found | Example", "404 — Blog".
TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:·•»]+\s+|\s*[|·•»]\s*")

# Words in a *catalog* URL's path that mean the page is *about* errors (MDN's "404 Not Found"
# article, a blog post on HTTP status codes): a soft-404 phrase in its title proves nothing.
ABOUT_ERRORS_PATH = re.compile(r"(?:^|[/_.-])(?:404|410|not-?found|http-?status|status-?codes?)\b")

# --------------------------------------------------------------------------------------------
# Redirect targets that say "the page you asked for is gone" when a deep URL lands on them.
# --------------------------------------------------------------------------------------------
# Home pages: the site root and its usual aliases, optionally under a language prefix
# ("/en/", "/pt-br/"), which is where most CMSs send removed pages.
HOME_PATH = re.compile(
    r"/?(?:(?:en|pt|es|fr|de|it|nl|pl|ru|tr|ja|zh|ko|ar|hi|sv|da|fi|no|cs|uk)"
    r"(?:[-_][a-z]{2,4})?/?)?"
    r"(?:(?:index|default|home|inicio|start)(?:\.(?:html?|php|aspx?|jsp))?/?)?",
    re.IGNORECASE,
)
# Generic error pages some servers redirect every missing URL to (then answer 200).
ERROR_PATH = re.compile(
    r".*/(?:404|410|not-?found|page-?not-?found|error|erro|pagina-nao-encontrada)(?:\.html?|\.php)?/?",
    re.IGNORECASE,
)
# Login pages. A login wall (the page exists, you must sign in) carries the way back in its
# query; a bare login page a deep URL was sent to is treated as a soft-404.
LOGIN_PATH = re.compile(
    r".*/(?:log-?in|sign-?in|entrar|auth|sso|account/login|users/sign_in|accounts/login)"
    r"(?:\.(?:html?|php|aspx?|jsp))?/?",
    re.IGNORECASE,
)
# Query parameters login pages use to send you back where you came from.
RETURN_PARAMS = frozenset(
    {
        "next",  # Django, Flask-Login
        "return_to",  # GitHub, Discourse
        "returnto",
        "returnurl",  # ASP.NET
        "return",
        "redirect",
        "redirect_to",  # WordPress wp-login.php
        "redirect_uri",  # OAuth
        "redirecturl",
        "continue",  # Google accounts
        "service",  # CAS
        "destination",  # Drupal
        "url",
        "from",
        "back",
        "origin",
        "target",
        "goto",
    }
)

# --------------------------------------------------------------------------------------------
# Bot walls: answers that mean "the site refused a robot", not "the page is gone". Every
# condition an entry sets must hold. Titles are matched on the raw, casefolded <title>.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BotWall:
    name: str
    # (header name, regex on its value; "" = the header is present)
    header: tuple[str, str] | None = None
    # a second header that must also be present (e.g. Cloudflare's cf-ray)
    also_header: str | None = None
    title: str | None = None  # regex, searched in the casefolded <title>
    body: bytes | None = None  # exact marker, searched in the body
    statuses: frozenset[int] | None = None  # None: any status


BOT_WALLS: tuple[BotWall, ...] = (
    # Cloudflare managed/JS challenge: the explicit header Cloudflare adds to challenge pages.
    BotWall("Cloudflare challenge", header=("cf-mitigated", r"challenge")),
    # Cloudflare interstitial "Just a moment..." (older JS challenge, sometimes status 503/200).
    BotWall("Cloudflare challenge", title=r"^just a moment\.*$", also_header="cf-ray"),
    # Cloudflare block page (WAF rule, IP reputation): "Attention Required! | Cloudflare".
    BotWall("Cloudflare block", title=r"attention required!? \| cloudflare", also_header="cf-ray"),
    # Cloudflare error 1020 "Access denied" page.
    BotWall("Cloudflare block", body=b'id="cf-error-details"', also_header="cf-ray"),
    # DataDome: its captcha page loads from captcha-delivery.com (any status, often 403).
    BotWall("DataDome captcha", body=b"captcha-delivery.com"),
    # DataDome's header on answers it blocked.
    BotWall("DataDome", header=("x-datadome", r""), statuses=frozenset({401, 403, 405, 429})),
    # Akamai Bot Manager / edge block: "Access Denied" page with an edgesuite reference.
    BotWall("Akamai", body=b"errors.edgesuite.net"),
    # Akamai "Access Denied ... Reference #18.xxxx" served by AkamaiGHost.
    BotWall("Akamai", header=("server", r"akamaighost"), title=r"^access denied$"),
    # PerimeterX / HUMAN: the block page embeds its captcha widget.
    BotWall("PerimeterX", body=b"px-captcha"),
    BotWall("PerimeterX", title=r"^access to this page has been denied\.?$"),
    # Sucuri WebSite Firewall: explicit block header, and its block page title.
    BotWall("Sucuri firewall", header=("x-sucuri-block", r"")),
    BotWall("Sucuri firewall", title=r"sucuri website firewall"),
    # Imperva / Incapsula: the incident page.
    BotWall("Imperva Incapsula", body=b"_Incapsula_Resource"),
    # AWS WAF challenge/captcha action (answers 202 or 405 with this header).
    BotWall("AWS WAF", header=("x-amzn-waf-action", r"challenge|captcha")),
    # DDoS-Guard interstitial.
    BotWall("DDoS-Guard", title=r"^ddos-guard$"),
)

# Non-standard statuses that mean "we refuse robots".
BLOCKED_STATUSES: dict[int, str] = {
    401: "HTTP 401 (authentication required)",
    403: "HTTP 403 (forbidden)",
    429: "HTTP 429 (rate limited, still refused after retries)",
    451: "HTTP 451 (unavailable for legal reasons)",
    999: "HTTP 999 (LinkedIn refuses robots)",  # LinkedIn's answer to any non-browser client
}

# --------------------------------------------------------------------------------------------
# Fetch policy
# --------------------------------------------------------------------------------------------
# Paths that clearly name a file that is not HTML: HEAD first (no body to scrape), which
# spares the site a download when HEAD says 2xx. The engine falls back to GET when HEAD is
# refused; any other failing HEAD is confirmed by a capped GET (no verdict from HEAD alone).
NON_HTML_EXTENSIONS: tuple[str, ...] = (
    # documents
    ".pdf", ".epub", ".mobi", ".djvu", ".ps",
    ".doc", ".docx", ".odt", ".rtf", ".ppt", ".pptx", ".odp", ".key",
    ".xls", ".xlsx", ".ods", ".csv",
    # archives and packages
    ".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".gz", ".bz2",
    ".xz", ".7z", ".rar", ".zst", ".whl", ".jar", ".deb", ".rpm", ".dmg", ".exe", ".msi",
    ".apk", ".iso", ".img",
    # images
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".ico", ".bmp", ".tif", ".tiff", ".avif",
    # audio and video
    ".mp3", ".ogg", ".oga", ".wav", ".flac", ".m4a", ".mp4", ".m4v", ".webm", ".mkv", ".mov",
    ".avi", ".ogv",
    # data and models
    ".json", ".parquet", ".h5", ".hdf5", ".npz", ".pt", ".pth", ".onnx", ".safetensors",
)  # fmt: skip

# Content types we parse as HTML; everything else is judged by status alone.
HTML_CONTENT_TYPES = frozenset({"text/html", "application/xhtml+xml"})

# --------------------------------------------------------------------------------------------
# Fragments
# --------------------------------------------------------------------------------------------
# Prefixes sites add to heading ids that a `#fragment` link omits. GitHub renders Markdown
# headings as id="user-content-install" and resolves "#install" with JavaScript.
ANCHOR_ID_PREFIXES: tuple[str, ...] = ("user-content-",)
# Fragments that are not anchors: text fragments (Chrome's "#:~:text="), SPA routes
# ("#/path", "#!/path", hash-bang crawling).
IGNORED_FRAGMENT = re.compile(r"^(?::~:|/|!)")
# Hosts that resolve anchors in JavaScript even on server-rendered pages, so a fragment
# missing from their HTML is a note, never a broken link: GitHub's code view builds line
# anchors (#L10-L20) and loads long discussions (#issuecomment-1) on demand.
JS_ANCHOR_HOSTS = frozenset({"github.com", "gist.github.com"})
# Mount points of single-page apps (React's #root, Vue's #app, Next.js, Nuxt, Gatsby, Svelte
# and Angular starters): an app shell whose mount point holds less text than this is built in
# JavaScript, and a missing fragment there is a note.
APP_SHELL_IDS = frozenset({"root", "app", "__next", "__nuxt", "___gatsby", "svelte", "app-root"})
APP_SHELL_MAX_TEXT = 200

# --------------------------------------------------------------------------------------------
# Charsets
# --------------------------------------------------------------------------------------------
# WHATWG Encoding Standard: browsers decode these labels as windows-1252, and pages rely on it
# (a "latin-1" page with curly quotes in 0x80-0x9F). Python's latin-1 would mangle them.
CHARSET_ALIASES: dict[str, str] = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "windows-1252": "cp1252",
    "iso-8859-9": "cp1254",
    "latin5": "cp1254",
    "tis-620": "cp874",
    "x-sjis": "shift_jis",
    "gb2312": "gb18030",
    "gbk": "gb18030",
}
# Labels we refuse to decode with: UTF-7 is banned by the Encoding Standard (script injection).
REFUSED_CHARSETS = frozenset({"utf-7", "utf7", "unicode-1-1-utf-7"})
# A <meta> read as ASCII cannot truthfully declare UTF-16: the Encoding Standard says UTF-8.
META_UTF16 = re.compile(r"^utf-?16(?:le|be)?$")
