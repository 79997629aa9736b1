"""The course checker: HTML fixtures shaped like deeplearning.ai short-course pages, served
from loopback, give the right duration, title, provider, instructors and level."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.checkers.base import CheckContext
from monitor.checkers.course import CourseChecker, course_metadata, parse_duration
from monitor.config.catalog import EngineSettings
from monitor.domain.models import CheckResult, Kind, Resource, Verdict
from monitor.net.engine import HttpEngine
from tests.conftest import FIXTURES, LoopbackServer, Reply

COURSES = FIXTURES / "courses"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT1H16M", 4560),
        ("PT45M", 2700),
        ("PT2M5S", 125),
        ("P0DT1H", 3600),
        ("1 Hour 16 Minutes", 4560),
        ("1 hour", 3600),
        ("2 Hours", 7200),
        ("1h 16min", 4560),
        ("1h16min", 4560),
        ("1h16", 4560),
        ("16 min", 960),
        ("45 mins", 2700),
        ("1.5 hours", 5400),
        ("1 hora e 16 minutos", 4560),
        ("2 horas", 7200),
        ("38 minutos", 2280),
        ("Duration: 1 Hour 38 Minutes", 5880),
        ("Duração: 1h 5min", 3900),
    ],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text", ["", "P", "Beginner", "8 Video Lessons", "5 min read", "1 happy hour", "PTXM", "16"]
)
def test_parse_duration_rejects(text: str) -> None:
    assert parse_duration(text) is None


@given(
    hours=st.integers(min_value=0, max_value=40),
    minutes=st.integers(min_value=0, max_value=59),
    style=st.sampled_from(
        ["{h} Hour {m} Minutes", "{h}h {m}min", "{h} horas e {m} minutos", "PT{h}H{m}M"]
    ),
)
def test_parse_duration_formats_agree(hours: int, minutes: int, style: str) -> None:
    if hours == 0 and minutes == 0:
        return
    assert parse_duration(style.format(h=hours, m=minutes)) == hours * 3600 + minutes * 60


def test_jsonld_course_wins_over_text_and_trailer() -> None:
    html = (COURSES / "jsonld_google-cloud-vertex-ai.html").read_text()
    meta, source = course_metadata(
        html, "https://www.deeplearning.ai/short-courses/google-cloud-vertex-ai/"
    )
    assert meta.duration_s == 4560 and source == "JSON-LD courseWorkload"
    assert meta.title == "Understanding and Applying Text Embeddings"
    assert meta.provider == "DeepLearning.AI"
    assert meta.instructors == ("Nikita Namjoshi", "Andrew Ng")
    assert meta.level == "Beginner"


def test_next_data_course_duration_not_lessons() -> None:
    html = (COURSES / "nextdata_open-source-models-hugging-face.html").read_text()
    meta, source = course_metadata(
        html, "https://www.deeplearning.ai/short-courses/open-source-models-hugging-face/"
    )
    assert meta.duration_s == 4500 and source == "__NEXT_DATA__"
    assert meta.instructors == ("Maria Khalusova", "Marc Sun", "Younes Belkada")
    assert meta.level == "Beginner"
    assert meta.provider == "DeepLearning.AI"  # from the host table: no og:site_name here


def test_next_data_lessons_summed_when_no_total() -> None:
    html = (COURSES / "nextdata_lessons-only.html").read_text()
    meta, source = course_metadata(html, "https://www.deeplearning.ai/short-courses/x/")
    assert meta.duration_s == 180 + 1020 + 900 and source == "__NEXT_DATA__"
    assert meta.level == "Intermediate"


def test_visible_text_only() -> None:
    html = (COURSES / "text_langchain-for-llm-application-development.html").read_text()
    meta, source = course_metadata(html, "https://www.deeplearning.ai/short-courses/langchain/")
    # "5 min read" in a paragraph is not the course duration; the fact list is.
    assert meta.duration_s == 5880 and source == "page text"
    assert meta.title == "LangChain for LLM Application Development"


async def check(
    server: LoopbackServer, path: str, reply: Reply, *, want_metadata: bool = True
) -> CheckResult:
    server.routes[path] = reply
    resource = Resource(id="c", url=server.url(path), kind=Kind.COURSE, section="cursos", label="c")
    async with HttpEngine(EngineSettings(allow_private=True, retries=0)) as http:
        return await CourseChecker().check(
            resource, CheckContext(http=http, want_metadata=want_metadata)
        )


@pytest.mark.parametrize(
    "content_type", ["text/html; charset=ISO-8859-1", "text/html"], ids=["header", "meta-only"]
)
async def test_checker_portuguese_page_in_latin1(server: LoopbackServer, content_type: str) -> None:
    body = (COURSES / "text_pt_curso.html").read_bytes()
    result = await check(server, "/curso/", Reply(200, body, {"Content-Type": content_type}))
    assert result.verdict is Verdict.OK and result.status == 200
    assert result.meta.duration_s == 4560
    assert result.meta.provider == "Escola Exemplo"
    assert result.meta.title == "Introdução aos Embeddings"
    assert result.note == "duration from page text"


def _course_page(facts: str) -> bytes:
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Curso</title></head><body>"
        f"<main><h1>Curso</h1><p>Aprenda a usar embeddings.</p>{facts}</main></body></html>"
    ).encode()


@pytest.mark.parametrize(
    ("facts", "seconds"),
    [
        # the page: one paragraph of "·"-separated facts
        ("<p>Nível: Iniciante · Duração: 55 min · 8 aulas</p>", 55 * 60),
        # Portuguese, label in bold, hours and minutes with spaces
        ("<p>Gratuito · <b>Duração:</b> 1 h 30 min · certificado</p>", 5400),
        # English sentence, no label
        ("<p>This short course takes 1 hour 16 minutes to complete, in 8 lessons.</p>", 4560),
        # English, compact units inside a sentence
        ("<p>Beginner friendly, 1h 16min of video and 7 code examples.</p>", 4560),
        # Spanish
        ("<p>Curso gratuito · Duración: 2 horas y 5 minutos · Nivel básico</p>", 7500),
        ("<p>Este curso dura 45 minutos en total.</p>", 2700),
    ],
)
async def test_duration_in_running_text(server: LoopbackServer, facts: str, seconds: int) -> None:
    result = await check(server, "/curso/", Reply(200, _course_page(facts)))
    assert result.verdict is Verdict.OK
    assert result.meta.duration_s == seconds
    assert result.note == "duration from page text"


@pytest.mark.parametrize(
    "facts",
    [
        "<p>Posted 3 hours ago · 5 min read</p>",
        "<p>Publicado há 2 horas · 4 minutos de leitura</p>",
        "<p>Publicado hace 2 horas.</p><script>var d = 'Duração: 55 min'</script>",
    ],
)
async def test_reading_times_and_ages_are_not_durations(server: LoopbackServer, facts: str) -> None:
    result = await check(server, "/curso/", Reply(200, _course_page(facts)))
    assert result.meta.duration_s is None
    assert result.note == "no duration found on the page"


async def test_checker_fixture_over_http(server: LoopbackServer) -> None:
    body = (COURSES / "nextdata_open-source-models-hugging-face.html").read_bytes()
    result = await check(server, "/short-courses/hf/", Reply(200, body))
    assert result.verdict is Verdict.OK and result.meta.duration_s == 4500
    bare = await check(server, "/short-courses/hf/", Reply(200, body), want_metadata=False)
    assert bare.verdict is Verdict.OK and bare.meta.duration_s is None


@pytest.mark.parametrize(
    ("status", "verdict"),
    [(404, Verdict.BROKEN), (410, Verdict.BROKEN), (403, Verdict.BLOCKED), (503, Verdict.ERROR)],
)
async def test_http_verdicts(server: LoopbackServer, status: int, verdict: Verdict) -> None:
    result = await check(server, "/short-courses/gone/", Reply(status, b"<title>nope</title>"))
    assert result.verdict is verdict
    assert result.meta.title is None


async def test_permanent_redirect_is_moved(server: LoopbackServer) -> None:
    body = (COURSES / "jsonld_google-cloud-vertex-ai.html").read_bytes()
    server.routes["/new/"] = Reply(200, body)
    result = await check(server, "/old/", Reply(301, b"", {"Location": "/new/"}))
    assert result.verdict is Verdict.MOVED and result.moved_to == server.url("/new/")
    assert result.meta.duration_s == 4560


@given(st.text(max_size=60))
def test_parse_duration_never_raises(text: str) -> None:
    seconds = parse_duration(text)
    assert seconds is None or 0 < seconds < 366 * 86400


@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(
                st.sampled_from(["duration", "level", "instructors", "name", "x"]),
                children,
                max_size=4,
            )
        ),
        max_leaves=20,
    )
)
def test_course_metadata_never_raises_on_odd_page_data(props: object) -> None:
    import json

    data = json.dumps({"props": {"pageProps": props}}, allow_nan=True)
    html = f'<html><script id="__NEXT_DATA__" type="application/json">{data}</script></html>'
    course_metadata(html, "https://www.deeplearning.ai/short-courses/x/")
    course_metadata(f'<script type="application/ld+json">{data}</script>', "https://x.org/")
