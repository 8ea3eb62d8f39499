"""Remote HTML as stored: whatever a peer sends, the sanitised result has no script, no
style, no event handler, only allowed tags and link schemes, and every link carries
rel="nofollow noopener"; mentions and hashtags keep the markup clients rely on."""

from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import example, given
from hypothesis import strategies as st

from node.text import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, sanitize_html
from tests.fuzz.conftest import FUZZ

ATTACK_FRAGMENTS = [
    "<script>alert(1)</script>",
    "<style>body{display:none}</style>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="https://ok.example" onclick="steal()" rel="opener" target="_blank">x</a>',
    "<svg><script>alert(1)</script></svg>",
    '<iframe src="https://evil.example"></iframe>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    "<scr<script>ipt>alert(1)</script>",
    "<!--<script>-->alert(1)",
    '<a href="  JaVaScRiPt:alert(1)">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<form action="https://evil.example"><input name=x></form>',
    "<object data=x></object><embed src=x>",
    "<base href=https://evil.example/>",
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    "<p>Hello <b>world</b></p>",
    '<span class="h-card"><a href="https://a.example/@bob" class="u-url mention">'
    "@<span>bob</span></a></span>",
    '<a href="https://a.example/tags/x" class="mention hashtag" rel="tag">#<span>x</span></a>',
    "&lt;script&gt;",
    "<",
    ">",
    '"',
]

html_like = st.lists(
    st.one_of(
        st.sampled_from(ATTACK_FRAGMENTS),
        st.text(max_size=20),
        st.builds(
            lambda tag, attr, value, inner: f'<{tag} {attr}="{value}">{inner}</{tag}>',
            st.sampled_from(["a", "p", "span", "div", "script", "style", "img", "svg", "b"]),
            st.sampled_from(["href", "onload", "onmouseover", "style", "class", "src", "rel"]),
            st.sampled_from(["https://x.example", "javascript:alert(1)", "x", "nofollow"]),
            st.text(max_size=10),
        ),
    ),
    max_size=8,
).map("".join)


class _Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.links: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag {tag}")
        allowed = ALLOWED_ATTRIBUTES.get(tag, set()) | ({"rel"} if tag == "a" else set())
        for name, _value in attrs:
            if name not in allowed or name.startswith("on"):
                self.problems.append(f"attribute {name} on {tag}")
        if tag == "a":
            link = dict(attrs)
            self.links.append(link)
            href = (link.get("href") or "").strip().lower()
            if href and not href.startswith(("http://", "https://", "mailto:")):
                self.problems.append(f"link scheme {href[:20]}")


def _inspect(html: str) -> _Inspector:
    inspector = _Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector


@FUZZ
@given(html_like)
@example("<a href='https://a.example'>x</a>")
def test_sanitised_html_is_safe(content: str) -> None:
    """No script/style/unknown tags, no event handler or style attribute, no javascript:
    links, and every link has rel containing nofollow and noopener."""
    cleaned = sanitize_html(content)
    inspector = _inspect(cleaned)
    assert not inspector.problems, (inspector.problems, cleaned)
    assert "<script" not in cleaned.lower() and "<style" not in cleaned.lower()
    for link in inspector.links:
        rel = (link.get("rel") or "").split()
        assert "nofollow" in rel and "noopener" in rel, cleaned
    assert sanitize_html(cleaned) == cleaned, "sanitising is idempotent"


def test_mentions_and_hashtags_survive() -> None:
    """Mastodon-style mention and hashtag markup keeps its classes and targets."""
    mention = (
        '<p><span class="h-card"><a href="https://a.example/@bob" class="u-url mention">'
        "@<span>bob</span></a></span> hi "
        '<a href="https://a.example/tags/cats" class="mention hashtag" rel="tag">'
        "#<span>cats</span></a></p>"
    )
    cleaned = sanitize_html(mention)
    assert 'class="u-url mention"' in cleaned
    assert 'href="https://a.example/@bob"' in cleaned
    assert 'class="mention hashtag"' in cleaned
    assert "@<span>bob</span>" in cleaned and "#<span>cats</span>" in cleaned
    assert 'rel="nofollow noopener noreferrer"' in cleaned


def test_content_warning_survives_parsing() -> None:
    """A content warning (AS2 ``summary``) reaches the parsed object as plain text, and
    sensitive stays set, whatever the HTML in the content."""
    from federation.vocab import parse_object

    obj = parse_object(
        {
            "type": "Note",
            "id": "https://a.example/n/1",
            "attributedTo": "https://a.example/u/a",
            "summary": "spoilers <b>ahead</b>",
            "sensitive": True,
            "content": "<script>x</script><p>the end</p>",
        }
    )
    assert obj.summary == "spoilers <b>ahead</b>"
    assert obj.sensitive is True
    cleaned = sanitize_html(obj.content or "")
    assert "<p>the end</p>" in cleaned and "script" not in cleaned
