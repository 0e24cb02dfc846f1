"""A dual-era MCP server with the fixtures the MCP conformance suite's server scenarios call.

`@modelcontextprotocol/conformance` (`conformance server --url ... --suite all`) calls
tools, resources and prompts by fixed names (`test_simple_text`, `test://static-text`,
...) and checks their exact texts; the scenario descriptions in the suite's
`src/scenarios/server/*.ts` say what each must answer. Built on the official Python SDK
2.x `MCPServer`, which serves both eras on one endpoint: 2025-11-25 (the `initialize`
handshake, sessions, server-to-client sampling and elicitation on the call's stream) and
2026-07-28 (per-request `_meta`, `InputRequiredResult`, `subscriptions/listen`).

Run with `.venv-mcp2/bin/python conformance_server.py --port PORT` (0 picks a free port);
it listens on 127.0.0.1 only and prints `MCPGATE_E2E_LISTENING 127.0.0.1:PORT` on stderr
once it accepts connections. The endpoint is `/mcp`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import socket
import sys
import warnings
from typing import Annotated, Any

import uvicorn
from mcp.server import ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.prompts.base import Prompt, UserMessage
from mcp.server.streamable_http import EventCallback, EventMessage, EventStore
from mcp.shared.exceptions import MCPError
from mcp.types import (
    MISSING_REQUIRED_CLIENT_CAPABILITY,
    JSONRPCMessage,
    AudioContent,
    Completion,
    CompletionArgument,
    CompletionContext,
    CreateMessageRequest,
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitResult,
    EmbeddedResource,
    EmptyResult,
    ImageContent,
    InputRequest,
    InputRequiredResult,
    ListRootsRequest,
    ListRootsResult,
    PromptReference,
    ResourceTemplateReference,
    SamplingMessage,
    SetLevelRequestParams,
    SubscribeRequestParams,
    TextContent,
    TextResourceContents,
    UnsubscribeRequestParams,
)
from pydantic import BaseModel, Field

# Sampling, elicitation and logging are deprecated at 2026-07-28 but are exactly what the
# 2025-11-25 scenarios exercise.
warnings.filterwarnings("ignore", category=DeprecationWarning)

LISTENING = "MCPGATE_E2E_LISTENING"

# A 1x1 red PNG and a minimal WAV, the payloads the suite's content scenarios expect.
PNG_BASE64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)
WAV_BASE64 = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA="

server = MCPServer(name="mcpgate-conformance-upstream", version="1.0.0")
subscribed_uris: set[str] = set()


def text(value: str) -> TextContent:
    return TextContent(type="text", text=value)


def png() -> ImageContent:
    return ImageContent(type="image", data=PNG_BASE64, mime_type="image/png")


def embedded_text(uri: str, mime_type: str, value: str) -> EmbeddedResource:
    return EmbeddedResource(
        type="resource", resource=TextResourceContents(uri=uri, mime_type=mime_type, text=value)
    )


def elicit_request(message: str, properties: dict[str, Any]) -> ElicitRequest:
    schema = {"type": "object", "properties": properties, "required": list(properties)}
    return ElicitRequest(params=ElicitRequestFormParams(message=message, requested_schema=schema))


def sampling_request(prompt: str, max_tokens: int) -> CreateMessageRequest:
    message = SamplingMessage(role="user", content=text(prompt))
    return CreateMessageRequest(params=CreateMessageRequestParams(messages=[message], max_tokens=max_tokens))


def elicited(answers: dict[str, Any] | None, key: str, field: str) -> str | None:
    answer = (answers or {}).get(key)
    if isinstance(answer, ElicitResult) and answer.content:
        value = answer.content.get(field)
        return None if value is None else str(value)
    return None


# ---- Content tools (both eras) -------------------------------------------------------


@server.tool()
def test_simple_text() -> str:
    """Tests simple text content response"""
    return "This is a simple text response for testing."


@server.tool()
def test_image_content() -> list[ImageContent]:
    """Tests image content response"""
    return [png()]


@server.tool()
def test_audio_content() -> list[AudioContent]:
    """Tests audio content response"""
    return [AudioContent(type="audio", data=WAV_BASE64, mime_type="audio/wav")]


@server.tool()
def test_embedded_resource() -> list[EmbeddedResource]:
    """Tests embedded resource content response"""
    return [embedded_text("test://embedded-resource", "text/plain", "This is an embedded resource content.")]


@server.tool()
def test_multiple_content_types() -> list[TextContent | ImageContent | EmbeddedResource]:
    """Tests response with multiple content types (text, image, resource)"""
    document = json.dumps({"test": "data", "value": 123})
    return [
        text("Multiple content types test:"),
        png(),
        embedded_text("test://mixed-content-resource", "application/json", document),
    ]


@server.tool()
def test_error_handling() -> str:
    """Tests error response handling"""
    raise RuntimeError("This tool intentionally returns an error for testing")


@server.tool()
async def test_tool_with_progress(ctx: Context) -> str:
    """Tests tool that reports progress notifications"""
    for step in (0, 50, 100):
        if step:
            await asyncio.sleep(0.05)
        await ctx.report_progress(progress=step, total=100, message=f"Completed step {step} of 100")
    meta = ctx.request_context.meta
    return str(meta.get("progress_token", 0) if meta else 0)


@server.tool()
def json_schema_2020_12_tool() -> str:
    """Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613)"""
    return "json_schema_2020_12_tool called"


# SEP-1613 / SEP-2106: tools/list must carry these 2020-12 keywords verbatim. MCPServer
# derives a schema from the signature and has no override, so the derived one is replaced.
server._tool_manager._tools["json_schema_2020_12_tool"].parameters = {  # noqa: SLF001
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {
        "address": {
            "$anchor": "addressDef",
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
        }
    },
    "properties": {
        "name": {"type": "string"},
        "address": {"$ref": "#/$defs/address"},
        "contactMethod": {"type": "string", "enum": ["phone", "email"]},
        "phone": {"type": "string"},
        "email": {"type": "string"},
    },
    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
    "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
    "then": {"required": ["phone"]},
    "else": {"required": ["email"]},
    "additionalProperties": False,
}


@server.tool()
def test_x_mcp_header(
    region: Annotated[
        str,
        Field(description="Mirrored in the Mcp-Param-Region header", json_schema_extra={"x-mcp-header": "Region"}),
    ] = "none",
) -> str:
    """A tool with an x-mcp-header parameter (SEP-2243), for the Mcp-Param-* header scenarios"""
    return f"region={region}"


# ---- 2025-11-25: logging, sampling and elicitation on the call's stream ---------------


@server.tool()
async def test_tool_with_logging(ctx: Context) -> str:
    """Tests tool that emits log messages during execution"""
    for index, line in enumerate(("Tool execution started", "Tool processing data", "Tool execution completed")):
        if index:
            await asyncio.sleep(0.05)
        await ctx.info(line)
    return "Tool with logging executed successfully"


@server.tool()
async def test_sampling(prompt: str, ctx: Context) -> str:
    """Tests server-initiated sampling (LLM completion request)"""
    # related_request_id puts the request on this call's stream, not the GET stream.
    result = await ctx.session.create_message(
        messages=[SamplingMessage(role="user", content=text(prompt))],
        max_tokens=100,
        related_request_id=ctx.request_id,
    )
    reply = result.content.text if result.content.type == "text" else "No response"
    return f"LLM response: {reply}"


class UserResponse(BaseModel):
    response: str = Field(description="User's response")


@server.tool()
async def test_elicitation(message: str, ctx: Context) -> str:
    """Tests server-initiated elicitation (user input request)"""
    result = await ctx.elicit(message=message, schema=UserResponse)
    content = result.data.model_dump_json() if result.action == "accept" else "{}"
    return f"User response: action={result.action}, content={content}"


class DefaultsForm(BaseModel):
    """SEP-1034: a default for every primitive type."""

    name: str = Field(default="John Doe", description="User name")
    age: int = Field(default=30, description="User age")
    score: float = Field(default=95.5, description="User score")
    status: str = Field(
        default="active", description="User status", json_schema_extra={"enum": ["active", "inactive", "pending"]}
    )
    verified: bool = Field(default=True, description="Verification status")


@server.tool()
async def test_elicitation_sep1034_defaults(ctx: Context) -> str:
    """Tests elicitation with default values per SEP-1034"""
    result = await ctx.elicit(message="Please review and update the form fields with defaults", schema=DefaultsForm)
    content = result.data.model_dump_json() if result.action == "accept" else "{}"
    return f"Elicitation completed: action={result.action}, content={content}"


def titled(options: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"const": value, "title": title} for value, title in options]


class EnumsForm(BaseModel):
    """SEP-1330: the five enum shapes."""

    untitledSingle: str = Field(
        description="Select one option", json_schema_extra={"enum": ["option1", "option2", "option3"]}
    )
    titledSingle: str = Field(
        description="Select one option with titles",
        json_schema_extra={"oneOf": titled([("value1", "First Option"), ("value2", "Second Option")])},
    )
    legacyEnum: str = Field(
        description="Select one option (legacy)",
        json_schema_extra={"enum": ["opt1", "opt2"], "enumNames": ["Option One", "Option Two"]},
    )
    untitledMulti: list[str] = Field(
        description="Select multiple options",
        json_schema_extra={"items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
    )
    titledMulti: list[str] = Field(
        description="Select multiple options with titles",
        json_schema_extra={"items": {"anyOf": titled([("value1", "First Choice"), ("value2", "Second Choice")])}},
    )


@server.tool()
async def test_elicitation_sep1330_enums(ctx: Context) -> str:
    """Tests elicitation with enum schema improvements per SEP-1330"""
    result = await ctx.elicit(message="Please select options from the enum fields", schema=EnumsForm)
    content = result.data.model_dump_json() if result.action == "accept" else "{}"
    return f"Elicitation completed: action={result.action}, content={content}"


@server.tool()
async def test_reconnection(ctx: Context) -> str:
    """Tests SSE polling (SEP-1699): closes the call's stream mid-call; the client resumes it"""
    await ctx.info("Before disconnect")
    await ctx.close_sse_stream()
    await asyncio.sleep(0.2)
    await ctx.info("After reconnect")
    return "Reconnection test completed"


