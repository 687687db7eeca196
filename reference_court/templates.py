"""Litigation document templates (诉讼文书样式) and their .docx files.

The wording follows the SPC's 《民事诉讼文书样式》 (2016) for the parts a citizen
fills in. Files are real Office Open XML documents built with ``zipfile`` (no
Word needed): a minimal package of ``[Content_Types].xml``, the relationships,
``word/document.xml`` and ``word/styles.xml``. Zip timestamps are fixed to the
template's date, so a file's bytes, size and hash are stable across runs.
"""

from __future__ import annotations

import functools
import io
import zipfile
from dataclasses import dataclass
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
BLANK = "________________"


@dataclass(frozen=True)
class Block:
    """One piece of a template: a title, a paragraph, a field to fill in, a note, a signature or a table."""

    kind: str  # title | p | field | note | sign | table
    text: str = ""
    columns: tuple[str, ...] = ()
    rows: int = 0


@dataclass(frozen=True)
class Template:
    template_id: str
    title: str
    service: str
    description: str
    updated: date
    blocks: tuple[Block, ...]

    @property
    def file_name(self) -> str:
        return f"{self.title}.docx"

    def describe(self) -> dict[str, Any]:
        data = docx_bytes(self.template_id)
        return {
            "template_id": self.template_id,
            "title": self.title,
            "service": self.service,
            "description": self.description,
            "file_name": self.file_name,
            "content_type": DOCX_TYPE,
            "size": len(data),
            "updated_at": f"{self.updated.isoformat()}T09:00:00+08:00",
        }


def T(text: str) -> Block:
    return Block("title", text)


def P(text: str) -> Block:
    return Block("p", text)


def F(label: str) -> Block:
    return Block("field", label)


def N(text: str) -> Block:
    return Block("note", text)


def S(text: str) -> Block:
    return Block("sign", text)


def TABLE(*columns: str, rows: int = 8) -> Block:
    return Block("table", columns=columns, rows=rows)


PERSON_FIELDS = ("姓名", "性别", "民族", "出生日期", "住所地", "公民身份号码", "联系电话")
ORG_FIELDS = ("名称", "住所地", "统一社会信用代码", "法定代表人（主要负责人）姓名及职务", "联系电话")


def party_blocks(role: str) -> tuple[Block, ...]:
    person = "；".join(f"{name}：{BLANK}" for name in PERSON_FIELDS)
    org = "；".join(f"{name}：{BLANK}" for name in ORG_FIELDS)
    return (P(f"{role}（自然人）：{person}。"), P(f"{role}（法人、非法人组织）：{org}。"))


AGENT = P(f"委托诉讼代理人：姓名：{BLANK}；工作单位：{BLANK}；职务：{BLANK}；执业证号：{BLANK}；联系电话：{BLANK}。")
TO_COURT = (P("此致"), P(f"{BLANK}人民法院"))


def signed(role: str) -> tuple[Block, ...]:
    return (S(f"{role}（签名或者盖章）：{BLANK}"), S("年    月    日"))


