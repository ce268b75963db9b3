"""The hearing notice (听证通知书): what the party is told of the hearing it asked for.

行政处罚法 第六十四条 decides its content: the time and place, told seven working days ahead
(二); public or not, and why not (三); who presides, and the right to ask that person to
withdraw (四); attending in person or through one or two agents (五); what absence without
good reason means (六); the right to present evidence, argue and cross-examine (七); the
record to be checked and signed (八). A town acts on an entrusted item in the name of the
department that entrusted it (第二十条), so the notice is that department's.

Pure: the case's facts in, the notice out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from township_enforcement.domain.cases import HearingSchedule

CLOSED_REASONS_ZH = {
    "state_secret": "国家秘密",
    "trade_secret": "商业秘密",
    "privacy": "个人隐私",
}

RIGHTS = (
    "认为主持人与本案有直接利害关系的，有权在听证开始前申请其回避（第六十四条第四项）；",
    "可以亲自参加听证，也可以委托一至二人代理；委托代理人的，应当提交你（单位）签名或者盖章的"
    "授权委托书（第六十四条第五项）；",
    "在听证中，调查人员提出违法的事实、证据和行政处罚建议后，可以进行申辩和质证"
    "（第六十四条第七项）；",
    "听证笔录应当交你（单位）或者代理人核对无误后签字或者盖章（第六十四条第八项）。",
)

ABSENCE = (
    "你（单位）及代理人无正当理由拒不出席听证或者未经许可中途退出听证的，视为放弃听证权利，"
    "本机关终止听证（第六十四条第六项）。"
)

_NUMERALS = "一二三四五六七八九"


@dataclass(frozen=True, slots=True)
class HearingNotice:
    """The notice as served, with the facts it was made from."""

    notice_no: str
    issuer_name: str
    carried_out_by: str
    entrustment_document: str
    party_name: str
    matter: str
    presiding_name: str
    schedule: HearingSchedule
    notice_on: dt.date | None

    @property
    def rights(self) -> tuple[str, ...]:
        """The party's rights at the hearing, in the law's order."""
        return RIGHTS

    @property
    def text(self) -> str:
        """The whole notice, in the form a party receives it."""
        s = self.schedule
        told = ""
        if self.notice_on:
            told = f"本机关已于{chinese_date(self.notice_on)}告知你（单位）拟作出的行政处罚决定。"
        how = "公开举行"
        if not s.public:
            reason = CLOSED_REASONS_ZH.get(s.closed_reason, s.closed_reason)
            how = f"因涉及{reason}，不公开举行"
        when_where = f"本机关定于{chinese_date(s.hearing_on)}在{s.place}举行听证会"
        lines = [
            self.issuer_name,
            "听证通知书",
            self.notice_no,
            "",
            f"{self.party_name}：",
            f"    关于{self.matter}一案，{told}根据你（单位）的申请，"
            f"依照《中华人民共和国行政处罚法》第六十四条的规定，{when_where}，"
            f"听证{how}，由{self.presiding_name}主持，请准时出席。",
            "    你（单位）在听证中依法享有以下权利：",
            *(f"    {_NUMERALS[i]}、{right}" for i, right in enumerate(self.rights)),
            f"    {ABSENCE}",
            "    出席时请携带身份证明；委托代理人出席的，代理人请携带授权委托书和本人身份证明。",
        ]
        if self.entrustment_document:
            lines.append(
                f"    本案由{self.carried_out_by}依据{self.entrustment_document}受委托办理。"
            )
        lines += ["", f"{self.issuer_name}", chinese_date(s.notified_on)]
        return "\n".join(lines)


def issuer_name(department: str, department_names: Mapping[str, str], town_name: str) -> str:
    """Whose name the notice goes out in.

    An entrusted item: the entrusting department's (第二十条); the town's own powers (its
    department code is ``township``): the town's people's government.
    """
    if department and department != "township":
        return department_names.get(department, department)
    return f"{town_name}人民政府"


def chinese_date(day: dt.date | None) -> str:
    """2026年12月8日."""
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def hearing_notice(
    *,
    case_no: str,
    issuer_name: str,
    carried_out_by: str,
    entrustment_document: str,
    party_name: str,
    matter: str,
    presiding_name: str,
    schedule: HearingSchedule,
    notice_on: dt.date | None,
) -> HearingNotice:
    """The notice of a scheduled hearing; its number is the case's with ``-TZ`` (听证通知)."""
    return HearingNotice(
        notice_no=f"{case_no}-TZ",
        issuer_name=issuer_name,
        carried_out_by=carried_out_by,
        entrustment_document=entrustment_document,
        party_name=party_name or "当事人",
        matter=matter,
        presiding_name=presiding_name,
        schedule=schedule,
        notice_on=notice_on,
    )