class MemoryEventStore(EventStore):
    """Every SSE event of the process, so a client resuming with Last-Event-ID gets the rest."""

    def __init__(self) -> None:
        self.events: list[tuple[str, JSONRPCMessage | None]] = []

    async def store_event(self, stream_id: str, message: JSONRPCMessage | None) -> str:
        self.events.append((stream_id, message))
        return str(len(self.events))

    async def replay_events_after(self, last_event_id: str, send_callback: EventCallback) -> str | None:
        if not last_event_id.isdigit() or not 0 < int(last_event_id) <= len(self.events):
            return None
        stream_id = self.events[int(last_event_id) - 1][0]
        for index in range(int(last_event_id), len(self.events)):
            stream, message = self.events[index]
            # Priming events (no message) are not replayed.
            if stream == stream_id and message is not None:
                await send_callback(EventMessage(message, str(index + 1)))
        return stream_id


# ---- 2026-07-28: diagnostics of the stateless scenario ---------------------------------


@server.tool()
def test_missing_capability(ctx: Context) -> str:
    """Test tool requiring sampling: -32021 when the request does not declare it"""
    capabilities = ctx.client_capabilities
    if capabilities is None or capabilities.sampling is None:
        raise MCPError(
            code=MISSING_REQUIRED_CLIENT_CAPABILITY,
            message="This tool requires the client's sampling capability",
            data={"requiredCapabilities": {"sampling": {}}},
        )
    return "Success"


