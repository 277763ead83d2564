"""The notices' words: both languages for every notice, fixed fields (a missing one is an error when
rendering), one-line subjects, and SMS texts cut safely to 140 (zh) / 160 (en) characters."""

# The Chinese texts use full-width punctuation: correct typography there, not a confusable character.
# ruff: noqa: RUF001
from __future__ import annotations

import string
from datetime import UTC, datetime

import pytest

from dispatch.notifications.templates import (
    ELLIPSIS,
    SMS_LIMITS,
    TEMPLATES,
    Language,
    MissingField,
    Notice,
    TemplateError,
    fields_of,
    render,
    truncate,
)

ACK_BY = datetime(2026, 11, 27, 3, 30, tzinfo=UTC)  # 11:30 in Shanghai
FIELDS: dict[str, object] = {
    "case_number": "2026-000123", "title": "Core switch down in building A", "tier": "P2",
    "acknowledge_by": ACK_BY, "minutes": 30, "engineer": "Wang Wei", "replaced": False, "level": "L2",
    "reason": "not_resolved", "reasons": ["no engineer with skill huawei", "nobody on shift in north"],
    "required": 4, "short": 2, "lead": "Wang Wei",
}


@pytest.mark.parametrize("notice", list(Notice))
def test_every_notice_speaks_both_languages_with_the_same_fields(notice: Notice) -> None:
    words = TEMPLATES[notice].words
    assert set(words) == set(Language)
    names = [{name for part in (w.subject, w.body, w.text) for _, name, _, _ in string.Formatter().parse(part)
              if name} for w in words.values()]
    assert names[0] == names[1] == fields_of(notice)
    for language in Language:
        rendered = render(notice, language, FIELDS)
        assert "2026-000123" in rendered.subject and "2026-000123" in rendered.text
        assert "{" not in rendered.body + rendered.subject + rendered.text


def test_the_assignment_names_the_case_and_the_local_acknowledgement_time() -> None:
    zh = render(Notice.ASSIGNED, Language.ZH, FIELDS)
    assert zh.subject == "【P2】工单 2026-000123 已派给您，请于 2026-11-27 11:30 +08:00 前确认"
    assert "Core switch down in building A" in zh.body
    en = render("assigned", "en", FIELDS)
    assert en.subject == "[P2] Case 2026-000123 assigned to you: acknowledge by 2026-11-27 11:30 +08:00"
    assert en.text.startswith("[P2] Case 2026-000123 is assigned to you.")
    assert render("assigned", "en", FIELDS, zone="Europe/Berlin").subject.endswith("04:30 +01:00")


def test_a_missing_field_is_an_error_when_rendering() -> None:
    fields = {k: v for k, v in FIELDS.items() if k != "acknowledge_by"}
    with pytest.raises(MissingField, match="acknowledge_by"):
        render(Notice.ASSIGNED, Language.EN, fields)
    with pytest.raises(MissingField, match="minutes"):  # None is no value either
        render(Notice.REMINDER, Language.ZH, {**FIELDS, "minutes": None})
    render(Notice.URGENT_ASSIGNED, Language.EN, fields)  # that notice does not need it


def test_fields_a_notice_does_not_use_are_ignored() -> None:
    with_extras = {**FIELDS, "name": "Dispatcher", "extra": object()}
    assert render(Notice.UNASSIGNED, Language.EN, with_extras) == render(Notice.UNASSIGNED, Language.EN, FIELDS)


def test_unknown_notices_languages_and_choices_are_refused() -> None:
    with pytest.raises(TemplateError, match="unknown notice"):
        render("birthday", Language.EN, FIELDS)
    with pytest.raises(TemplateError, match="'fr'"):
        render(Notice.ASSIGNED, "fr", FIELDS)
    with pytest.raises(TemplateError, match="replaced"):
        render(Notice.DISPATCHER_ALERT, Language.EN, {**FIELDS, "replaced": "perhaps"})
    with pytest.raises(TemplateError, match="aware"):
        render(Notice.ASSIGNED, Language.EN, {**FIELDS, "acknowledge_by": datetime(2026, 11, 27, 11, 30)})