TEMPLATES: tuple[Template, ...] = (
    Template("civil-complaint", "民事起诉状", "filing",
             "向人民法院提起民事诉讼用。写明原告、被告的基本信息、诉讼请求、事实与理由，按被告人数提交副本。",
             date(2024, 3, 1), (
                 T("民事起诉状"),
                 *party_blocks("原告"),
                 AGENT,
                 *party_blocks("被告"),
                 F("诉讼请求：1."), F("2."), F("3. 本案诉讼费用由被告负担。"),
                 F("事实与理由："),
                 P("证据和证据来源，证人姓名和住所：详见证据清单。"),
                 *TO_COURT,
                 P("附：本起诉状副本    份"),
                 *signed("起诉人"),
                 N("依据《中华人民共和国民事诉讼法》第一百二十二条、第一百二十四条。"),
             )),
    Template("civil-defence", "民事答辩状", "defence",
             "被告收到起诉状副本后提出答辩用，应在收到之日起十五日内提交。",
             date(2024, 3, 1), (
                 T("民事答辩状"),
                 *party_blocks("答辩人"),
                 AGENT,
                 P(f"答辩人因{BLANK}诉{BLANK}纠纷一案（案号：{BLANK}），现提出答辩如下："),
                 F("答辩请求："),
                 F("事实与理由："),
                 *TO_COURT,
                 P("附：本答辩状副本    份"),
                 *signed("答辩人"),
                 N("被告应当在收到起诉状副本之日起十五日内提出答辩状（《中华人民共和国民事诉讼法》第一百二十八条）。"),
             )),
    Template("power-of-attorney", "授权委托书", "agency",
             "当事人委托律师或其他诉讼代理人参加诉讼用；特别授权须逐项写明。",
             date(2024, 3, 1), (
                 T("授权委托书"),
                 P(f"委托人：{BLANK}（姓名或名称）；公民身份号码（统一社会信用代码）：{BLANK}；联系电话：{BLANK}。"),
                 P(f"受托人：姓名：{BLANK}；工作单位：{BLANK}律师事务所；职务：律师；执业证号：{BLANK}；联系电话：{BLANK}。"),
                 P(f"现委托上列受托人在我方与{BLANK}因{BLANK}纠纷一案（案号：{BLANK}）中，作为我方参加诉讼的委托诉讼代理人。"),
                 P("委托事项和权限如下：□一般授权：代为起诉、应诉，代为提交、签收诉讼文书，参加庭审、发表代理意见。"),
                 P("□特别授权：代为承认、放弃、变更诉讼请求，进行和解，提起反诉或者上诉。"),
                 *signed("委托人"),
                 N("授权委托书仅写“全权代理”而无具体授权的，诉讼代理人无权代为承认、放弃、变更诉讼请求，"
                   "进行和解，提出反诉或者提起上诉（《最高人民法院关于适用〈中华人民共和国民事诉讼法〉的解释》第八十九条）。"),
             )),
    Template("evidence-list", "证据清单", "evidence",
             "提交证据时逐项列明证据名称、来源和证明内容，随证据材料一并提交。",
             date(2024, 3, 1), (
                 T("证据清单"),
                 P(f"案号：{BLANK}    提交人：{BLANK}    提交日期：{BLANK}"),
                 TABLE("序号", "证据名称", "证据来源", "证明内容", "页码", "原件/复印件", rows=10),
                 *signed("提交人"),
                 N("当事人对自己提出的主张应当及时提供证据（《中华人民共和国民事诉讼法》第六十七条、第六十八条）。"),
             )),
    Template("civil-appeal", "民事上诉状", "appeal",
             "不服第一审判决、裁定提起上诉用，通过原审人民法院提出，按对方当事人人数提交副本。",
             date(2024, 3, 1), (
                 T("民事上诉状"),
                 *party_blocks("上诉人"),
                 *party_blocks("被上诉人"),
                 P(f"上诉人因{BLANK}纠纷一案，不服{BLANK}人民法院{BLANK}年    月    日作出的（    ）{BLANK}号"
                   "民事判决（裁定），现提起上诉。"),
                 F("上诉请求："),
                 F("上诉理由："),
                 P("此致"), P(f"{BLANK}中级人民法院"),
                 P("附：本上诉状副本    份"),
                 *signed("上诉人"),
                 N("不服判决的上诉期限为判决书送达之日起十五日，不服裁定的为裁定书送达之日起十日"
                   "（《中华人民共和国民事诉讼法》第一百七十一条）；上诉状应通过原审人民法院提出（第一百七十三条）。"),
             )),
    Template("enforcement-application", "强制执行申请书", "enforcement",
             "生效法律文书确定的义务人拒不履行时，向人民法院申请强制执行用。",
             date(2024, 3, 1), (
                 T("强制执行申请书"),
                 *party_blocks("申请执行人"),
                 *party_blocks("被执行人"),
                 P(f"执行依据：{BLANK}人民法院（    ）{BLANK}号民事判决书（调解书、裁定书），已于{BLANK}发生法律效力。"),
                 F("执行请求：1."), F("2. 本案执行费用由被执行人负担。"),
                 F("事实与理由："),
                 F("被执行人财产线索（银行账户、不动产、车辆、股权等）："),
                 *TO_COURT,
                 P("附：生效法律文书副本一份；生效证明一份"),
                 *signed("申请执行人"),
                 N("申请执行的期间为二年，从法律文书规定履行期间的最后一日起计算"
                   "（《中华人民共和国民事诉讼法》第二百五十条）。"),
             )),
    Template("fee-refund", "退费申请书", "refund",
             "撤诉、调解结案减半收费或判决由对方负担等情形，申请退还已预交的诉讼费用用。",
             date(2024, 3, 1), (
                 T("退费申请书"),
                 *party_blocks("申请人"),
                 P(f"案号：{BLANK}    已预交诉讼费用：{BLANK}元    申请退还金额：{BLANK}元"),
                 F("退费原因：□撤诉减半  □调解结案减半  □判决由对方当事人负担  □其他："),
                 P(f"收款账户：户名：{BLANK}；开户银行：{BLANK}；账号：{BLANK}。"),
                 *TO_COURT,
                 *signed("申请人"),
                 N("退费款项只退至申请人本人（单位）名下账户；法院不会通过短信、电话要求转账或提供验证码。"
                   "依据《诉讼费用交纳办法》第十五条、第二十七条、第五十三条。"),
             )),
    Template("mediation-application", "调解申请书", "mediation",
             "纠纷起诉前申请人民法院委派调解组织进行诉前调解用。",
             date(2024, 3, 1), (
                 T("调解申请书"),
                 *party_blocks("申请人"),
                 *party_blocks("被申请人"),
                 F("调解请求："),
                 F("事实与理由："),
                 P("申请人已阅知《诉前调解告知书》，同意由人民法院委派的调解组织进行调解；调解期限为三十日，"
                   "经双方同意可以延长。"),
                 *TO_COURT,
                 *signed("申请人"),
             )),
    Template("property-preservation", "财产保全申请书", "preservation",
             "诉讼中或诉前申请查封、扣押、冻结对方财产用，一般应提供担保。",
             date(2024, 3, 1), (
                 T("财产保全申请书"),
                 *party_blocks("申请人"),
                 *party_blocks("被申请人"),
                 P(f"请求事项：查封、扣押、冻结被申请人名下价值{BLANK}元的财产。"),
                 F("事实与理由："),
                 F("被申请人财产线索："),
                 P(f"担保方式：□保证金{BLANK}元  □保险公司保函  □不动产担保  □其他："),
                 *TO_COURT,
                 *signed("申请人"),
                 N("依据《中华人民共和国民事诉讼法》第一百零三条、第一百零四条；保全申请费按《诉讼费用交纳办法》第十四条交纳。"),
             )),
    Template("withdrawal", "撤诉申请书", "withdrawal",
             "宣判前原告申请撤回起诉用；准予撤诉的，案件受理费减半交纳。",
             date(2024, 3, 1), (
                 T("撤诉申请书"),
                 *party_blocks("申请人"),
                 P(f"申请人与{BLANK}因{BLANK}纠纷一案（案号：{BLANK}），现申请撤回对被告的起诉。"),
                 F("事实与理由："),
                 *TO_COURT,
                 *signed("申请人"),
                 N("宣判前，原告申请撤诉的，是否准许由人民法院裁定（《中华人民共和国民事诉讼法》第一百四十八条）。"),
             )),
    Template("hearing-postponement", "延期开庭申请书", "hearing",
             "因法定事由无法按时出庭，申请延期开庭审理用，应在开庭前提出。",
             date(2024, 3, 1), (
                 T("延期开庭申请书"),
                 *party_blocks("申请人"),
                 P(f"案号：{BLANK}    原定开庭时间：{BLANK}年    月    日    时"),
                 P("请求事项：申请对本案延期开庭审理。"),
                 F("事实与理由："),
                 *TO_COURT,
                 *signed("申请人"),
                 N("可以延期开庭审理的情形见《中华人民共和国民事诉讼法》第一百四十九条。"),
             )),
    Template("legal-representative-certificate", "法定代表人身份证明书", "filing",
             "法人、非法人组织参加诉讼时，证明其法定代表人（主要负责人）身份用，加盖单位公章。",
             date(2024, 3, 1), (
                 T("法定代表人身份证明书"),
                 P(f"{BLANK}（姓名），性别：{BLANK}，公民身份号码：{BLANK}，在我单位任{BLANK}职务，"
                   "系我单位的法定代表人（主要负责人）。"),
                 P("特此证明。"),
                 P(f"附：法定代表人住址：{BLANK}；联系电话：{BLANK}。"),
                 S(f"单位名称（盖章）：{BLANK}"), S(f"统一社会信用代码：{BLANK}"), S("年    月    日"),
             )),
)

