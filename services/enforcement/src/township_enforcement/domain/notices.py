"""The documents a case serves on its party: the hearing notice (听证通知书) and the decision
(行政处罚决定书 / 不予行政处罚决定书).

The hearing notice tells the party of the hearing it asked for.

行政处罚法 第六十四条 decides its content: the time and place, told seven working days ahead
(二); public or not, and why not (三); who presides, and the right to ask that person to
withdraw (四); attending in person or through one or two agents (五); what absence without
good reason means (六); the right to present evidence, argue and cross-examine (七); the
record to be checked and signed (八). A town acts on an entrusted item in the name of the
department that entrusted it (第二十条), so the notice is that department's.

The decision document holds what 第五十九条 requires: the party's name or title and
address; the facts and evidence of the violation; the penalty and its legal basis; how and
by when to perform it (pay within 15 days of service, 第六十七条; 3 % a day after that, 第七十
二条); the ways and time limits to contest it (reconsideration within 60 days, or a suit within
six months); the authority and the date.

Pure: the case's facts in, the document out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

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


PENALTIES_ZH = {
    "warning": "警告",
    "confiscate_illegal_gains": "没收违法所得",
    "confiscate_illegal_property": "没收非法财物",
    "order_stop": "责令停止违法行为",
    "order_correction": "责令改正",
    "restore_original_state": "责令恢复原状",
    "demolition": "责令限期拆除",
    "suspend_business": "责令停产停业",
    "revoke_licence": "吊销许可证件",
}
BANDS_ZH = {"minor": "轻微", "general": "一般", "serious": "严重"}

PAYMENT = (
    "当事人应当自收到本决定书之日起十五日内，到指定的银行或者通过电子支付系统缴纳罚款"
    "（第六十七条）。到期不缴纳罚款的，本机关每日按罚款数额的百分之三加处罚款，加处罚款的"
    "数额不超出罚款的数额（第七十二条）。"
)
REMEDIES = (
    "当事人对本决定不服的，可以自收到本决定书之日起六十日内依法申请行政复议，或者六个月内"
    "依法向人民法院提起行政诉讼。行政复议或者行政诉讼期间，本决定不停止执行，法律另有规定"
    "的除外（第七十三条）。"
)


@dataclass(frozen=True, slots=True)
class DecisionDocument:
    """The decision as served (第五十九条), with the facts it was made from."""

    decision_no: str
    kind: str  # penalty | no_penalty
    issuer_name: str
    carried_out_by: str
    entrustment_document: str
    party_name: str
    party_id_number: str
    party_address: str
    matter: str
    facts: str
    evidence: tuple[str, ...]
    legal_basis: str
    fine: Decimal
    band: str
    other_penalties: tuple[str, ...]
    reasoning: str
    decided_on: dt.date | None

    @property
    def title(self) -> str:
        """行政处罚决定书, or 不予行政处罚决定书 when no penalty was decided."""
        return "行政处罚决定书" if self.kind == "penalty" else "不予行政处罚决定书"

    @property
    def penalties(self) -> tuple[str, ...]:
        """What the party must do, in words: the fine first, then the other penalties."""
        out = []
        if self.kind == "penalty" and self.fine > 0:
            out.append(f"罚款人民币{self.fine:.2f}元")
        out += [PENALTIES_ZH.get(p, p) for p in self.other_penalties]
        return tuple(out)

    @property
    def text(self) -> str:
        """The whole document, in the form a party receives it."""
        party = [f"当事人：{self.party_name}"]
        if self.party_id_number:
            party.append(f"证件号码：{self.party_id_number}")
        if self.party_address:
            party.append(f"住址：{self.party_address}")
        evidence = "、".join(self.evidence) if self.evidence else "调查笔录"
        basis = self.legal_basis or "有关法律、法规、规章"
        lines = [
            self.issuer_name,
            self.title,
            self.decision_no,
            "",
            "  ".join(party),
            f"    经查，{self.facts}（{self.matter}）。以上事实有{evidence}等证据证实。",
        ]
        if self.kind == "penalty":
            band = BANDS_ZH.get(self.band, self.band)
            lines.append(
                f"    本机关认为，当事人的上述行为违反了{basis}的规定，情节属于{band}情形。"
                f"依据{basis}，决定给予当事人如下行政处罚：{'；'.join(self.penalties)}。"
            )
            if self.reasoning:
                lines.append(f"    理由：{self.reasoning}")
            if self.fine > 0:
                lines.append(f"    {PAYMENT}")
        else:
            lines.append(
                f"    本机关认为，{self.reasoning or '当事人的违法行为依法可以不予行政处罚'}。"
                "依据《中华人民共和国行政处罚法》第三十三条的规定，决定不予行政处罚。"
            )
            if self.other_penalties:
                lines.append(
                    f"    同时：{'；'.join(PENALTIES_ZH.get(p, p) for p in self.other_penalties)}。"
                )
        lines.append(f"    {REMEDIES}")
        if self.entrustment_document:
            lines.append(
                f"    本案由{self.carried_out_by}依据{self.entrustment_document}受委托办理。"
            )
        lines += ["", self.issuer_name, chinese_date(self.decided_on)]
        return "\n".join(lines)


def decision_document(
    *,
    decision: Mapping[str, object],
    issuer_name: str,
    carried_out_by: str,
    entrustment_document: str,
    party: Mapping[str, object],
    matter: str,
    facts: str,
    evidence: Sequence[str],
    legal_basis: str,
    decided_on: dt.date | None,
) -> DecisionDocument:
    """The decision document of a decided case (its stored decision and the case's facts)."""
    others = decision.get("other_penalties") or []
    return DecisionDocument(
        decision_no=str(decision.get("decision_no", "")),
        kind=str(decision.get("kind", "")),
        issuer_name=issuer_name,
        carried_out_by=carried_out_by,
        entrustment_document=entrustment_document,
        party_name=str(party.get("name") or "当事人"),
        party_id_number=str(party.get("id_number") or ""),
        party_address=str(party.get("address") or ""),
        matter=matter,
        facts=facts,
        evidence=tuple(dict.fromkeys(evidence)),
        legal_basis=legal_basis,
        fine=Decimal(str(decision.get("fine") or "0")),
        band=str(decision.get("band", "")),
        other_penalties=tuple(str(p) for p in others) if isinstance(others, list | tuple) else (),
        reasoning=str(decision.get("reasoning", "")),
        decided_on=decided_on,
    )
