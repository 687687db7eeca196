"""Public operations: templates and the fee calculator (any valid actor token, even anonymous)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.responses import Response

from reference_court import templates
from reference_court.context import OpContext, Outcome
from reference_court.contract import shapes as m
from reference_court.fees import calculate_fees
from reference_court.problems import not_found


def templates_list(ctx: OpContext, args: m.TemplateListArgs) -> Outcome:
    found = templates.search(args.service, args.q)
    return Outcome({"items": [t.describe() for t in found], "next_cursor": None})


def _template(template_id: str) -> templates.Template:
    template = templates.find(template_id)
    if template is None:
        raise not_found("未找到该文书样式。")
    return template


def templates_get(ctx: OpContext, args: m.TemplateArgs) -> Outcome:
    return Outcome(_template(args.template_id).describe())


def templates_download(ctx: OpContext, args: m.TemplateArgs) -> Response:
    template = _template(args.template_id)
    # RFC 6266 / RFC 5987: an ASCII fallback name plus the UTF-8 name for clients that know filename*.
    disposition = (f'attachment; filename="{template.template_id}.docx"; '
                   f"filename*=UTF-8''{quote(template.file_name, safe='')}")
    return Response(templates.docx_bytes(template.template_id), 200, media_type=templates.DOCX_TYPE,
                    headers={"Content-Disposition": disposition, "Cache-Control": "public, max-age=3600"})


def fees_calculate(ctx: OpContext, args: m.FeeArgs) -> Outcome:
    return Outcome(calculate_fees(args))
