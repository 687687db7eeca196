"""Guangzhou's courts and their codes (DOMAIN.md section 1).

The code is what case numbers carry, so routing by case number is exact. The
table is the seed for the shipped config and the reference court; the gateway
itself routes only to the courts named in its config.
"""

from __future__ import annotations

GUANGZHOU_COURTS: dict[str, str] = {
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


def court_env_suffix(code: str) -> str:
    """``粤0106`` -> ``YUE0106``: the form court codes take in environment variable names."""
    return code.replace("粤", "YUE")
