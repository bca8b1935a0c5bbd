"""The OpenAPI document: valid OpenAPI 3.1, every route of the app, bodies from the intake models."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate
from starlette.routing import Route

from courtwatch.intake import MODELS
from web import openapi
from web.app import routes


def test_the_document_is_valid_openapi() -> None:
    validate(openapi.document(routes()))


def test_every_route_and_method_is_in_the_document() -> None:
    document = openapi.document(routes())
    listed = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    expected = set(openapi.documented_operations(routes()))
    assert listed == expected
    # Every path and method of the route table, websocket and static files included.
    for route in routes():
        if isinstance(route, Route):
            for method in (route.methods or set()) - {"HEAD"}:
                assert method.lower() in document["paths"][route.path], (route.path, method)
    assert "/ws/live" in document["paths"] and "/static/{path}" in document["paths"]
    assert set(openapi.OPERATIONS) == expected, "OPERATIONS documents a route that is gone"


def test_an_undocumented_route_cannot_be_published() -> None:
    async def nothing(request: Any) -> None: ...

    with pytest.raises(KeyError, match="POST /api/new-thing"):
        openapi.document([*routes(), Route("/api/new-thing", nothing, methods=["POST"])])


def test_every_post_has_its_body_and_report_bodies_come_from_the_intake_models() -> None:
    document = openapi.document(routes())
    without_body = {
        "/api/reports/{report_id}/verify",
        "/api/reports/{report_id}/claim",
        "/api/reports/{report_id}/on-scene",
        "/api/reports/{report_id}/resolve",
        "/api/log/checkpoints",
        "/api/reports/{report_id}/photos/{photo_id}/publish",
    }
    for path, item in document["paths"].items():
        if "post" in item and path not in without_body:
            assert "requestBody" in item["post"], path
    schemas = document["components"]["schemas"]
    for kind, model in MODELS.items():
        generated = model.model_json_schema(ref_template=openapi.SCHEMAS + "{model}")
        documented = dict(schemas[model.__name__]["properties"])
        # Every kind may also carry sealed details (web/sealed, courtwatch/sealing/fields.py).
        assert documented.pop("sealed") == {"$ref": openapi.SCHEMAS + "Sealed"}, kind
        assert documented == generated["properties"], kind
    submission = document["paths"]["/api/reports"]["post"]["requestBody"]
    assert submission["content"]["application/json"]["schema"] == {
        "$ref": openapi.SCHEMAS + "Submission"
    }
    kinds = schemas["Submission"]["discriminator"]["mapping"]
    assert set(kinds) == set(MODELS)


def test_errors_and_query_parameters_are_described() -> None:
    document = openapi.document(routes())
    invalid = document["components"]["schemas"]["Invalid"]
    assert invalid["required"] == ["error", "fields"]
    for status in ("404", "409", "413", "422", "503"):
        assert status in document["paths"]["/api/reports/{report_id}/amend"]["post"]["responses"]
    names = {
        path: {p["name"] for p in item["get"].get("parameters", []) if p["in"] == "query"}
        for path, item in document["paths"].items()
        if "get" in item
    }
    assert names["/api/map/reports"] == {"bbox", "kinds", "since", "courthouse", "zoom"}
    assert names["/api/log/inclusion"] == {"leaf", "report", "version", "size"}
    assert names["/summaries/{period}/{key}"] == {"courthouse", "revision"}
    assert names["/ws/live"] == {"since", "snapshot"}


async def test_the_document_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    served = response.json()
    validate(served)
    assert served == openapi.document(routes())