@server.tool()
async def test_streaming_elicitation(ctx: Context) -> str:
    """Diagnostic tool validating response progress streams (no server-to-client requests)"""
    await ctx.report_progress(progress=50, total=100)
    return "Streaming complete"


@server.tool()
async def test_logging_tool(ctx: Context) -> str:
    """Diagnostic logging validator tool: logs only when the request asks for a level"""
    await ctx.info("Diagnostic trace logging activated")
    return "Logging evaluated"


@server.tool()
async def test_trigger_tool_change(ctx: Context) -> str:
    """Changes the tool list and announces it on subscriptions/listen streams"""
    server.add_tool(lambda: "dynamic", name="test_dynamic_tool", description="dynamic")
    server.remove_tool("test_dynamic_tool")
    await ctx.notify_tools_changed()
    return "Mutation triggered"


@server.tool()
async def test_trigger_prompt_change(ctx: Context) -> str:
    """Changes the prompt list and announces it on subscriptions/listen streams"""
    server.add_prompt(Prompt.from_function(lambda: "dynamic", name="test_dynamic_prompt", description="dynamic"))
    server.remove_prompt("test_dynamic_prompt")
    await ctx.notify_prompts_changed()
    return "Mutation triggered"


# ---- 2026-07-28: multi round-trip requests (SEP-2322) ----------------------------------
# MCPServer seals each requestState it sends (AES-GCM) and opens the echo, so a tampered
# state never reaches a handler (-32602); handlers see their own plaintext.

NAME = {"name": {"type": "string"}}
CONFIRM = {"ok": {"type": "boolean"}}