def test_the_dispatcher_hears_whether_the_engineer_was_reminded_or_replaced() -> None:
    reminded = render(Notice.DISPATCHER_ALERT, Language.EN, FIELDS)
    assert "Wang Wei has not acknowledged case 2026-000123 (P2) 30 minutes after assignment; the engineer has " \
           "been reminded" in reminded.body
    replaced = render(Notice.DISPATCHER_ALERT, Language.ZH, {**FIELDS, "replaced": True})
    assert "工单已改派给其他工程师" in replaced.text


def test_an_escalation_names_the_level_and_the_reason() -> None:
    en = render(Notice.ESCALATION, Language.EN, {**FIELDS, "tier": "P1", "reason": "not resolved"})
    assert en.subject == "Escalation L2 (technical manager) [P1] Case 2026-000123"
    assert "not diagnosed or resolved in the time allowed" in en.body
    zh = render(Notice.ESCALATION, Language.ZH, {**FIELDS, "reason": "no_status_update", "level": "L5"})
    assert "L5（总经理）" in zh.subject and "工程师未及时更新工单状态" in zh.text
    free = render(Notice.ESCALATION, Language.EN, {**FIELDS, "level": "L7", "reason": "customer complaint"})
    assert "escalated to L7: customer complaint." in free.body


def test_list_fields_are_joined_per_language() -> None:
    assert "no engineer with skill huawei; nobody on shift in north" in render(
        Notice.UNASSIGNED, Language.EN, FIELDS).body
    assert "no engineer with skill huawei；nobody on shift in north" in render(
        Notice.UNASSIGNED, Language.ZH, FIELDS).body


def test_a_title_with_line_breaks_stays_on_one_line() -> None:
    rendered = render(Notice.URGENT_ASSIGNED, Language.EN, {**FIELDS, "title": "Router\r\nBcc: evil@example.com"})
    assert "\n" not in rendered.subject and "\n" not in rendered.text
    assert "Router Bcc: evil@example.com" in rendered.body


@pytest.mark.parametrize("notice", list(Notice))
@pytest.mark.parametrize("language", list(Language))
def test_sms_texts_keep_to_the_limit_and_lose_only_the_end(notice: Notice, language: Language) -> None:
    long_title = "机房核心交换机板卡故障导致全楼断网" * 12 if language is Language.ZH else "Core switch line card " * 10
    text = render(notice, language, {**FIELDS, "title": long_title}).text
    assert len(text) <= SMS_LIMITS[language]
    assert text.endswith(ELLIPSIS)
    assert "2026-000123" in text  # the case number comes first, the title last


def test_short_sms_texts_are_not_touched() -> None:
    text = render(Notice.P1_OPENED, Language.ZH, {**FIELDS, "tier": "P1", "title": "主机宕机"}).text
    assert text == "【重大故障】P1工单2026-000123已创建。主机宕机"


def test_truncation_keeps_whole_characters() -> None:
    assert truncate("a" * 160, 160) == "a" * 160
    assert truncate("a" * 161, 160) == "a" * 159 + ELLIPSIS
    # e + combining acute at the cut: the accent must not be cut from its letter (nor left alone).
    text = "x" * 158 + "e\u0301" + "tail"
    assert truncate(text, 160) == "x" * 158 + ELLIPSIS
    # A family emoji is one sequence of joined code points: never end on a joiner.
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert truncate("y" * 156 + family + "tail", 160) == "y" * 156 + ELLIPSIS
    assert truncate("words and   spaces", 12) == "words and" + ELLIPSIS


def test_the_dispatcher_is_told_when_nobody_else_can_take_the_case() -> None:
    kept = render(Notice.DISPATCHER_ALERT, Language.EN, {**FIELDS, "minutes": 45, "replaced": "kept"})
    assert "nobody else is available, so the engineer keeps the case" in kept.body
    assert "reassigned" not in kept.body
