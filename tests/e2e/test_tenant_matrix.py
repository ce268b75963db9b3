"""Tenant isolation matrix, generated from the OpenAPI document: for every operation, another
town's caller and a county department not involved, given Zhaowan's objects, get 404 and
change nothing; shared keys and lists show nothing of Zhaowan.

The operations are enumerated at collection time from the gateway application itself (so
that each one is its own test, named after the endpoint); the first test checks that the live
document of the running gateway has exactly these operations. Every path parameter needs a
factory in ``tenant_factories`` (or an entry, with its reason, in its ``GLOBAL_PARAMETERS``):
a new endpoint with a new parameter fails here until it has one.

Callers: (a) a Bailiu user holding every township role (with a certificate claim), (b) a user
of the county's culture-tourism bureau, which has no stationed unit, item or case of ours.
Request bodies are built from each operation's request schema: a small, deterministic
instance (required fields, first enum values, plain text), checked against the schema with
jsonschema (schemathesis generates one when a pattern is beyond the small builder), so that
validation passes and the request reaches the service; references to people, receipts and
towns in bodies point at Zhaowan's. A 4xx other than 404 is accepted only when an unknown id
gets the very same answer (a refusal for who the caller is, answered before any lookup: it
tells nothing about Zhaowan's object); those are listed in the summary printed at the end
(run with -s). Creates that name nothing of Zhaowan's are not sent (they would only write
into the caller's own town).
"""

from __future__ import annotations

import re
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import jsonschema  # type: ignore[import-untyped]
import pytest
import schemathesis
from hypothesis.errors import NonInteractiveExampleWarning

from tests.e2e import tenant_factories as tf
from tests.e2e.conftest import TokenFactory, auth
from township_testing.stack import LocalStack

pytestmark = pytest.mark.e2e

PREFIXES = ("/api/", "/public/", "/open311/")
METHODS = ("get", "post", "put", "patch", "delete")
TOWNSHIP_ROLES = (
    "clerk",
    "approver",
    "agent",
    "officer",
    "legal_reviewer",
    "township_admin",
    "auditor",
)
TOWN_FIELDS = ("township", "township_id", "jurisdiction_id")
# Answers that may name Zhaowan to the callers, and why (nothing of its staff or public).
TOWN_NAMED_BY_DESIGN = {
    # The responsibility matrix (who decides, advises, is informed) is the county's own
    # configuration of each town, readable by every county user; it holds no personal data.
    ("GET", "/api/v1/stationed/matrix"),
    # A receipt code is the applicant's key to the public status of their intake, which says
    # where it was taken in; personal data stays out (checked by the markers).
    ("GET", "/public/v1/applications/{receipt_code}"),
}
# Fields of the owner's view that move by themselves (working days pass, deadlines near).
VOLATILE = re.compile(r"remaining|overdue|working_days_used|expected_datetime|updated_datetime")
SAFE_TEXT = "tenant matrix"


def _document_from_the_app() -> dict[str, Any]:
    """The OpenAPI document of the gateway application, built in process (no stack needed)."""
    from township_gateway.app import create_app
    from township_gateway.config import GatewaySettings

    # a JWKS URL is never fetched while building the document (no request is verified)
    settings = GatewaySettings(jwt_jwks_url="http://127.0.0.1:9/jwks", dev_mode=True)
    document: dict[str, Any] = create_app(settings).openapi()
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted(
        (method.upper(), path)
        for path, ops in document["paths"].items()
        if path.startswith(PREFIXES)
        for method in ops
        if method in METHODS
    )


OPERATIONS = _operations(_document_from_the_app())


# ---------------------------------------------------------------------------- fixtures
@dataclass
class Tally:
    operations: int = 0
    requests: int = 0
    cross_town_reads: int = 0
    changes: int = 0
    refused_first: set[str] = field(default_factory=set)


TALLY = Tally()


@pytest.fixture(scope="module")
def live_document(gateway: httpx.Client) -> dict[str, Any]:
    r = gateway.get("/openapi.json")
    assert r.status_code == 200
    document: dict[str, Any] = r.json()
    return document


@pytest.fixture(scope="module")
def live_schema(live_document: dict[str, Any]) -> Any:
    return schemathesis.openapi.from_dict(live_document)


