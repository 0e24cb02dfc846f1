// Drives the official TypeScript MCP SDK through a proxy.
//
// Usage: node ts_client.mjs URL TOKEN [SCRIPT]
//
// The same protocol as py_client.py: SCRIPT is a JSON array of steps, or steps come from
// stdin one JSON line at a time; stdout gets one JSON line for `initialize`, then one per
// step ({"op":"list","tools":[...]}, {"op":"call","tool":T,"results":[...]}). A JSON-RPC
// error is a result; anything else (HTTP failure, dead session, a step slower than its
// "timeout", default 20 s) prints {"op":"transport_error",...} and exits with status 2.
// With MCPGATE_E2E_SAMPLING_REPLY set, the client declares the sampling capability and
// answers every `sampling/createMessage` from the server with that text. With
// MCPGATE_E2E_ELICIT_REPLY set (a JSON object), it declares elicitation and accepts every
// `elicitation/create` with that content; each call outcome lists them as "elicitations".

import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CreateMessageRequestSchema, ElicitRequestSchema, McpError } from "@modelcontextprotocol/sdk/types.js";

const sdkPackage = new URL("../node_modules/@modelcontextprotocol/sdk/package.json", import.meta.url);
const SDK = `typescript-sdk ${JSON.parse(readFileSync(sdkPackage, "utf8")).version}`;
const DEFAULT_STEP_TIMEOUT = 20;

class TransportFailure extends Error {}

// Elicitations answered since the current call started.
let elicitations = [];

function emit(value) {
  process.stdout.write(JSON.stringify(value) + "\n");
}

const now = () => Date.now() / 1000;

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
  elicitations = [];
  const options = { timeout: timeoutMs + 5000 };
  if (step.progress) {
    options.onprogress = (p) =>
      progress.push({ progress: p.progress, total: p.total ?? null, message: p.message ?? null, at: now() });
  }
  try {
    const result = await client.callTool(
      { name: step.tool, arguments: step.arguments ?? {} },
      undefined,
      options,
    );
    outcome.isError = Boolean(result.isError);
    outcome.content = result.content ?? [];
    outcome.text = outcome.content
      .filter((block) => block.type === "text")
      .map((block) => block.text)
      .join("");
    outcome.structuredContent = result.structuredContent ?? null;
  } catch (error) {
    if (!(error instanceof McpError)) throw error;
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
  const samplingReply = process.env.MCPGATE_E2E_SAMPLING_REPLY;
  const elicitReply = process.env.MCPGATE_E2E_ELICIT_REPLY;
  const capabilities = samplingReply === undefined ? {} : { sampling: {} };
  if (elicitReply !== undefined) capabilities.elicitation = {};
  const client = new Client({ name: "mcpgate-e2e", version: "1.0.0" }, { capabilities });
  if (samplingReply !== undefined) {
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({
      role: "assistant",
      content: { type: "text", text: samplingReply },
      model: "e2e-stub",
    }));
  }
  if (elicitReply !== undefined) {
    const content = JSON.parse(elicitReply);
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      elicitations.push({ message: request.params.message ?? null });
      return { action: "accept", content };
    });
  }
  client.onerror = (error) => process.stderr.write(`client error: ${error?.stack ?? error}\n`);
  const started = now();
  await withTimeout(client.connect(transport), DEFAULT_STEP_TIMEOUT, "initialize");
  emit({
    op: "initialize",
    sdk: SDK,
    protocolVersion: transport.protocolVersion ?? null,
    serverInfo: client.getServerVersion() ?? null,
    elapsed: now() - started,
  });
  for await (const step of steps(script)) {
    const seconds = step.timeout ?? DEFAULT_STEP_TIMEOUT;
    emit(await withTimeout(runStep(client, step, seconds * 1000), seconds, `step ${step.op}`));
  }
  await transport.terminateSession().catch((error) => process.stderr.write(`terminate: ${error}\n`));
  await client.close();
}

const [url, token, script] = process.argv.slice(2);
if (!url || !token) {
  process.stderr.write("usage: node ts_client.mjs URL TOKEN [SCRIPT]\n");
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
