// Drives the official TypeScript MCP SDK 2.x client (@modelcontextprotocol/client) through a proxy.
//
// Usage: node ts2_client.mjs URL TOKEN [SCRIPT]
//
// The same protocol as py_client.py and ts_client.mjs: SCRIPT is a JSON array of steps, or steps
// come from stdin one JSON line at a time; stdout gets one JSON line for the connection
// ({"op":"initialize","protocolVersion","era","serverInfo"}: the version and era the client
// negotiated), then one per step ({"op":"list","tools":[...]}, {"op":"call","tool":T,"results":[...]}).
// A JSON-RPC error is a result; anything else (HTTP failure, a step slower than its "timeout",
// default 20 s) prints {"op":"transport_error",...} and exits with status 2.
//
// MCPGATE_E2E_MODE picks the version negotiation: "auto" (probe server/discover, fall back to
// initialize), "legacy" (initialize only, the SDK's default) or a version to pin ("2026-07-28").
// With MCPGATE_E2E_ELICIT_REPLY set (a JSON object), the client declares elicitation and accepts
// every elicitation with that content: at 2026-07-28 the SDK answers an InputRequiredResult and
// retries the call with inputResponses, at 2025-11-25 it answers elicitation/create. Each call
// outcome lists the elicitations answered during it.

import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";

import { Client, ProtocolError, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";

const sdkPackage = new URL("../node_modules/@modelcontextprotocol/client/package.json", import.meta.url);
const SDK = `typescript-client ${JSON.parse(readFileSync(sdkPackage, "utf8")).version}`;
const DEFAULT_STEP_TIMEOUT = 20;

class TransportFailure extends Error {}

function emit(value) {
  process.stdout.write(JSON.stringify(value) + "\n");
}

const now = () => Date.now() / 1000;

function negotiation(mode) {
  if (mode === undefined || mode === "legacy") return { mode: "legacy" };
  if (mode === "auto") return { mode: "auto" };
  return { mode: { pin: mode } };
}

// Elicitations answered since the current call started.
let elicitations = [];

async function listTools(client) {
  const names = [];
  let cursor;
  do {
    const page = await client.listTools(cursor === undefined ? undefined : { cursor });
    names.push(...page.tools.map((tool) => tool.name));
    cursor = page.nextCursor;
  } while (cursor);
  return { op: "list", tools: names };
}

async function callOnce(client, step, timeoutMs) {
  const progress = [];
  const outcome = { started: now() };
  const options = { timeout: timeoutMs + 5000 };
  if (step.progress) {
    options.onprogress = (p) =>
      progress.push({ progress: p.progress, total: p.total ?? null, message: p.message ?? null, at: now() });
  }
  elicitations = [];
  try {
    const result = await client.callTool({ name: step.tool, arguments: step.arguments ?? {} }, options);
    outcome.isError = Boolean(result.isError);
    outcome.content = result.content ?? [];
    outcome.text = outcome.content
      .filter((block) => block.type === "text")
      .map((block) => block.text)
      .join("");
    outcome.structuredContent = result.structuredContent ?? null;
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    outcome.error = { code: error.code, message: error.message };
  }
  outcome.finished = now();
  outcome.progress = progress;
  outcome.elicitations = elicitations;
  return outcome;
}

async function runStep(client, step, timeoutMs) {
  switch (step.op) {
    case "list":
      return listTools(client);
    case "call": {
      const results = [];
      for (let i = 0; i < (step.times ?? 1); i++) results.push(await callOnce(client, step, timeoutMs));
      return { op: "call", tool: step.tool, results };
    }
    case "sleep":
      await new Promise((resolve) => setTimeout(resolve, (step.seconds ?? 0) * 1000));
      return { op: "sleep" };
    default:
      throw new Error(`unknown op ${JSON.stringify(step.op)}`);
  }
}

async function* steps(script) {
  if (script !== undefined) {
    yield* JSON.parse(script);
    return;
  }
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    const value = JSON.parse(line);
    yield* Array.isArray(value) ? value : [value];
  }
}

async function withTimeout(promise, seconds, what) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new TransportFailure(`${what} took longer than ${seconds} s`)), seconds * 1000);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

async function main(url, token, script) {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const reply = process.env.MCPGATE_E2E_ELICIT_REPLY;
  const capabilities = reply === undefined ? {} : { elicitation: { form: {} } };
  const client = new Client(
    { name: "mcpgate-e2e", version: "1.0.0" },
    { capabilities, versionNegotiation: negotiation(process.env.MCPGATE_E2E_MODE) },
  );
  if (reply !== undefined) {
    const content = JSON.parse(reply);
    client.setRequestHandler("elicitation/create", async (request) => {
      elicitations.push({ message: request.params.message ?? null });
      return { action: "accept", content };
    });
  }
  client.onerror = (error) => process.stderr.write(`client error: ${error?.stack ?? error}\n`);
  const started = now();
  await withTimeout(client.connect(transport), DEFAULT_STEP_TIMEOUT, "connect");
  emit({
    op: "initialize",
    sdk: SDK,
    protocolVersion: client.getNegotiatedProtocolVersion() ?? null,
    era: client.getProtocolEra() ?? null,
    serverInfo: client.getServerVersion() ?? null,
    elapsed: now() - started,
  });
  for await (const step of steps(script)) {
    const seconds = step.timeout ?? DEFAULT_STEP_TIMEOUT;
    emit(await withTimeout(runStep(client, step, seconds * 1000), seconds, `step ${step.op}`));
  }
  if (client.getProtocolEra() !== "modern") {
    await transport.terminateSession().catch((error) => process.stderr.write(`terminate: ${error}\n`));
  }
  await client.close();
}

const [url, token, script] = process.argv.slice(2);
if (!url || !token) {
  process.stderr.write("usage: node ts2_client.mjs URL TOKEN [SCRIPT]\n");
  process.exit(64);
}
try {
  await main(url, token, script);
  process.exit(0);
} catch (error) {
  process.stderr.write(`${error?.stack ?? error}\n`);
  emit({ op: "transport_error", sdk: SDK, error: `${error?.name ?? "Error"}: ${error?.message ?? error}` });
  process.exit(2);
}
