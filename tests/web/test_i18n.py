"""Every string a page can show has a Chinese translation (English is the message ids)."""

from __future__ import annotations

from tuangou import wiring
from tuangou.core.errors import DomainError, error_classes
from tuangou.web import i18n


def _error_classes() -> list[type[DomainError]]:
    wiring.load_application()
    return error_classes()


def test_every_message_of_the_pages_has_a_chinese_translation() -> None:
    found = i18n.extract()
    assert len(found) > 30  # the extraction sees the templates and the page code
    missing = i18n.untranslated("zh-CN", [m for _, _, m in found])
    assert not missing, f"untranslated (run scripts/i18n missing): {missing}"


def test_every_refusal_has_a_chinese_message() -> None:
    titles = {cls.title for cls in _error_classes()}
    assert "Sold out" in titles
    missing = i18n.untranslated("zh-CN", sorted(titles))
    assert not missing, f"error titles without a translation (add to errors.po): {missing}"


def test_the_language_comes_from_the_cookie_or_the_browser() -> None:
    assert i18n.pick(None) == "zh-CN"
    assert i18n.pick("en-US,en;q=0.9") == "en"
    assert i18n.pick("zh-TW,zh;q=0.9") == "zh-CN"
    assert i18n.pick("fr-FR") == "zh-CN"
    assert i18n.gettext("zh-CN", "Sold out") == "已售罄"
    assert i18n.gettext("en", "Sold out") == "Sold out"


def test_the_catalogs_never_translate_one_message_two_ways() -> None:
    """Catalogs are merged, so two areas giving one English id two meanings would make one of
    them wrong: an id with two meanings needs two ids."""
    from babel.messages.pofile import read_po

    meanings: dict[str, dict[str, str]] = {}
    for path in i18n.po_files("zh-CN"):
        with path.open("rb") as f:
            for message in read_po(f):
                if message.id and message.string:
                    key = message.id if isinstance(message.id, str) else message.id[0]
                    text = message.string if isinstance(message.string, str) else message.string[0]
                    meanings.setdefault(key, {})[text] = path.name
    assert len(meanings) > 300
    clashes = {k: v for k, v in meanings.items() if len(v) > 1}
    assert not clashes, f"one id, two translations: {clashes}"


def test_every_rule_violation_a_form_can_show_has_a_chinese_message() -> None:
    """The refusals of the rules and services name the field and say what is wrong; a page
    shows that text next to the field, so it needs a translation too."""
    import re
    from pathlib import Path

    import tuangou

    raised = re.compile(
        r'(?:RuleViolation\(\s*"[a-z_.]+",\s*|(?:Invalid\w*|_invalid)\(\s*)"([^"{}]+)"'
    )
    found: set[str] = set()
    for path in Path(tuangou.__file__).parent.rglob("*.py"):
        found.update(raised.findall(path.read_text(encoding="utf-8")))
    assert "a team needs at least 2 members" in found
    missing = i18n.untranslated("zh-CN", sorted(found))
    assert not missing, f"refusal texts without a translation (add to errors.po): {missing}"


def test_lists_in_a_sentence_use_the_language_s_own_separator() -> None:
    from tuangou.web import templating

    listing = (
        "{% for x in ['苹果', '梨'] %}{{ x }}{% if not loop.last %}{{ sep }}{% endif %}{% endfor %}"
    )
    assert templating.environment("zh-CN").from_string(listing).render() == "苹果、梨"
    assert templating.environment("en").from_string(listing).render() == "苹果, 梨"
    # No template writes the Chinese separator where an English page would show it too.
    pages = templating.TEMPLATE_DIR.rglob("*.html")
    literal = [p.name for p in pages if "、" in p.read_text(encoding="utf-8")]
    assert literal == []