@pytest.fixture(scope="module")
def world(gateway: httpx.Client, token: TokenFactory) -> Iterator[tf.World]:
    w = tf.World(gateway, token)
    yield w
    for cleanup in w.cleanups:
        cleanup()
    print(
        f"\ntenant matrix: {TALLY.operations} of {len(OPERATIONS)} operations covered, "
        f"{TALLY.requests} requests "
        f"made, cross-town reads = {TALLY.cross_town_reads}, changes = {TALLY.changes}"
        + (
            "\nrefused before any lookup (the same answer for an unknown id):\n  "
            + "\n  ".join(sorted(TALLY.refused_first))
            if TALLY.refused_first
            else ""
        )
    )


@pytest.fixture(scope="module")
def callers(token: TokenFactory) -> dict[str, str]:
    tag = uuid.uuid4().hex[:6]
    return {
        "bailiu": token(
            tf.OTHER, *TOWNSHIP_ROLES, sub=f"matrix-bl-{tag}", extra={"certificate": "61BL0001"}
        ),
        tf.UNINVOLVED_DEPARTMENT: token(
            None, "county_dept", sub=f"matrix-ct-{tag}", department=tf.UNINVOLVED_DEPARTMENT
        ),
    }


# ---------------------------------------------------------------------------- bodies
def _resolve(document: dict[str, Any], schema: Any) -> Any:
    while isinstance(schema, dict) and "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def _minimal_text(pattern: str) -> str | None:
    """The shortest, plainest string of the simple patterns the API uses (None if unsure)."""
    body = pattern.removeprefix("^").removesuffix("$")
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "(":  # a group: its first alternative that is not empty, else empty
            depth, j = 1, i + 1
            while depth:
                depth += {"(": 1, ")": -1}.get(body[j], 0)
                j += 1
            options = body[i + 1 : j - 1].split("|")
            atom = next((o for o in options if o), "")
            if "(" in atom or "|" in atom:
                return None
            i, piece = j, _minimal_text(atom)
            if piece is None:
                return None
        elif c == "[":
            j = body.index("]", i)
            klass = body[i + 1 : j]
            piece = "1" if klass.startswith("0-9") else klass[0] if klass[0] != "\\" else None
            if piece is None:
                return None
            i = j + 1
        elif c == "\\":
            piece = {"d": "1", "-": "-", ".": "."}.get(body[i + 1])
            if piece is None:
                return None
            i += 2
        else:
            piece, i = c, i + 1
        count = 1
        if i < len(body) and body[i] in "?*+":
            count = {"?": 0, "*": 0, "+": 1}[body[i]]
            i += 1
        elif i < len(body) and body[i] == "{":
            j = body.index("}", i)
            count = int(body[i + 1 : j].split(",")[0])
            i = j + 1
        out.append(piece * count)
    text = "".join(out)
    return text if re.fullmatch(pattern, text) else None


