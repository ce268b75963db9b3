"""The hearing notice (听证通知书): its issuer, and what 第六十四条 says the party is told."""

from __future__ import annotations

import datetime as dt

from township_enforcement.domain import notices
from township_enforcement.domain.cases import HearingSchedule

SCHEDULE = HearingSchedule(
    hearing_on=dt.date(2026, 12, 18),
    place="镇政府二楼会议室",
    presiding="host-01",
    public=True,
    closed_reason="",
    notified_on=dt.date(2026, 12, 4),
)
NAMES = {"urban-management": "旬阳市城市管理执法局", "township": "镇人民政府"}


def notice(schedule: HearingSchedule = SCHEDULE, document: str = "") -> notices.HearingNotice:
    return notices.hearing_notice(
        case_no="ZHAOWAN-ZF-2026-0007",
        issuer_name="旬阳市城市管理执法局",
        carried_out_by="赵湾镇综合行政执法队",
        entrustment_document=document,
        party_name="王建国",
        matter="擅自占用城市道路",
        presiding_name="李主持",
        schedule=schedule,
        notice_on=dt.date(2026, 12, 1),
    )


def test_an_entrusted_item_s_notice_goes_out_in_the_entrusting_department_s_name() -> None:
    assert notices.issuer_name("urban-management", NAMES, "赵湾镇") == "旬阳市城市管理执法局"
    # the town's own powers: its people's government, not the placeholder department
    assert notices.issuer_name("township", NAMES, "赵湾镇") == "赵湾镇人民政府"
    assert notices.issuer_name("", NAMES, "赵湾镇") == "赵湾镇人民政府"
    assert notices.issuer_name("water", NAMES, "赵湾镇") == "water"  # unknown: its code


def test_the_notice_tells_what_article_64_requires() -> None:
    n = notice(document="旬城管委〔2023〕5号")
    text = n.text
    lines = text.splitlines()
    assert lines[:3] == ["旬阳市城市管理执法局", "听证通知书", "ZHAOWAN-ZF-2026-0007-TZ"]
    assert lines[4] == "王建国："
    # time and place (二), public (三), who presides (四)
    assert "本机关定于2026年12月18日在镇政府二楼会议室举行听证会" in text
    assert "听证公开举行，由李主持主持" in text
    assert "本机关已于2026年12月1日告知你（单位）拟作出的行政处罚决定" in text
    # the rights in the law's order: recusal (四), agents (五), argue (七), the record (八)
    assert n.rights == notices.RIGHTS and len(n.rights) == 4
    for numeral, right in zip("一二三四", n.rights, strict=True):
        assert f"    {numeral}、{right}" in lines
    assert "申请其回避" in n.rights[0] and "一至二人代理" in n.rights[1]
    # absence without good reason waives the hearing (六)
    assert "视为放弃听证权利" in text
    # acting under the entrustment, dated the day the party was told
    assert "本案由赵湾镇综合行政执法队依据旬城管委〔2023〕5号受委托办理。" in text
    assert lines[-2:] == ["旬阳市城市管理执法局", "2026年12月4日"]


def test_a_closed_hearing_says_why() -> None:
    for reason, words in notices.CLOSED_REASONS_ZH.items():
        closed = HearingSchedule(
            SCHEDULE.hearing_on, SCHEDULE.place, SCHEDULE.presiding, False, reason,
            SCHEDULE.notified_on,
        )  # fmt: skip
        assert f"听证因涉及{words}，不公开举行" in notice(closed).text
    # no entrustment: the town's own power, no entrustment line
    assert "受委托办理" not in notice().text


def test_the_stored_schedule_reads_back() -> None:
    assert HearingSchedule.from_json(SCHEDULE.as_json()) == SCHEDULE
