"""The rectification notice (责令整改通知书) in Word, one per notice sent to an operator.

It holds: the document number, the addressee (the operator's organisation, and the subject
concerned), the grounds found, the approved dispositions in words, the deadline, how to report
back (the operators' portal), the issuing department and the date the notice was sent.
"""

from __future__ import annotations

from datetime import datetime

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt
from sqlalchemy.orm import Session

from qinglang.govern import statistics as rules
from qinglang.govern.clock import to_shanghai
from qinglang.govern.identifiers import NATIONAL_DIVISION
from qinglang.services.cases import NoticeView
from qinglang.services.documents import centered, china_date, new_document, to_bytes
from qinglang.services.principal import Principal

NUMERALS = "一二三四五六七八九十"
PORTAL_TEXT = (
    "请你单位在整改期限内登录清朗平台运营者门户，在“整改通知”栏目中查看本通知，"
    "并提交整改情况报告及相关证明材料（截图、制度文件、处置记录等）。"
)
NO_DEADLINE_TEXT = "请你单位立即整改，并尽快报送整改情况。"
WARNING_TEXT = "逾期未整改或整改不到位的，将依法依规从严处理。"


def document_number(notice: NoticeView) -> str:
    """ "网信责改〔2020〕12号": issuing department, year sent (China), notice id."""
    year = to_shanghai(notice.sent_at).year
    return f"{notice.issuer_department_name}责改〔{year}〕{notice.id}号"


def issuer_name_of(notice: NoticeView) -> str:
    """A default issuer: "国家网信部门", "上海市网信部门", "河南省 410100 网信部门"."""
    if notice.issuer_jurisdiction == NATIONAL_DIVISION:
        return f"国家{notice.issuer_department_name}部门"
    place = rules.region_label(notice.issuer_jurisdiction)
    sep = " " if " " in place else ""
    return f"{place}{sep}{notice.issuer_department_name}部门"


def _ordinal(i: int) -> str:
    return f"{NUMERALS[i - 1]}、" if i <= 10 else f"{i}、"


def build(notice: NoticeView, *, issuer_name: str, at: datetime) -> bytes:
    """The notice as .docx bytes; `at` stamps the file's metadata (the notice's own date is
    the day it was sent)."""
    doc = new_document("责令整改通知书", at)
    centered(doc.add_paragraph("责令整改通知书", style="Title"))
    centered(doc.add_paragraph(document_number(notice)))
    addressee = notice.organisation_name or "（未关联运营主体，请线下送达）"
    doc.add_paragraph(f"{addressee}：")
    subject = f"运营的“{notice.subject_name}”" if notice.subject_name else ""
    grounds = "、".join(f"“{g}”" for g in notice.ground_names) or "违法违规"
    doc.add_paragraph(
        f"经查，你单位{subject}存在{grounds}等问题（案件编号：{notice.case_id}），"
        "违反了国家有关法律法规和未成年人网络保护的相关要求。"
        "根据有关规定，现责令你单位采取以下措施："
    ).paragraph_format.first_line_indent = Pt(24)
    approved = [d for d in notice.dispositions if d.status == "approved"] or notice.dispositions
    for i, d in enumerate(approved, start=1):
        doc.add_paragraph(f"{_ordinal(i)}{d.text}").paragraph_format.first_line_indent = Pt(24)
    if notice.deadline is not None:
        when = f"请你单位于{china_date(notice.deadline)}前完成整改。"
    else:
        when = NO_DEADLINE_TEXT
    doc.add_paragraph(when + PORTAL_TEXT + WARNING_TEXT).paragraph_format.first_line_indent = Pt(24)
    doc.add_paragraph("特此通知。").paragraph_format.first_line_indent = Pt(24)
    doc.add_paragraph()
    for text in (issuer_name, china_date(notice.sent_at)):
        doc.add_paragraph(text).alignment = WD_ALIGN_PARAGRAPH.RIGHT
    doc.add_paragraph()
    doc.add_paragraph("（本通知书一式两份，一份送达被通知单位，一份存档。）")
    return to_bytes(doc)


def notice_for(session: Session, principal: Principal, notice_id: int, *, at: datetime) -> bytes:
    """The notice as the caller may read it (`notices.get_notice`: 404/403 there)."""
    from qinglang.services.notices import get_notice

    view = get_notice(session, principal, notice_id, at=at)
    return build(view, issuer_name=issuer_name_of(view), at=at)
