"""The demo's fictitious people, cases and passwords, in one place every part of the demo may read.

Pure data: this package imports nothing of the gateway, the adapters or the reference court, so
an adapter's demo stand-ins (``adapters/*/standins.py``), the demo identity provider and the
tests can all use it without depending on one another. The reference court's default data file
(``reference_court/data/seed.yaml``) holds the same people and cases in the court's own format;
``tests/reference_court/test_seed.py`` checks that the two agree.

Every ID number passes GB 11643 and every phone number is a mainland mobile pattern, but no real
person has them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoPerson:
    key: str
    name: str
    id_type: str
    id_number: str
    phone: str
    note: str


DEMO_PEOPLE: dict[str, DemoPerson] = {
    "zhangwei": DemoPerson("zhangwei", "张伟", "ID_CARD", "440106199001011235", "13631415926",
                           "party at 粤01, 粤0106, 粤0192 and (as legal representative) 粤73"),
    "wangfang": DemoPerson("wangfang", "王芳", "ID_CARD", "440104199203152244", "13711112222",
                           "real-name verified but a party in no case: every case lookup is NOT_FOUND"),
    "chenzhiqiang": DemoPerson("chenzhiqiang", "陈志强", "ID_CARD", "440105197809233513", "13922334455",
                               "lawyer (执业证号 14401201010587316), agent of 张伟 in his 粤0106 and 粤01 cases"),
    "chenjing": DemoPerson("chenjing", "陈静", "ID_CARD", "440111198802081627", "13560708090",
                           "plaintiff in the legacy case at 粤01 and a labour case at 粤0111"),
    "liuyang": DemoPerson("liuyang", "刘洋", "ID_CARD", "440102198506124016", "13800001111",
                          "defendant against 张伟 in the judged loan case at 粤0106"),
}

DEMO_CASES: dict[str, str] = {
    "zhangwei_yue0106_trial": "（2026）粤0106民初22468号",  # online hearing ahead, a fee to pay
    "zhangwei_yue0106_judged": "（2026）粤0106民初18803号",  # judgment served 3 days before load: appealable
    "zhangwei_yue0106_appealed": "（2025）粤0106民初30512号",
    "zhangwei_yue01_appeal": "（2026）粤01民终21837号",
    "zhangwei_yue0192_online": "（2026）粤0192民初31506号",
    "zhangwei_yue0192_effective": "（2025）粤0192民初47210号",  # effective judgment: certificates, enforcement
    "zhangwei_yue73_trademark": "（2026）粤73知民初1024号",  # 张伟 as legal representative
    "chenjing_yue01_legacy": "（2014）穗中法民一初字第4713号",
    "chenjing_yue0111_labour": "（2026）粤0111民初11042号",
}

#: case query passwords (12368 hotline) of the demo people: password -> (court, case number, person key)
DEMO_PASSWORDS: dict[str, tuple[str, str, str]] = {
    "260615": ("粤0106", "（2026）粤0106民初22468号", "zhangwei"),
    "618803": ("粤0106", "（2026）粤0106民初18803号", "zhangwei"),
    "305120": ("粤0106", "（2025）粤0106民初30512号", "zhangwei"),
    "318506": ("粤0192", "（2026）粤0192民初31506号", "zhangwei"),
    "472101": ("粤0192", "（2025）粤0192民初47210号", "zhangwei"),
    "218370": ("粤01", "（2026）粤01民终21837号", "zhangwei"),
    "730124": ("粤73", "（2026）粤73知民初1024号", "zhangwei"),
    "471300": ("粤01", "（2014）穗中法民一初字第4713号", "chenjing"),
    "110420": ("粤0111", "（2026）粤0111民初11042号", "chenjing"),
}


@dataclass(frozen=True)
class DemoStaff:
    """Someone who signs in to the console through the demo identity provider."""

    key: str
    label: str
    name: str
    court: str | None  # None for a gateway operator, who sees every court


DEMO_STAFF: dict[str, DemoStaff] = {
    "staff-tianhe": DemoStaff("staff-tianhe", "李敏（天河区人民法院 立案庭）", "李敏", "粤0106"),
    "staff-zhongyuan": DemoStaff("staff-zhongyuan", "陈刚（广州市中级人民法院 立案庭）", "陈刚", "粤01"),
    "operator": DemoStaff("operator", "周运（网关运维）", "周运", None),
}

__all__ = ["DEMO_CASES", "DEMO_PASSWORDS", "DEMO_PEOPLE", "DEMO_STAFF", "DemoPerson", "DemoStaff"]
