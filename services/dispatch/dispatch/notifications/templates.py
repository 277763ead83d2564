# The Chinese texts use full-width punctuation: correct typography there, not a confusable character.
# ruff: noqa: RUF001
"""The words of every notice, in Chinese and English: an e-mail subject and body, and a short SMS text.

Pure: `render(notice, language, fields)` fills a notice's fixed set of fields with `str.format`. A
field the notice needs but the caller did not give is an error at render time (a notice with a hole
in it must never be sent); fields it does not use are ignored, so a caller may pass one dict of case
facts to every notice. SMS texts are cut to the language's limit at a safe point, and every text
names the case first, so a cut loses the title, never the case number or the action asked for.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, StrEnum
from zoneinfo import ZoneInfo


class Notice(StrEnum):
    ASSIGNED = "assigned"  # to the engineer: you own case X, acknowledge by T
    URGENT_ASSIGNED = "urgent_assigned"  # to the new engineer after a reassignment: respond at once
    REMINDER = "reminder"  # to the engineer: not acknowledged N minutes after assignment
    DISPATCHER_ALERT = "dispatcher_alert"  # to the dispatcher: engineer E has not acknowledged (or was replaced)
    ESCALATION = "escalation"  # to a manager level L1..L5
    UNASSIGNED = "unassigned"  # to the dispatcher: no qualified engineer
    P1_OPENED = "p1_opened"  # to the project manager: a catastrophic case was opened
    VISIT_CREW = "visit_crew"  # to an engineer: join the on-site visit the tier's staffing needs
    STAFFING_SHORT = "staffing_short"  # to the dispatcher: fewer engineers available than the visit needs


class Language(StrEnum):
    ZH = "zh"
    EN = "en"


SMS_LIMITS = {Language.ZH: 140, Language.EN: 160}  # characters of one SMS text
ELLIPSIS = "…"
ZWJ = "\u200d"  # zero-width joiner: glues emoji into one picture


class TemplateError(ValueError):
    """A notice cannot be rendered: unknown notice or language, a missing field, a value not allowed."""


class MissingField(TemplateError):
    pass


@dataclass(frozen=True)
class Rendered:
    subject: str  # e-mail subject, one line
    body: str  # e-mail body
    text: str  # SMS text, within SMS_LIMITS[language]


@dataclass(frozen=True)
class _Words:
    subject: str
    body: str
    text: str


@dataclass(frozen=True)
class _Choice:
    """A field whose value is a code shown as a phrase per language. `strict`: any other value is an
    error; otherwise an unknown value is shown as given (free text)."""

    phrases: Mapping[object, Mapping[Language, str]]
    strict: bool = True


@dataclass(frozen=True)
class _Template:
    words: Mapping[Language, _Words]
    choices: Mapping[str, _Choice] = field(default_factory=dict)

    @property
    def fields(self) -> frozenset[str]:
        names = set()
        for words in self.words.values():
            for pattern in (words.subject, words.body, words.text):
                names |= {name for _, name, _, _ in string.Formatter().parse(pattern) if name}
        return frozenset(names)


_LEVELS = _Choice({
    "L1": {Language.ZH: "L1（响应中心经理）", Language.EN: "L1 (response-centre manager)"},
    "L2": {Language.ZH: "L2（技术经理）", Language.EN: "L2 (technical manager)"},
    "L3": {Language.ZH: "L3（技术中心经理）", Language.EN: "L3 (technical-centre manager)"},
    "L4": {Language.ZH: "L4（集成经理）", Language.EN: "L4 (integration manager)"},
    "L5": {Language.ZH: "L5（总经理）", Language.EN: "L5 (general manager)"},
}, strict=False)  # a policy may define more levels: shown as named
_REASONS = _Choice({
    "not_resolved": {Language.ZH: "未在规定时间内诊断或解决",
                     Language.EN: "not diagnosed or resolved in the time allowed"},
    "no_status_update": {Language.ZH: "工程师未及时更新工单状态",
                         Language.EN: "the engineer did not update the case status in time"},
}, strict=False)  # other reasons arrive as free text
_REPLACED = _Choice({
    False: {Language.ZH: "已提醒该工程师", Language.EN: "the engineer has been reminded"},
    True: {Language.ZH: "工单已改派给其他工程师", Language.EN: "the case has been reassigned to another engineer"},
    "kept": {Language.ZH: "暂无其他可用工程师，工单仍由该工程师处理",
             Language.EN: "nobody else is available, so the engineer keeps the case"},
})

TEMPLATES: dict[Notice, _Template] = {
    Notice.ASSIGNED: _Template({
        Language.ZH: _Words(
            "【{tier}】工单 {case_number} 已派给您，请于 {acknowledge_by} 前确认",
            "您已被指派处理工单 {case_number}（{tier}）：{title}\n\n请于 {acknowledge_by} 前确认接单并联系客户。",
            "【{tier}】工单{case_number}已派给您，请于{acknowledge_by}前确认并联系客户。{title}"),
        Language.EN: _Words(
            "[{tier}] Case {case_number} assigned to you: acknowledge by {acknowledge_by}",
            "You are assigned case {case_number} ({tier}): {title}\n\n"
            "Please acknowledge the assignment and contact the customer by {acknowledge_by}.",
            "[{tier}] Case {case_number} is assigned to you. Acknowledge and contact the customer by "
            "{acknowledge_by}. {title}"),
    }),
    Notice.URGENT_ASSIGNED: _Template({
        Language.ZH: _Words(
            "【紧急】【{tier}】工单 {case_number} 已改派给您，请立即响应",
            "工单 {case_number}（{tier}）因原工程师未及时确认，已改派给您：{title}\n\n请立即确认并联系客户。",
            "【紧急】【{tier}】工单{case_number}已改派给您，请立即确认并联系客户。{title}"),
        Language.EN: _Words(
            "URGENT [{tier}] Case {case_number} reassigned to you: respond now",
            "Case {case_number} ({tier}) has been reassigned to you because it was not acknowledged in time: "
            "{title}\n\nAcknowledge it and contact the customer immediately.",
            "URGENT [{tier}] Case {case_number} reassigned to you. Acknowledge and contact the customer "
            "immediately. {title}"),
    }),
    Notice.REMINDER: _Template({
        Language.ZH: _Words(
            "【提醒】【{tier}】工单 {case_number} 派单已 {minutes} 分钟仍未确认",
            "工单 {case_number}（{tier}）派给您已 {minutes} 分钟，尚未确认：{title}\n\n"
            "请立即确认并联系客户，否则工单将被改派。",
            "【提醒】【{tier}】工单{case_number}派单已{minutes}分钟未确认，请立即确认并联系客户。{title}"),
        Language.EN: _Words(
            "Reminder [{tier}] Case {case_number}: not acknowledged {minutes} min after assignment",
            "Case {case_number} ({tier}) was assigned to you {minutes} minutes ago and is not acknowledged yet: "
            "{title}\n\nAcknowledge it and contact the customer now, or the case will be reassigned.",
            "Reminder [{tier}] Case {case_number}: not acknowledged after {minutes} min. Acknowledge and contact "
            "the customer now. {title}"),
    }),
    Notice.DISPATCHER_ALERT: _Template({
        Language.ZH: _Words(
            "【{tier}】工单 {case_number}：工程师 {engineer} 派单 {minutes} 分钟未确认",
            "工程师 {engineer} 在派单 {minutes} 分钟后仍未确认工单 {case_number}（{tier}），{replaced}。\n\n{title}",
            "【{tier}】工单{case_number}：工程师{engineer}派单{minutes}分钟未确认，{replaced}。{title}"),
        Language.EN: _Words(
            "[{tier}] Case {case_number}: {engineer} has not acknowledged after {minutes} min",
            "Engineer {engineer} has not acknowledged case {case_number} ({tier}) {minutes} minutes after "
            "assignment; {replaced}.\n\n{title}",
            "[{tier}] Case {case_number}: engineer {engineer} has not acknowledged after {minutes} min; "
            "{replaced}. {title}"),
    }, {"replaced": _REPLACED}),
    Notice.ESCALATION: _Template({
        Language.ZH: _Words(
            "【升级 {level}】【{tier}】工单 {case_number}",
            "工单 {case_number}（{tier}）已升级至 {level}：{reason}。\n\n{title}",
            "【升级】【{tier}】工单{case_number}已升级至{level}：{reason}。{title}"),
        Language.EN: _Words(
            "Escalation {level} [{tier}] Case {case_number}",
            "Case {case_number} ({tier}) has been escalated to {level}: {reason}.\n\n{title}",
            "Escalation [{tier}] Case {case_number} escalated to {level}: {reason}. {title}"),
    }, {"level": _LEVELS, "reason": _REASONS}),
    Notice.UNASSIGNED: _Template({
        Language.ZH: _Words(
            "【{tier}】工单 {case_number}：无可派的合格工程师",
            "工单 {case_number}（{tier}）没有可指派的合格工程师：{reasons}。\n\n请手动派单。\n\n{title}",
            "【{tier}】工单{case_number}无可派的合格工程师（{reasons}），请手动派单。{title}"),
        Language.EN: _Words(
            "[{tier}] Case {case_number}: no qualified engineer available",
            "No qualified engineer could be assigned to case {case_number} ({tier}): {reasons}.\n\n"
            "Please assign the case manually.\n\n{title}",
            "[{tier}] Case {case_number}: no qualified engineer available ({reasons}). Please assign it "
            "manually. {title}"),
    }),
    Notice.P1_OPENED: _Template({
        Language.ZH: _Words(
            "【重大故障】工单 {case_number} 已创建",
            "重大故障（{tier}）工单 {case_number} 已创建：{title}",
            "【重大故障】{tier}工单{case_number}已创建。{title}"),
        Language.EN: _Words(
            "CRITICAL case {case_number} opened",
            "A critical ({tier}) case {case_number} has been opened: {title}",
            "CRITICAL {tier} case {case_number} opened. {title}"),
    }),
    Notice.VISIT_CREW: _Template({
        Language.ZH: _Words(
            "【{tier}】工单 {case_number} 需要您到现场",
            "工单 {case_number}（{tier}）需要 {required} 名工程师到现场，负责人：{lead}。请您加入本次现场服务。"
            "\n\n{title}",
            "【{tier}】工单{case_number}需{required}人到现场，负责人{lead}，请您加入现场服务。{title}"),
        Language.EN: _Words(
            "[{tier}] Case {case_number}: you are needed on site",
            "Case {case_number} ({tier}) needs {required} engineers on site, led by {lead}. Please join the "
            "visit.\n\n{title}",
            "[{tier}] Case {case_number} needs {required} engineers on site, led by {lead}. Please join. {title}"),
    }),
    Notice.STAFFING_SHORT: _Template({
        Language.ZH: _Words(
            "【{tier}】工单 {case_number}：现场人员不足 {short} 名",
            "工单 {case_number}（{tier}）现场服务需要 {required} 名工程师，仍缺 {short} 名：{reasons}。"
            "\n\n请手动安排。\n\n{title}",
            "【{tier}】工单{case_number}现场需{required}人，缺{short}人（{reasons}），请手动安排。{title}"),
        Language.EN: _Words(
            "[{tier}] Case {case_number}: on-site crew {short} short",
            "The on-site visit for case {case_number} ({tier}) needs {required} engineers and is {short} short: "
            "{reasons}.\n\nPlease add engineers to the visit.\n\n{title}",
            "[{tier}] Case {case_number}: visit needs {required} engineers, {short} short ({reasons}). Please add "
            "engineers. {title}"),
    }),
}

_SEPARATORS = {Language.ZH: "；", Language.EN: "; "}
_WHITESPACE = re.compile(r"\s+")


def fields_of(notice: Notice | str) -> frozenset[str]:
    """The fields `notice` needs."""
    return _template(notice).fields


def render(notice: Notice | str, language: Language | str, fields: Mapping[str, object],
           zone: str = "Asia/Shanghai") -> Rendered:
    """The subject, body and SMS text of `notice` in `language`. Instants are shown in `zone`."""
    template = _template(notice)
    try:
        lang = Language(language)
    except ValueError:
        raise TemplateError(f"no {language!r} texts (languages: {', '.join(Language)})") from None
    missing = sorted(name for name in template.fields if fields.get(name) is None)
    if missing:
        raise MissingField(f"notice {Notice(notice).value} needs field(s) {', '.join(missing)}")
    values = {name: _shown(name, fields[name], lang, template.choices.get(name), ZoneInfo(zone))
              for name in template.fields}
    words = template.words[lang]
    return Rendered(subject=words.subject.format_map(values), body=words.body.format_map(values),
                    text=truncate(words.text.format_map(values), SMS_LIMITS[lang]))


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending in an ellipsis, without splitting a character
    from the marks that combine with it (a cut accent or half an emoji sequence shows as garbage)."""
    if len(text) <= limit:
        return text
    cut = limit - len(ELLIPSIS)
    # The first character dropped must not belong to the one kept before it (a mark, or the next
    # part of a joined emoji sequence): move the cut back to the start of that cluster.
    while cut > 0 and (_extends(text[cut]) or text[cut - 1] == ZWJ):
        cut -= 1
    kept = text[:cut]
    while kept and (_extends(kept[-1]) or kept[-1] == ZWJ):
        kept = kept[:-1]
    return kept.rstrip() + ELLIPSIS


