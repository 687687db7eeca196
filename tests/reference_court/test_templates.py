"""The template catalogue and its .docx files."""

from __future__ import annotations

import io
import zipfile
from urllib.parse import unquote
from xml.dom import minidom

from tests.reference_court.conftest import RefCourt, problem

REQUIRED = {"民事起诉状", "民事答辩状", "授权委托书", "证据清单", "民事上诉状", "强制执行申请书", "退费申请书",
            "调解申请书", "财产保全申请书", "撤诉申请书", "延期开庭申请书", "法定代表人身份证明书"}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def test_catalogue(court: RefCourt) -> None:
    items = (await court.get("粤0106", "/templates")).json()["items"]
    assert REQUIRED <= {t["title"] for t in items}
    for item in items:
        assert set(item) == {"template_id", "title", "service", "description", "file_name", "content_type", "size",
                             "updated_at"}
        assert item["content_type"] == DOCX and item["size"] > 1000


async def test_filters(court: RefCourt) -> None:
    appeals = (await court.get("粤0106", "/templates?service=appeal")).json()["items"]
    assert [t["title"] for t in appeals] == ["民事上诉状"]
    found = (await court.get("粤0106", "/templates?q=保全")).json()["items"]
    assert [t["title"] for t in found] == ["财产保全申请书"]
    assert (await court.get("粤0106", "/templates?service=filing&q=起诉")).json()["items"][0]["title"] == "民事起诉状"
    assert (await court.get("粤0106", "/templates?service=nothing")).json()["items"] == []


async def test_get_and_download_a_real_docx(court: RefCourt) -> None:
    described = (await court.get("粤0192", "/templates/civil-complaint")).json()
    response = await court.get("粤0192", "/templates/civil-complaint/file")
    assert response.status_code == 200
    assert response.headers["content-type"] == DOCX
    assert len(response.content) == described["size"]
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert 'filename="civil-complaint.docx"' in disposition
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == "民事起诉状.docx"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.testzip() is None
    assert {"[Content_Types].xml", "_rels/.rels", "word/document.xml", "word/styles.xml"} <= set(archive.namelist())
    document = archive.read("word/document.xml").decode("utf-8")
    minidom.parseString(document)  # well-formed XML
    assert "民事起诉状" in document and "诉讼请求" in document and "此致" in document
    types = archive.read("[Content_Types].xml").decode()
    assert "wordprocessingml.document.main+xml" in types


async def test_every_template_downloads(court: RefCourt) -> None:
    for item in (await court.get("粤0106", "/templates")).json()["items"]:
        response = await court.get("粤0106", f"/templates/{item['template_id']}/file")
        archive = zipfile.ZipFile(io.BytesIO(response.content))
        assert item["title"] in archive.read("word/document.xml").decode("utf-8")


async def test_unknown_template(court: RefCourt) -> None:
    problem(await court.get("粤0106", "/templates/no-such-thing"), 404, "NOT_FOUND")
    problem(await court.get("粤0106", "/templates/no-such-thing/file"), 404, "NOT_FOUND")