@server.tool()
def test_input_required_result_elicitation(ctx: Context) -> str | InputRequiredResult:
    """MRTR: returns InputRequiredResult with elicitation request"""
    name = elicited(ctx.input_responses, "user_name", "name")
    if name is not None:
        return f"Hello, {name}!"
    return InputRequiredResult(input_requests={"user_name": elicit_request("What is your name?", NAME)})


@server.tool()
def test_input_required_result_sampling(ctx: Context) -> str | InputRequiredResult:
    """MRTR: returns InputRequiredResult with sampling request"""
    answer = (ctx.input_responses or {}).get("capital_question")
    if isinstance(answer, CreateMessageResult):
        reply = answer.content.text if answer.content.type == "text" else "no text"
        return f"Sampling result: {reply}"
    question = sampling_request("What is the capital of France?", 100)
    return InputRequiredResult(input_requests={"capital_question": question})


@server.tool()
def test_input_required_result_list_roots(ctx: Context) -> str | InputRequiredResult:
    """MRTR: returns InputRequiredResult with roots/list request"""
    answer = (ctx.input_responses or {}).get("client_roots")
    if isinstance(answer, ListRootsResult):
        return f"Found {len(answer.roots)} root(s)"
    return InputRequiredResult(input_requests={"client_roots": ListRootsRequest()})


@server.tool()
def test_input_required_result_request_state(ctx: Context) -> str | InputRequiredResult:
    """MRTR: returns InputRequiredResult with requestState"""
    if ctx.request_state == "awaiting-confirmation" and "confirm" in (ctx.input_responses or {}):
        return "state-ok: requestState validated"
    return InputRequiredResult(
        input_requests={"confirm": elicit_request("Please confirm", CONFIRM)},
        request_state="awaiting-confirmation",
    )


@server.tool()
def test_input_required_result_multiple_inputs(ctx: Context) -> str | InputRequiredResult:
    """MRTR: returns InputRequiredResult with multiple input requests"""
    answers = ctx.input_responses or {}
    if ctx.request_state == "multiple-inputs" and {"user_name", "greeting", "client_roots"} <= answers.keys():
        return f"Name: {elicited(answers, 'user_name', 'name')}; all inputs received"
    return InputRequiredResult(
        input_requests={
            "user_name": elicit_request("What is your name?", NAME),
            "greeting": sampling_request("Generate a greeting", 50),
            "client_roots": ListRootsRequest(),
        },
        request_state="multiple-inputs",
    )


@server.tool()
def test_input_required_result_multi_round(ctx: Context) -> str | InputRequiredResult:
    """MRTR: multi-round InputRequiredResult workflow"""
    state = json.loads(ctx.request_state) if ctx.request_state else {"round": 0}
    answers = ctx.input_responses or {}
    first = InputRequiredResult(
        input_requests={"step1": elicit_request("Step 1: What is your name?", NAME)},
        request_state=json.dumps({"round": 1}),
    )
    if state.get("round") == 1 and "step1" in answers:
        return InputRequiredResult(
            input_requests={
                "step2": elicit_request("Step 2: What is your favorite color?", {"color": {"type": "string"}})
            },
            request_state=json.dumps({"round": 2, "name": elicited(answers, "step1", "name")}),
        )
    if state.get("round") == 2 and "step2" in answers:
        return f"Multi-round complete for {state.get('name')} who likes {elicited(answers, 'step2', 'color')}"
    return first


@server.tool()
def test_input_required_result_tampered_state(ctx: Context) -> str | InputRequiredResult:
    """MRTR: integrity-protected requestState (a tampered echo is refused with -32602)"""
    if ctx.request_state == "tamper-test" and "confirm" in (ctx.input_responses or {}):
        return "integrity-ok: state verified"
    return InputRequiredResult(
        input_requests={"confirm": elicit_request("Please confirm", CONFIRM)}, request_state="tamper-test"
    )


@server.tool()
def test_input_required_result_capabilities(ctx: Context) -> str | InputRequiredResult:
    """MRTR: respects client capabilities in inputRequests"""
    if ctx.input_responses:
        return f"capabilities-ok: received {','.join(sorted(ctx.input_responses))}"
    capabilities = ctx.client_capabilities
    requests: dict[str, InputRequest] = {}
    if capabilities is not None and capabilities.elicitation is not None:
        requests["elicit_input"] = elicit_request("Elicitation input", {"value": {"type": "string"}})
    if capabilities is not None and capabilities.sampling is not None:
        requests["sample_input"] = sampling_request("Sample request", 50)
    if not requests:
        return "No supported capabilities declared"
    return InputRequiredResult(input_requests=requests, request_state="capabilities-test")