def _minimal(document: dict[str, Any], schema: Any, name: str = "") -> Any:
    """A small, plain instance of ``schema``: required properties only, first enum values,
    plain text for free text (so that the request passes validation and reaches the lookup)."""
    schema = _resolve(document, schema)
    if not isinstance(schema, dict):
        return None
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return next((v for v in schema["enum"] if v), schema["enum"][0])
    for combinator in ("anyOf", "oneOf"):
        options = [
            o for o in schema.get(combinator, []) if _resolve(document, o) != {"type": "null"}
        ]
        if options:
            return _minimal(document, options[0], name)
    if "allOf" in schema:
        return _minimal(document, schema["allOf"][0], name)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        required = set(schema.get("required", []))
        props = schema.get("properties", {})
        out = {k: _minimal(document, v, k) for k, v in props.items() if k in required}
        for k in ("reason", "note"):  # steps that must state why: say something
            if k in props and k not in out:
                out[k] = _minimal(document, props[k], k)
        return out
    if kind == "array":
        return [_minimal(document, schema.get("items", {}), name)] * schema.get("minItems", 0)
    if kind == "integer" or kind == "number":
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1)
        value = max(low, min(1, schema.get("maximum", 1)))
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return False
    if kind == "string":
        if schema.get("format") == "date" or "\\d{4}-\\d{2}-\\d{2}" in schema.get("pattern", ""):
            return tf._today().isoformat()
        if "pattern" in schema:
            for example in schema.get("examples", []):
                if re.fullmatch(schema["pattern"], example):
                    return example
            return _minimal_text(schema["pattern"])
        low, high = schema.get("minLength", 0), schema.get("maxLength", 1000)
        return (SAFE_TEXT * (1 + low // len(SAFE_TEXT)))[: max(low, min(high, len(SAFE_TEXT)))]
    return None


def _valid(document: dict[str, Any], schema: Any, value: Any) -> bool:
    root = {**schema, "components": document["components"]}
    return bool(jsonschema.Draft202012Validator(root).is_valid(value))


def _references(world: tf.World, path: str) -> dict[str, Any]:
    """Body fields that name one of Zhaowan's objects (or Zhaowan itself)."""
    refs: dict[str, Any] = {"township": tf.OWNER}
    if path.startswith("/api/v1/stationed/"):
        refs["person"] = tf._stationed(world)["person"]
    elif path.startswith("/api/"):
        refs["person"] = tf._person(world)["sub"]
    if path.startswith("/api/"):
        refs["receipt_code"] = tf.receipt(world).value
    if path.startswith("/api/v1/enforcement/"):  # Zhaowan's certified officers
        team = tf._team(world)
        refs["officers"] = [team["a_sub"], team["b_sub"]]
    return refs


def _body(
    live_schema: Any, document: dict[str, Any], method: str, path: str, world: tf.World
) -> tuple[Any, str, dict[str, Any]]:
    """A schema-valid body, its media type, and the references to Zhaowan put into it."""
    op = document["paths"][path][method.lower()]
    if "requestBody" not in op:
        return None, "", {}
    media = "application/json"
    content = op["requestBody"]["content"]
    schema = content.get(media, next(iter(content.values())))["schema"]
    body = _minimal(document, schema)
    if not _valid(document, schema, body):  # a pattern too hard for _minimal_text: generate
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NonInteractiveExampleWarning)
            body = live_schema[path][method].as_strategy().example().body
    if not op["requestBody"].get("required") and body == {}:
        body = None
    used: dict[str, Any] = {}
    if isinstance(body, dict):
        props = _resolve(document, schema).get("properties", {})
        for name, value in _references(world, path).items():
            if name in props:
                body[name] = value
                used[name] = value
    return body, media, used


# ---------------------------------------------------------------------------- checks
def _normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items() if not VOLATILE.search(k)}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