def _extends(char: str) -> bool:
    """Does `char` attach to the character before it (combining mark, variation selector, joiner,
    emoji modifier)?"""
    return (unicodedata.combining(char) != 0 or unicodedata.category(char) in ("Mn", "Me", "Mc")
            or char == ZWJ or "\ufe00" <= char <= "\ufe0f" or "\U0001f3fb" <= char <= "\U0001f3ff")


def _template(notice: Notice | str) -> _Template:
    try:
        return TEMPLATES[Notice(notice)]
    except ValueError:
        raise TemplateError(f"unknown notice {notice!r} (notices: {', '.join(Notice)})") from None


def _shown(name: str, value: object, language: Language, choice: _Choice | None, zone: ZoneInfo) -> str:
    if isinstance(value, Enum):
        value = value.value
    if choice is not None:
        # "not_resolved" and "not resolved" are the same code.
        key = value.strip().replace(" ", "_") if isinstance(value, str) else value
        if key in choice.phrases:
            return choice.phrases[key][language]
        if choice.strict:
            allowed = ", ".join(repr(k) for k in choice.phrases)
            raise TemplateError(f"field {name} is {value!r}; it must be one of {allowed}")
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TemplateError(f"field {name} must be an aware instant")
        local = value.astimezone(zone)
        offset = local.strftime("%z")
        return local.strftime("%Y-%m-%d %H:%M ") + f"{offset[:3]}:{offset[3:]}"
    if isinstance(value, list | tuple | set | frozenset):
        value = _SEPARATORS[language].join(str(v) for v in value)
    # One line: a title with a line break must not break the subject header or the SMS.
    return _WHITESPACE.sub(" ", str(value)).strip()
