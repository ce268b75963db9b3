"""The documents a case serves: the hearing notice (听证通知书, 第六十四条) and the decision
(行政处罚决定书, 第五十九条): their issuer and what the law says they tell the party."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

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


def decision(**overrides: object) -> notices.DecisionDocument:
    stored: dict[str, object] = {
        "kind": "penalty",
        "fine": "300.00",
        "band": "minor",
        "other_penalties": ["order_stop"],
        "decision_no": "ZHAOWAN-ZF-2026-0007-JD",
        "reasoning": "初次违法，及时改正",
    }
    stored.update(overrides)
    return notices.decision_document(
        decision=stored,
        issuer_name="旬阳市城市管理执法局",
        carried_out_by="赵湾镇综合行政执法队",
        entrustment_document="旬城管委〔2023〕5号",
        party={"name": "王建国", "kind": "person", "id_number": "", "address": "赵湾镇东村3组"},
        matter="擅自占用城市道路",
        facts="当事人在集镇道路旁搭建棚屋",
        evidence=["现场照片.jpg", "询问笔录.pdf", "现场照片.jpg"],
        legal_basis="《城市道路管理条例》第二十七条",
        decided_on=dt.date(2026, 12, 20),
    )


def test_a_penalty_decision_holds_what_article_59_requires() -> None:
    d = decision()
    lines = d.text.splitlines()
    assert lines[:3] == ["旬阳市城市管理执法局", "行政处罚决定书", "ZHAOWAN-ZF-2026-0007-JD"]
    assert lines[4] == "当事人：王建国  住址：赵湾镇东村3组"  # name and address (一)
    # facts and evidence (二), each piece of evidence named once
    assert "经查，当事人在集镇道路旁搭建棚屋（擅自占用城市道路）" in d.text
    assert "以上事实有现场照片.jpg、询问笔录.pdf等证据证实" in d.text
    # the penalty and its basis (三), in words, the fine first
    assert d.penalties == ("罚款人民币300.00元", "责令停止违法行为")
    assert "依据《城市道路管理条例》第二十七条，决定给予当事人如下行政处罚" in d.text
    assert "情节属于轻微情形" in d.text
    # how and by when to perform (四): 15 days, then 3 % a day, capped at the fine
    assert "十五日内" in d.text and "百分之三" in d.text and "不超出罚款的数额" in d.text
    # how to contest it (五): 60 days' reconsideration or six months' suit
    assert "六十日内依法申请行政复议" in d.text and "六个月内" in d.text
    # the authority and the date (六)
    assert lines[-2:] == ["旬阳市城市管理执法局", "2026年12月20日"]
    assert d.fine == Decimal("300.00")


def test_a_no_penalty_decision_says_so_and_asks_for_no_payment() -> None:
    d = decision(kind="no_penalty", fine="", band="", other_penalties=[], reasoning="违法行为轻微")
    assert d.title == "不予行政处罚决定书" and d.penalties == ()
    assert "本机关认为，违法行为轻微。" in d.text
    assert "第三十三条的规定，决定不予行政处罚" in d.text
    assert "缴纳罚款" not in d.text  # nothing to pay
    assert "申请行政复议" in d.text  # still contestable