# ---- Resources ------------------------------------------------------------------------


@server.resource("test://static-text", name="static-text", mime_type="text/plain")
def static_text() -> str:
    """A static text resource for testing"""
    return "This is the content of the static text resource."


@server.resource("test://static-binary", name="static-binary", mime_type="image/png")
def static_binary() -> bytes:
    """A static binary resource (image) for testing"""
    return base64.b64decode(PNG_BASE64)


@server.resource("test://template/{id}/data", name="template", mime_type="application/json")
def template(id: str) -> str:  # noqa: A002 - the template's variable is called id
    """A resource template with parameter substitution"""
    return json.dumps({"id": id, "templateTest": True, "data": f"Data for ID: {id}"})


@server.resource("test://watched-resource", name="watched-resource", mime_type="text/plain")
def watched() -> str:
    """A resource clients subscribe to"""
    return "Watched resource content"


# ---- Prompts --------------------------------------------------------------------------


@server.prompt()
def test_simple_prompt() -> list[UserMessage]:
    """A simple prompt without arguments"""
    return [UserMessage(role="user", content=text("This is a simple prompt for testing."))]


@server.prompt()
def test_prompt_with_arguments(arg1: str, arg2: str) -> list[UserMessage]:
    """A prompt with required arguments"""
    return [UserMessage(role="user", content=text(f"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"))]


@server.prompt()
def test_prompt_with_embedded_resource(resourceUri: str) -> list[UserMessage]:  # noqa: N803 - the suite's name
    """A prompt that includes an embedded resource"""
    return [
        UserMessage(role="user", content=embedded_text(resourceUri, "text/plain", "Embedded resource content for testing.")),
        UserMessage(role="user", content=text("Please process the embedded resource above.")),
    ]


@server.prompt()
def test_prompt_with_image() -> list[UserMessage]:
    """A prompt that includes image content"""
    return [
        UserMessage(role="user", content=png()),
        UserMessage(role="user", content=text("Please analyze the image above.")),
    ]


@server.prompt()
def test_input_required_result_prompt(ctx: Context) -> list[UserMessage] | InputRequiredResult:
    """MRTR: prompt that requires elicitation input"""
    context = elicited(ctx.input_responses, "user_context", "context")
    if context is not None:
        return [UserMessage(role="user", content=text(f"Prompt with context: {context}"))]
    question = elicit_request("What context should the prompt use?", {"context": {"type": "string"}})
    return InputRequiredResult(input_requests={"user_context": question})


# ---- Completion, logging level, subscriptions (2025-11-25) ---------------------------


@server.completion()
async def complete(
    ref: PromptReference | ResourceTemplateReference,
    argument: CompletionArgument,
    context: CompletionContext | None,
) -> Completion:
    return Completion(values=[], total=0, has_more=False)


async def set_level(ctx: ServerRequestContext, params: SetLevelRequestParams) -> EmptyResult:
    return EmptyResult()


async def subscribe(ctx: ServerRequestContext, params: SubscribeRequestParams) -> EmptyResult:
    subscribed_uris.add(str(params.uri))
    return EmptyResult()


async def unsubscribe(ctx: ServerRequestContext, params: UnsubscribeRequestParams) -> EmptyResult:
    subscribed_uris.discard(str(params.uri))
    return EmptyResult()


# MCPServer has no public hook for these three handshake-era methods.
lowlevel = server._lowlevel_server  # noqa: SLF001
lowlevel.add_request_handler("logging/setLevel", SetLevelRequestParams, set_level)
lowlevel.add_request_handler("resources/subscribe", SubscribeRequestParams, subscribe)
lowlevel.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams, unsubscribe)


# ---- Serving --------------------------------------------------------------------------


async def serve(port: int) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    address = listener.getsockname()
    # host=127.0.0.1 turns on the SDK's DNS-rebinding protection (Host/Origin checks).
    # The event store and retry interval serve the 2025-11-25 SSE polling scenario.
    app = server.streamable_http_app(host="127.0.0.1", event_store=MemoryEventStore(), retry_interval=100)
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    runner = uvicorn.Server(config)

    async def announce() -> None:
        while not runner.started:
            await asyncio.sleep(0.02)
        print(f"{LISTENING} {address[0]}:{address[1]}", file=sys.stderr, flush=True)

    announcer = asyncio.create_task(announce())
    await runner.serve(sockets=[listener])
    announcer.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="port on 127.0.0.1 (0 picks a free one)")
    asyncio.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
