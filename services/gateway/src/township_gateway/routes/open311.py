"""Open311 GeoReport v2 (complaints and reports intake for civic apps).

Implements https://wiki.open311.org/GeoReport_v2 in JSON: discovery, services, service
definitions, ``POST requests`` (form-encoded as the spec says, or JSON), tokens, requests
with the spec's filters. ``jurisdiction_id`` is the township slug (required when more than
one town is configured). The XML format is not offered: ``.xml`` answers 400 saying so.
Errors are the spec's array ``[{"code": …, "description": …}]`` with the HTTP status.
Requests are public intake: no token; the complainant's personal data never comes back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import parse_qs
from xml.etree import ElementTree as ET

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from township.enforcement.v1 import enforcement_pb2 as pb
from township_gateway.clients import Services
from township_gateway.deps import FastJSON
from township_gateway.problems import Problem
from township_gateway.routing import PrefixRouter
from township_platform.towns import TownshipsConfig

SPEC = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-27T00:00:00+08:00"
FIELD_LIMITS = {
    "service_code": 64,
    "description": 4000,
    "address_string": 500,
    "address_id": 100,
    "lat": 32,
    "long": 32,
    "email": 200,
    "device_id": 200,
    "account_id": 200,
    "first_name": 50,
    "last_name": 50,
    "phone": 30,
    "media_url": 1000,
}


class Open311Error(Exception):
    """An error rendered as the spec's array of {code, description}."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


XML_TYPE = "text/xml; charset=utf-8"
FORMATS = ("xml", "json")
"""GeoReport v2: XML is required, JSON at the provider's discretion; both are served."""

# the element of each item of a list, by the list's element name (the spec's examples)
_ITEM = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}


def _xml_value(parent: ET.Element, key: str, value: Any) -> None:
    child = ET.SubElement(parent, key)
    if isinstance(value, dict):
        for k, v in value.items():
            _xml_value(child, k, v)
    elif isinstance(value, list):
        for item in value:
            _xml_value(child, _ITEM.get(key, "item"), item)
    elif isinstance(value, bool):
        child.text = "true" if value else "false"
    elif value is not None:
        child.text = str(value)


def to_xml(root: str, data: Any) -> bytes:
    """GeoReport v2 XML of ``data`` (a list is ``root`` holding one element per item)."""
    holder = ET.Element("holder")
    _xml_value(holder, root, data)
    body = ET.tostring(holder[0], encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode()


def _answer(fmt: str, root: str, data: Any, status_code: int = 200) -> Response:
    if fmt == "xml":
        return Response(to_xml(root, data), status_code=status_code, media_type=XML_TYPE)
    return FastJSON(data, status_code=status_code)


def _error(status: int, description: str, fmt: str = "json") -> Response:
    return _answer(fmt, "errors", [{"code": status, "description": description}], status)


def _format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise Open311Error(400, f"unknown format {fmt!r}; use .xml or .json")


def _jurisdiction(request: Request, given: str | None) -> str:
    towns: TownshipsConfig | None = request.app.state.townships
    slugs = towns.slugs if towns else []
    if not given:
        if len(slugs) == 1:
            return slugs[0]
        raise Open311Error(
            400, f"jurisdiction_id is required (one of: {', '.join(slugs) or 'none configured'})"
        )
    if towns is not None and given not in slugs:
        raise Open311Error(404, f"jurisdiction_id {given!r} not found")
    return given


async def _call(request: Request, method_name: str, message: Any) -> Any:
    services: Services = request.app.state.services
    try:
        return await services.call(getattr(services.enforcement, method_name), message)
    except Problem as p:
        status = 400 if p.status == 422 else p.status
        detail = p.errors[0]["message"] if p.errors else p.detail
        raise Open311Error(status, detail) from p


class Open311Route(APIRoute):
    """Renders :class:`Open311Error` as the spec's error array (problem+json elsewhere)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler."""
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            fmt = request.path_params.get("fmt")
            fmt = fmt if fmt in FORMATS else "json"  # an unknown format is told in JSON
            raw = request.url.path + "?" + request.url.query
            if "\x00" in raw or "%00" in raw:
                return _error(400, "NUL characters are not allowed", fmt)
            try:
                return await handler(request)
            except Open311Error as e:
                return _error(e.status, e.description, fmt)
            except Problem as p:
                # raised by the router's dependencies (the public rate limit): the spec's
                # errors, with the problem's headers (Retry-After)
                detail = p.errors[0]["message"] if p.errors else p.detail
                response = _error(p.status, detail, fmt)
                response.headers.update(p.headers)
                return response

        return route_handler


_ERRORS = {
    "description": "Open311 error array",
    "content": {
        "application/json": {
            "schema": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "integer"},
                        "description": {"type": "string"},
                    },
                    "required": ["code", "description"],
                },
            }
        }
    },
}
router = PrefixRouter(
    prefix="/open311/v2",
    tags=["open311"],
    route_class=Open311Route,
    responses={
        400: _ERRORS,
        404: _ERRORS,
        415: _ERRORS,
        429: _ERRORS,
        502: _ERRORS,
        503: _ERRORS,
        504: _ERRORS,
    },
)


