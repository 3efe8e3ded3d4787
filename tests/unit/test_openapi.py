"""The OpenAPI document covers every route the server's router serves and is valid OpenAPI 3.1."""

from __future__ import annotations

import asyncio

import pytest
from openapi_spec_validator import validate

from app.openapi import openapi_document, served_operations


@pytest.fixture(scope="module")
def app():
    from server import PromptServer

    loop = asyncio.new_event_loop()
    server = PromptServer(loop)
    try:
        server.add_routes()
        yield server.app
    finally:
        # The process has no real server: later tests (the Ray worker's stand-in) rely on that.
        PromptServer.created = None
        loop.close()


def test_the_document_is_valid_openapi_3_1(app):
    document = openapi_document(app)
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_route_of_the_router_is_in_the_document_and_nothing_else(app):
    document = openapi_document(app)
    documented = {(method.upper(), path) for path, operations in document["paths"].items() for method in operations}
    assert documented == served_operations(app)
    for route in [("POST", "/api/generate"), ("GET", "/api/jobs/{job_id}/events"), ("POST", "/prompt"),
                  ("GET", "/api/openapi.json"), ("GET", "/ws"), ("GET", "/api/view")]:
        assert route in documented


def test_the_routes_clients_build_on_have_schemas(app):
    paths = openapi_document(app)["paths"]
    generate = paths["/api/generate"]["post"]
    assert set(generate["requestBody"]["content"]["application/json"]["schema"]["properties"]) >= {
        "workflow", "set", "wait", "client_id"}
    assert {"200", "202", "400"} <= set(generate["responses"])
    assert "text/event-stream" in paths["/api/jobs/{job_id}/events"]["get"]["responses"]["200"]["content"]
    assert paths["/prompt"]["post"]["responses"]["400"]["content"]["application/json"]["schema"]["required"] == [
        "error"]
    assert {parameter["name"] for parameter in paths["/api/jobs/{job_id}"]["get"]["parameters"]} == {"job_id"}