BY_ID: dict[str, Template] = {t.template_id: t for t in TEMPLATES}


def find(template_id: str) -> Template | None:
    return BY_ID.get(template_id)


def search(service: str | None = None, q: str | None = None) -> list[Template]:
    found = [t for t in TEMPLATES if service is None or t.service == service]
    if q:
        found = [t for t in found if q in t.title or q in t.description or q in t.template_id]
    return found


# --- Office Open XML -------------------------------------------------------------------------

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    '<Override PartName="/word/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)
_DOCUMENT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/></Relationships>'
)
# 仿宋 at 四号 (14 pt) is what court documents use for body text; titles are 宋体 二号 bold.
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    f'<w:styles xmlns:w="{_W}"><w:docDefaults><w:rPrDefault><w:rPr>'
    '<w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:eastAsia="仿宋"/>'
    '<w:sz w:val="28"/><w:szCs w:val="28"/><w:lang w:val="en-US" w:eastAsia="zh-CN"/>'
    '</w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after="120" w:line="400" w:lineRule="auto"/>'
    "</w:pPr></w:pPrDefault></w:docDefaults>"
    '<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style>'
    '<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/><w:pPr><w:jc w:val="center"/>'
    '<w:spacing w:after="360"/></w:pPr><w:rPr><w:rFonts w:eastAsia="宋体"/><w:b/><w:sz w:val="44"/></w:rPr></w:style>'
    '<w:style w:type="table" w:styleId="Grid"><w:name w:val="Table Grid"/><w:tblPr><w:tblBorders>'
    + "".join(f'<w:{edge} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
              for edge in ("top", "left", "bottom", "right", "insideH", "insideV"))
    + "</w:tblBorders></w:tblPr></w:style></w:styles>"
)


