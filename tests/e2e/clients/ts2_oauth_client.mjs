// Drives the official TypeScript MCP SDK 2.x client's OAuth support (@modelcontextprotocol/client,
// an OAuthClientProvider on StreamableHTTPClientTransport) through a proxy URL, with no
// pre-shared token.
//
// Usage: node ts2_oauth_client.mjs URL
//
// The SDK meets the proxy's 401, discovers mcpgate (Protected Resource Metadata, authorization
// server metadata), registers (Dynamic Client Registration: the SDK only uses a Client ID
// Metadata Document URL over https) and asks the provider to open the authorization URL. This
// driver prints {"op":"authorize","url":URL} and reads {"callback":URL} (where the browser was
// sent back after the test's consent) or {"refuse":true} from stdin, checks `state`, and hands
// the callback to transport.finishAuth, which checks `iss` and exchanges the code. Then the
// protocol of ts2_client.mjs ({"op":"initialize"}, list, call), plus
//   {"op":"tokens"}  -> {"op":"tokens","access_token","refresh_token","client_id"}
//   {"op":"expire"}  -> the stored access token is replaced by a dead one, so the proxy's 401
//                       makes the SDK refresh it (with the refresh token) on the next request.
// An authorization the SDK asks for mid-session (its grant was revoked) prints another
// "authorize" line; the test answers {"refuse":true} and the driver ends.

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";

import { Client, ProtocolError, StreamableHTTPClientTransport, UnauthorizedError } from "@modelcontextprotocol/client";

const sdkPackage = new URL("../node_modules/@modelcontextprotocol/client/package.json", import.meta.url);
const SDK = `typescript-client ${JSON.parse(readFileSync(sdkPackage, "utf8")).version}`;
const REDIRECT_URI = "http://127.0.0.1:33419/callback";
const STEP_TIMEOUT = 20;

const emit = (value) => process.stdout.write(JSON.stringify(value) + "\n");
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

async function nextMessage() {
  for (;;) {
    const { value, done } = await lines.next();
    if (done) return undefined;
    if (value.trim()) return JSON.parse(value);
  }
}

/** Everything the SDK asks a provider to keep, in memory. */
class MemoryProvider {
  constructor() {
    this.pending = undefined;
    this.lastState = undefined;
  }
  get redirectUrl() {
    return REDIRECT_URI;
  }
  get clientMetadata() {
    return {
      client_name: "mcpgate e2e (TypeScript SDK)",
      redirect_uris: [REDIRECT_URI],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  state() {
    this.lastState = randomBytes(16).toString("base64url");
    return this.lastState;
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info) {
    this.client = info;
  }
  tokens() {
    return this.stored;
  }
  saveTokens(tokens) {
    this.stored = tokens;
  }
  redirectToAuthorization(url) {
    this.pending = url;
  }
  saveCodeVerifier(verifier) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
  saveDiscoveryState(state) {
    this.discovery = state;
  }
  discoveryState() {
    return this.discovery;
  }
  invalidateCredentials(scope) {
    if (scope === "all" || scope === "tokens") this.stored = undefined;
    if (scope === "all" || scope === "client") this.client = undefined;
    if (scope === "all" || scope === "verifier") this.verifier = undefined;
  }
}

/** Prints the authorization the SDK asked for and waits for the test's answer. */
async function authorizeAgain(provider) {
  emit({ op: "authorize", url: provider.pending.toString() });
  provider.pending = undefined;
  const answer = await nextMessage();
  if (answer === undefined || answer.refuse) throw new Error("the test refused the authorization");
  return new URL(answer.callback).searchParams;
}

async function connect(url, client, provider) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
    try {
      await client.connect(transport);
      return transport;
    } catch (error) {
      if (!(error instanceof UnauthorizedError) || provider.pending === undefined) throw error;
      const params = await authorizeAgain(provider);
      if (params.get("state") !== provider.lastState) throw new Error("state mismatch in the callback");
      await transport.finishAuth(params);
    }
  }
  throw new Error("still unauthorized after authorizing");
}

async function callTool(client, step) {
  try {
    const result = await client.callTool({ name: step.tool, arguments: step.arguments ?? {} });
    const content = result.content ?? [];
    const text = content.filter((b) => b.type === "text").map((b) => b.text).join("");
    return { isError: Boolean(result.isError), content, text };
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    return { error: { code: error.code, message: error.message } };
  }
}

async function run(step, client, provider) {
  switch (step.op) {
    case "list": {
      const names = [];
      let cursor;
      do {
        const page = await client.listTools(cursor === undefined ? undefined : { cursor });
        names.push(...page.tools.map((tool) => tool.name));
        cursor = page.nextCursor;
      } while (cursor);
      return { op: "list", tools: names };
    }
    case "call": {
      const results = [];
      for (let i = 0; i < (step.times ?? 1); i++) results.push(await callTool(client, step));
      return { op: "call", tool: step.tool, results };
    }
    case "tokens":
      return {
        op: "tokens",
        access_token: provider.stored?.access_token ?? null,
        refresh_token: provider.stored?.refresh_token ?? null,
        client_id: provider.client?.client_id ?? null,
      };
    case "expire":
      provider.stored = { ...provider.stored, access_token: "expired.access.token" };
      return { op: "expire" };
    default:
      throw new Error(`unknown op ${JSON.stringify(step.op)}`);
  }
}

async function withTimeout(promise, seconds, what) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${seconds} s`)), seconds * 1000);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

async function main(url) {
  const provider = new MemoryProvider();
  const client = new Client({ name: "mcpgate-e2e-oauth", version: "1.0.0" });
  client.onerror = (error) => process.stderr.write(`client error: ${error?.stack ?? error}\n`);
  await connect(url, client, provider);
  emit({ op: "initialize", sdk: SDK, protocolVersion: client.getNegotiatedProtocolVersion() ?? null });
  for (;;) {
    const step = await nextMessage();
    if (step === undefined) break;
    try {
      emit(await withTimeout(run(step, client, provider), step.timeout ?? STEP_TIMEOUT, `step ${step.op}`));
    } catch (error) {
      // The proxy refused the token and refreshing could not help: the SDK asks for a new
      // authorization (this driver does not resume the session after it).
      if (!(error instanceof UnauthorizedError) || provider.pending === undefined) throw error;
      await authorizeAgain(provider);
      throw error;
    }
  }
  await client.close();
}

const [url] = process.argv.slice(2);
if (!url) {
  process.stderr.write("usage: node ts2_oauth_client.mjs URL\n");
  process.exit(64);
}
try {
  await main(url);
  process.exit(0);
} catch (error) {
  process.stderr.write(`${error?.stack ?? error}\n`);
  emit({ op: "transport_error", sdk: SDK, error: `${error?.name ?? "Error"}: ${error?.message ?? error}` });
  process.exit(2);
}