def _town_fields(value: Any, found: list[str]) -> list[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            if k in TOWN_FIELDS and v == tf.OWNER:
                found.append(k)
            _town_fields(v, found)
    elif isinstance(value, list):
        for v in value:
            _town_fields(v, found)
    return found


def _problem_type(r: httpx.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return ""
    return str(body.get("type", "")).rsplit("/", 1)[-1] if isinstance(body, dict) else ""


def _leaks(world: tf.World, r: httpx.Response, sent: list[str], town_ok: bool) -> list[str]:
    """Zhaowan's markers in the answer (echoes of what the caller sent do not count)."""
    markers = world.markers | world.personal
    text = r.text
    echoes = [v for v in sent if any(m in v for m in markers)]  # e.g. a 404 naming the sub
    for value in sorted(echoes, key=len, reverse=True):
        text = text.replace(value, "")
    found = sorted(m for m in markers if m in text)
    try:
        found += [] if town_ok else [f"{k}=zhaowan" for k in _town_fields(r.json(), [])]
    except ValueError:
        pass
    return found


def _unknown_like(value: str) -> str:
    """A value of the same shape as ``value`` that names nothing."""
    if re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", value):
        return str(uuid.uuid4())
    if re.fullmatch(r"[A-Z0-9]{6,32}", value):
        return value[:2] + uuid.uuid4().hex[: len(value) - 2].upper()
    return "zz-" + uuid.uuid4().hex[:10]


def _unknown_ref(value: Any) -> Any:
    return [_unknown_like(v) for v in value] if isinstance(value, list) else _unknown_like(value)


def _call(
    gateway: httpx.Client,
    method: str,
    url: str,
    tok: str,
    params: dict[str, Any],
    body: Any,
    media: str,
) -> httpx.Response:
    TALLY.requests += 1
    headers = {**auth(tok), "Idempotency-Key": str(uuid.uuid4())}
    if body is None:
        return gateway.request(method, url, params=params, headers=headers)
    return gateway.request(method, url, params=params, headers=headers, json=body)


def _query(world: tf.World, document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    """Required query parameters, plus the town filters pointed at Zhaowan (for /open311/,
    the jurisdiction is the caller's own town: the request must not reach Zhaowan's data)."""
    op = document["paths"][path][method.lower()]
    query: dict[str, Any] = {}
    for p in op.get("parameters", []):
        if p["in"] != "query":
            continue
        name = p["name"]
        if name == "jurisdiction_id":
            query[name] = tf.OTHER
        elif name == "township":
            query[name] = tf.OWNER
        elif name == "page_size":
            query[name] = 200  # one request per caller: the largest page
        elif name == "person":
            query[name] = _references(world, path).get("person", tf._person(world)["sub"])
        elif not p.get("required"):
            continue
        elif name == "year":
            query[name] = tf._today().year
        elif name == "quarter":
            query[name] = (tf._today().month - 1) // 3 + 1
        else:
            pytest.fail(f"add a query value for {name} ({method} {path})")
    return query


# ---------------------------------------------------------------------------- tests
def test_the_live_document_has_the_enumerated_operations(live_document: dict[str, Any]) -> None:
    assert _operations(live_document) == OPERATIONS


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_other_towns_get_404_and_change_nothing(
    method: str,
    path: str,
    system: LocalStack,
    gateway: httpx.Client,
    live_document: dict[str, Any],
    live_schema: Any,
    world: tf.World,
    callers: dict[str, str],
) -> None:
    if path not in live_document["paths"]:
        pytest.fail(f"{method} {path} is not in the running gateway's document")
    targets: dict[str, tf.Target] = {}
    for param in tf.path_params(path):
        found = tf.resolve(path, param)
        if found is None:
            pytest.fail(f"add a factory for {param} ({method} {path})")
        targets[param] = (
            tf.Target(found[0], "natural") if isinstance(found, tuple) else found(world)
        )
    objects = [p for p, t in targets.items() if t.kind == "object"]
    query = _query(world, live_document, method, path)
    body, media, refs = _body(live_schema, live_document, method, path, world)
    if not targets and method != "GET" and not (set(refs) - {"township"}):
        # A create that names nothing of Zhaowan's: there is no object of another town here.
        return
    TALLY.operations += 1
    snapshots: list[tf.Snapshot | None] = [t.snapshot for t in targets.values()]
    if "person" in refs:
        snapshots.append(
            tf.stationed_unit(world).snapshot
            if path.startswith("/api/v1/stationed/")
            else tf.person(world).snapshot
        )
    if "receipt_code" in refs:
        snapshots.append(tf.receipt(world).snapshot)
    before = [_normalise(s()) for s in snapshots if s is not None]

    url = path
    for param, target in targets.items():
        url = url.replace("{" + param + "}", target.value)
    sent = (
        [t.value for t in targets.values()]
        + [x for v in refs.values() for x in (v if isinstance(v, list) else [v])]
        + [str(v) for v in query.values()]
    )
    problems: list[str] = []
    for who, tok in callers.items():
        r = _call(gateway, method, url, tok, query, body, media)
        what = f"{who}: {method} {url} → {r.status_code} {r.text[:300]}"
        if r.status_code >= 500:
            problems.append(f"server error; {what}")
            continue
        leaks = _leaks(world, r, sent, (method, path) in TOWN_NAMED_BY_DESIGN)
        if leaks:
            TALLY.cross_town_reads += 1
            problems.append(f"Zhaowan's data in the answer ({', '.join(leaks)}); {what}")
        if not (objects or (method != "GET" and set(refs) - {"township"})):
            continue
        if r.status_code == 404:
            continue
        if r.status_code == 403 and _problem_type(r) == "role-required":
            continue  # the gateway's role check, answered before any lookup
        if 400 <= r.status_code < 500:
            # Refused for who the caller is or what the body says, before any lookup? Then an
            # unknown id gets the very same answer, and nothing tells Zhaowan's object apart.
            control_url = path
            for param, target in targets.items():
                value = _unknown_like(target.value) if target.kind == "object" else target.value
                control_url = control_url.replace("{" + param + "}", value)
            control_body = body
            if isinstance(body, dict):
                control_body = {
                    k: _unknown_ref(v) if k in refs and k != "township" else v
                    for k, v in body.items()
                }
            control = _call(gateway, method, control_url, tok, query, control_body, media)
            kind = _problem_type(r)
            if control.status_code == r.status_code and _problem_type(control) == kind:
                TALLY.refused_first.add(f"{r.status_code} {kind} ({who}: {method} {path})")
                continue
            what += f" (an unknown id: {control.status_code} {_problem_type(control)})"
        problems.append(f"expected 404 for Zhaowan's {objects or list(refs)}; {what}")

    after = [_normalise(s()) for s in snapshots if s is not None]
    if after != before:
        TALLY.changes += 1
        problems.append(f"Zhaowan's object changed: before {before} after {after}")
    assert not problems, "\n".join(problems)