def _run(text: str, *, small: bool = False) -> str:
    props = '<w:rPr><w:sz w:val="21"/><w:color w:val="555555"/></w:rPr>' if small else ""
    return f'<w:r>{props}<w:t xml:space="preserve">{escape(text)}</w:t></w:r>'


def _paragraph(block: Block) -> str:
    if block.kind == "title":
        return f'<w:p><w:pPr><w:pStyle w:val="Title"/></w:pPr>{_run(block.text)}</w:p>'
    if block.kind == "sign":
        return f'<w:p><w:pPr><w:jc w:val="right"/></w:pPr>{_run(block.text)}</w:p>'
    if block.kind == "note":
        return f"<w:p>{_run('说明：' + block.text, small=True)}</w:p>"
    if block.kind == "field":
        return f"<w:p>{_run(block.text)}</w:p><w:p>{_run(BLANK * 3)}</w:p>"
    return f'<w:p><w:pPr><w:ind w:firstLineChars="200" w:firstLine="560"/></w:pPr>{_run(block.text)}</w:p>'


def _cell(text: str) -> str:
    return f'<w:tc><w:tcPr><w:tcW w:w="0" w:type="auto"/></w:tcPr><w:p>{_run(text)}</w:p></w:tc>'


def _table(block: Block) -> str:
    header = "<w:tr>" + "".join(_cell(c) for c in block.columns) + "</w:tr>"
    rows = "".join("<w:tr>" + _cell(str(i + 1)) + _cell("") * (len(block.columns) - 1) + "</w:tr>"
                   for i in range(block.rows))
    props = '<w:tblPr><w:tblStyle w:val="Grid"/><w:tblW w:w="5000" w:type="pct"/></w:tblPr>'
    return f"<w:tbl>{props}{header}{rows}</w:tbl><w:p/>"


def document_xml(template: Template) -> str:
    body = "".join(_table(b) if b.kind == "table" else _paragraph(b) for b in template.blocks)
    # A4 with the margins of the national document standard (GB/T 9704): 37/35/28/26 mm.
    section = ('<w:sectPr><w:pgSz w:w="11906" w:h="16838"/>'
               '<w:pgMar w:top="2098" w:right="1474" w:bottom="1984" w:left="1588" w:header="851" w:footer="992" '
               'w:gutter="0"/></w:sectPr>')
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{_W}">'
            f"<w:body>{body}{section}</w:body></w:document>")


@functools.cache
def docx_bytes(template_id: str) -> bytes:
    """The template as a .docx file; deterministic bytes for a given template."""
    template = BY_ID[template_id]
    stamp = (template.updated.year, template.updated.month, template.updated.day, 9, 0, 0)
    parts = (
        ("[Content_Types].xml", _CONTENT_TYPES),
        ("_rels/.rels", _ROOT_RELS),
        ("word/_rels/document.xml.rels", _DOCUMENT_RELS),
        ("word/document.xml", document_xml(template)),
        ("word/styles.xml", _STYLES),
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts:
            archive.writestr(zipfile.ZipInfo(name, stamp), text.encode("utf-8"), zipfile.ZIP_DEFLATED)
    return buffer.getvalue()