def _none(value: str) -> str | None:
    return value or None


def _coord(value: str) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _request_out(r: pb.PublicRequest) -> dict[str, Any]:
    return {
        "service_request_id": r.service_request_id,
        "status": r.status,
        "status_notes": _none(r.status_notes),
        "service_name": r.service_name,
        "service_code": r.service_code,
        "description": _none(r.description),
        "agency_responsible": _none(r.agency_responsible),
        "service_notice": _none(r.service_notice),
        "requested_datetime": r.requested_datetime,
        "updated_datetime": _none(r.updated_datetime),
        "expected_datetime": _none(r.expected_datetime),
        "address": _none(r.address),
        "address_id": _none(r.address_id),
        "zipcode": _none(r.zipcode),
        "lat": _coord(r.lat),
        "long": _coord(r.long),
        "media_url": _none(r.media_url),
    }


@router.get("/discovery.{fmt}")
async def discovery(request: Request, fmt: str) -> Any:
    """Service discovery: where the GeoReport v2 endpoint is and what it speaks."""
    _format(fmt)
    base = str(request.base_url).rstrip("/") + "/open311/v2/"
    return _answer(
        fmt,
        "discovery",
        {
            "changeset": CHANGESET,
            "contact": "County enforcement bureau IT team (县综合执法信息化专班)",
            "key_service": "No API key needed: requests are public intake (rate-limited).",
            "endpoints": [
                {
                    "specification": SPEC,
                    "url": base,
                    "changeset": CHANGESET,
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        },
    )


@router.get("/services.{fmt}")
async def services_list(request: Request, fmt: str, jurisdiction_id: str | None = None) -> Any:
    """The complaint types a township takes (GeoReport v2 ``GET services``)."""
    _format(fmt)
    town = _jurisdiction(request, jurisdiction_id)
    r = await _call(
        request, "ListComplaintServices", pb.ListComplaintServicesRequest(township_id=town)
    )
    return _answer(
        fmt,
        "services",
        [
            {
                "service_code": s.service_code,
                "service_name": s.service_name,
                "description": s.description,
                "metadata": s.metadata,
                "type": s.type,
                "keywords": ",".join(s.keywords),
                "group": s.group,
            }
            for s in r.services
        ],
    )


@router.get("/services/{service_code}.{fmt}")
async def service_definition(
    request: Request, service_code: str, fmt: str, jurisdiction_id: str | None = None
) -> Any:
    """A service definition with its attributes (GeoReport v2 ``GET service definition``)."""
    _format(fmt)
    town = _jurisdiction(request, jurisdiction_id)
    s = await _call(
        request,
        "GetComplaintService",
        pb.GetComplaintServiceRequest(township_id=town, service_code=service_code),
    )
    return _answer(
        fmt,
        "service_definition",
        {
            "service_code": s.service_code,
            "attributes": [
                {
                    "variable": a.variable,
                    "code": a.code,
                    "datatype": a.datatype,
                    "required": a.required,
                    "datatype_description": _none(a.datatype_description),
                    "order": a.order,
                    "description": a.description,
                    **(
                        {"values": [{"key": v.key, "name": v.name} for v in a.values]}
                        if a.values
                        else {}
                    ),
                }
                for a in s.attributes
            ],
        },
    )


async def _body(request: Request) -> tuple[dict[str, str], dict[str, str]]:
    """(fields, attributes) from a form-encoded (the spec) or a JSON body."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    fields: dict[str, str] = {}
    attributes: dict[str, list[str]] = {}

    def put(key: str, value: Any) -> None:
        if key.startswith("attribute[") and "]" in key:
            code = key[len("attribute[") : key.index("]")]
            values = value if isinstance(value, list) else [value]
            attributes.setdefault(code, []).extend(str(v) for v in values)
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
            fields[key] = str(value)
        elif value is not None:
            raise Open311Error(400, f"{key} must be a string")

    if ctype in ("application/x-www-form-urlencoded", ""):
        try:
            parsed = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            raise Open311Error(400, "the body is not UTF-8") from None
        for key, values in parsed.items():
            if key.startswith("attribute["):
                put(key, values)
            else:
                put(key, values[0])
    elif ctype == "application/json":
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            raise Open311Error(400, "the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise Open311Error(400, "the JSON body must be an object")
        for key, value in data.items():
            if key == "attribute" and isinstance(value, dict):
                for code, v in value.items():
                    put(f"attribute[{code}]", v)
            else:
                put(key, value)
    elif ctype.startswith("multipart/"):
        raise Open311Error(415, "multipart uploads are not supported; send the media as media_url")
    else:
        raise Open311Error(
            415, "send application/x-www-form-urlencoded (GeoReport v2) or application/json"
        )
    values = [*fields.values(), *(v for vs in attributes.values() for v in vs), *attributes]
    if any("\x00" in v for v in values):
        raise Open311Error(400, "NUL characters are not allowed")
    for key, limit in FIELD_LIMITS.items():
        if len(fields.get(key, "")) > limit:
            raise Open311Error(400, f"{key} is longer than {limit} characters")
    return fields, {k: ",".join(v) for k, v in attributes.items()}


_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["service_code"],
    "properties": {
        "jurisdiction_id": {"type": "string", "description": "Township slug"},
        "service_code": {"type": "string"},
        "lat": {"type": "string"},
        "long": {"type": "string"},
        "address_string": {"type": "string"},
        "address_id": {"type": "string"},
        "email": {"type": "string"},
        "device_id": {"type": "string"},
        "account_id": {"type": "string"},
        "first_name": {"type": "string"},
        "last_name": {"type": "string"},
        "phone": {"type": "string"},
        "description": {"type": "string", "maxLength": 4000},
        "media_url": {"type": "string"},
        "api_key": {"type": "string", "description": "Accepted and ignored"},
    },
    "additionalProperties": {
        "description": "attribute[CODE] (attribute[CODE][] for multivaluelist); in JSON also "
        "an 'attribute' object"
    },
}


@router.post(
    "/requests.{fmt}",
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {"schema": _REQUEST_SCHEMA},
                "application/json": {"schema": _REQUEST_SCHEMA},
            },
        }
    },
)
async def create_request(request: Request, fmt: str) -> Any:
    """File a complaint (GeoReport v2 ``POST service request``); answers its id and token."""
    _format(fmt)
    fields, attributes = await _body(request)
    town = _jurisdiction(
        request, fields.get("jurisdiction_id") or request.query_params.get("jurisdiction_id")
    )
    if not fields.get("service_code"):
        raise Open311Error(400, "service_code was not provided")
    email = fields.get("email", "")
    if email and "@" not in email:
        raise Open311Error(400, "email is not an e-mail address")
    r = await _call(
        request,
        "SubmitComplaint",
        pb.SubmitComplaintRequest(
            township_id=town,
            service_code=fields["service_code"],
            description=fields.get("description", ""),
            address=fields.get("address_string", ""),
            address_id=fields.get("address_id", ""),
            lat=fields.get("lat", ""),
            long=fields.get("long", ""),
            media_url=fields.get("media_url", ""),
            attributes=attributes,
            complainant=pb.Complainant(
                first_name=fields.get("first_name", ""),
                last_name=fields.get("last_name", ""),
                email=email,
                phone=fields.get("phone", ""),
                device_id=fields.get("device_id", ""),
                account_id=fields.get("account_id", ""),
            ),
        ),
    )
    return _answer(
        fmt,
        "service_requests",
        [
            {
                "service_request_id": r.id,
                "token": r.token,
                "service_notice": r.service_notice,
                "account_id": fields.get("account_id") or None,
            }
        ],
        status_code=201,
    )


@router.get("/requests.{fmt}")
async def list_requests(
    request: Request,
    fmt: str,
    jurisdiction_id: str | None = None,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
) -> Any:
    """Service requests with the spec's filters (default: the last 90 days, at most 1000)."""
    _format(fmt)
    town = _jurisdiction(request, jurisdiction_id)
    statuses = {s.strip() for s in (status or "").split(",") if s.strip()}
    if statuses - {"open", "closed"}:
        raise Open311Error(400, "status is open, closed or both (comma separated)")
    ids = [i.strip() for i in (service_request_id or "").split(",") if i.strip()]
    if len(ids) > 1000:
        raise Open311Error(400, "at most 1000 service_request_id values")
    codes = [c.strip() for c in (service_code or "").split(",") if c.strip()]
    results: list[dict[str, Any]] = []
    for code in codes or [""]:
        r = await _call(
            request,
            "ListPublicRequests",
            pb.ListPublicRequestsRequest(
                township_id=town,
                ids=ids,
                service_code=code,
                start=start_date or "",
                end=end_date or "",
                status=next(iter(statuses)) if len(statuses) == 1 else "",
                limit=1000,
            ),
        )
        results.extend(_request_out(x) for x in r.requests)
    return _answer(fmt, "service_requests", results[:1000])


@router.get("/requests/{service_request_id}.{fmt}")
async def get_request(
    request: Request, service_request_id: str, fmt: str, jurisdiction_id: str | None = None
) -> Any:
    """One service request (GeoReport v2 ``GET service request``)."""
    _format(fmt)
    town = _jurisdiction(request, jurisdiction_id)
    r = await _call(
        request,
        "ListPublicRequests",
        pb.ListPublicRequestsRequest(township_id=town, ids=[service_request_id]),
    )
    if not r.requests:
        raise Open311Error(404, f"service_request_id {service_request_id!r} not found")
    return _answer(fmt, "service_requests", [_request_out(r.requests[0])])


@router.get("/tokens/{token}.{fmt}")
async def get_token(
    request: Request, token: str, fmt: str, jurisdiction_id: str | None = None
) -> Any:
    """The service_request_id behind a token (GeoReport v2 ``GET request_id from a token``)."""
    _format(fmt)
    town = _jurisdiction(request, jurisdiction_id)
    r = await _call(
        request, "ListPublicRequests", pb.ListPublicRequestsRequest(township_id=town, token=token)
    )
    if not r.requests:
        raise Open311Error(404, f"token {token!r} not found")
    found = r.requests[0].service_request_id
    return _answer(fmt, "service_requests", [{"service_request_id": found, "token": token}])


@router.api_route(
    "/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
)
async def not_found(rest: str) -> Any:
    """Anything else under /open311/v2 answers in the spec's error format."""
    return _error(404, f"no Open311 resource {rest!r}")
