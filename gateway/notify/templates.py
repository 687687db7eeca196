"""The text of each SMS template, for counting segments and screening before anything is sent.

The provider holds the approved templates and the config names each one by its
code (``notify.sms.templates``: event -> code); the provider fills in the
parameters. The gateway keeps the same wording here so it can count what a
message will cost and refuse one that would carry a link or a payment request
(CONTRACTS.md section 7) before it leaves. Register these texts with the
provider as they are; a template changed at the provider must be changed here
too.

Placeholders are ``${name}``, as the provider writes them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: event -> template text. Wording rules: say what happened and where to look, name the
#: official channel, never a link, an account or a request to pay somewhere (DOMAIN.md section 6).
TEMPLATE_TEXTS: dict[str, str] = {
    "filing.received": "您提交的立案申请（编号${filing_id}）已由${court_name}收到，请留意后续审查结果。",
    "filing.correction_required": "您提交的立案申请（编号${filing_id}）需要补正材料，请在原办理渠道查看补正要求并按期提交。",
    "filing.reviewed": "您提交的立案申请（编号${filing_id}）审查结果：${result}。详情请在原办理渠道查看。",
    "filing.docketed": "您的立案申请（编号${filing_id}）已立案，案号${case_no}。",
    "hearing.scheduled": "案件${case_no}定于${at}在${place}开庭，请准时参加。",
    "judge_message.replied": "您就案件${case_no}的留言法官已回复，请在原办理渠道查看。",
    "judge_message.callback_requested": "您的来电已记录，法官将在${due}回电，请保持电话畅通。",
    "application.updated": "您的${kind}申请（编号${application_id}）状态已更新为：${status}。",
    "payment.confirmed": "案件${case_no}的诉讼费${amount}元已确认缴纳。",
    "refund.completed": "案件${case_no}的诉讼费退费${amount}元已办理完成。",
    "delivery.finished": "您提交的${operation}（受理编号${delivery_id}）转交${court_name}的结果：${result}。详情请在原办理渠道查看。",
    "case_passwords.paused": "${court_name}案件查询密码一小时内错误${failures}次，查询服务已暂停至${until}，请留意是否有人试探密码。",
    "sla.reminder": "办理提醒：${item}将于${due}到期，请及时办理。",
    "sla.escalation": "督办提醒：${item}已超过办理期限${days}天，请督促办理。",
}

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class TemplateError(ValueError):
    """The template is unknown or a parameter it needs is missing."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def placeholders(text: str) -> list[str]:
    """The parameter names a template uses, in order, each once."""
    return list(dict.fromkeys(_PLACEHOLDER.findall(text)))


def template_text(event: str) -> str:
    try:
        return TEMPLATE_TEXTS[event]
    except KeyError:
        raise TemplateError(f"unknown_template:{event}") from None


def render(text: str, params: Mapping[str, object]) -> str:
    """Fill the placeholders; every one must have a parameter (a blank would go out as is)."""
    missing = [name for name in placeholders(text) if name not in params or str(params[name]) == ""]
    if missing:
        raise TemplateError("missing_param:" + ",".join(missing))
    return _PLACEHOLDER.sub(lambda match: str(params[match.group(1)]), text)


def used_params(text: str, params: Mapping[str, object]) -> dict[str, str]:
    """The parameters the template uses, as strings: what the provider receives in TemplateParam."""
    return {name: str(params[name]) for name in placeholders(text) if name in params}
