"""Guangzhou's courts by code (DOMAIN.md section 1), as this court system knows them."""

from __future__ import annotations

COURT_NAMES: dict[str, str] = {
    "粤01": "广州市中级人民法院",
    "粤0103": "荔湾区人民法院",
    "粤0104": "越秀区人民法院",
    "粤0105": "海珠区人民法院",
    "粤0106": "天河区人民法院",
    "粤0111": "白云区人民法院",
    "粤0112": "黄埔区人民法院",
    "粤0113": "番禺区人民法院",
    "粤0114": "花都区人民法院",
    "粤0115": "南沙区人民法院",
    "粤0117": "从化区人民法院",
    "粤0118": "增城区人民法院",
    "粤0191": "广东自由贸易区南沙片区人民法院",
    "粤0192": "广州互联网法院",
    "粤7101": "广州铁路运输法院",
    "粤72": "广州海事法院",
    "粤73": "广州知识产权法院",
}


def env_name_part(code: str) -> str:
    """The ASCII form of a court code in environment variable names (``粤0106`` -> ``YUE0106``)."""
    return "YUE" + code.removeprefix("粤")
