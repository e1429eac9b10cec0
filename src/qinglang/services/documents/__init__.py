"""Documents for regulators: the campaign summary (专项行动工作总结) and the rectification
notice (责令整改通知书) in Word, the statistics workbook in XLSX, and their charts.

Every number a document shows comes from `qinglang.services.statistics.Statistics` or from
the notice it prints (docs/documents.md); the builders take plain values and return bytes.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.text.paragraph import Paragraph

from qinglang.govern.clock import to_shanghai

BODY_FONT = "宋体"
HEADING_FONT = "黑体"
LATIN_FONT = "Times New Roman"
DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def number(value: int | Decimal) -> str:
    """A figure as the documents print it: whole numbers as digits, yuan with two decimals."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def china_date(day: date | datetime) -> str:
    """ "2020年9月1日" (a datetime is read as its China calendar day)."""
    if isinstance(day, datetime):
        day = to_shanghai(day).date()
    return f"{day.year}年{day.month}月{day.day}日"


def set_fonts(target: object, east_asian: str, latin: str = LATIN_FONT) -> None:
    """Set a style's or a run's fonts, the East Asian one (w:eastAsia) included."""
    font = target.font  # type: ignore[attr-defined]
    font.name = latin
    r_pr = target.element.get_or_add_rPr()  # type: ignore[attr-defined]
    r_fonts = r_pr.find(qn("w:rFonts"))
    if r_fonts is None:
        r_fonts = r_pr.makeelement(qn("w:rFonts"), {})
        r_pr.append(r_fonts)
    r_fonts.set(qn("w:eastAsia"), east_asian)


def new_document(title: str, at: datetime) -> DocumentObject:
    """An A4 document with Chinese fonts on its styles: 宋体 body, 黑体 headings."""
    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin = section.bottom_margin = Cm(2.54)
    section.left_margin = section.right_margin = Cm(2.5)
    styles = doc.styles
    normal = styles["Normal"]
    set_fonts(normal, BODY_FONT)
    normal.font.size = Pt(12)
    normal.paragraph_format.line_spacing = 1.5
    for name, size in (("Title", 22), ("Heading 1", 16), ("Heading 2", 14), ("Caption", 10.5)):
        style = styles[name]
        set_fonts(style, HEADING_FONT if name != "Caption" else BODY_FONT)
        style.font.size = Pt(size)
        style.font.color.rgb = None
        style.font.bold = name != "Caption"
        style.font.italic = False
    for name in ("Table Grid",):
        set_fonts(styles[name], BODY_FONT)
    props = doc.core_properties
    props.title = title
    props.author = "清朗平台"
    props.created = at
    props.language = "zh-CN"
    return doc


def centered(paragraph: Paragraph) -> Paragraph:
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return paragraph


def to_bytes(doc: DocumentObject) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
