//! Ready-to-paste client configurations for a proxy URL and a grant token.
//! JSON snippets are built as JSON values, so they are always valid JSON; code
//! snippets quote their strings as JSON string literals, which Python and
//! TypeScript read the same way.

use serde_json::json;

/// Shown instead of a token when none was just issued.
pub(crate) const TOKEN_PLACEHOLDER: &str = "<YOUR_GRANT_TOKEN>";

/// One snippet: where it goes and what to paste.
#[derive(Debug, Clone)]
pub(crate) struct Snippet {
    pub(crate) id: &'static str,
    pub(crate) title: &'static str,
    pub(crate) hint: &'static str,
    pub(crate) code: String,
}

/// A name clients accept as a server key: lowercase letters, digits and `-`.
pub(crate) fn client_name(server_name: &str) -> String {
    let mut name = String::new();
    for c in server_name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.ends_with('-') && !name.is_empty() {
            name.push('-');
        }
    }
    let name = name.trim_end_matches('-').to_owned();
    if name.is_empty() {
        "mcpgate".into()
    } else {
        name
    }
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

fn literal(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// Every snippet for connecting `name` at `url` with `token`.
pub(crate) fn snippets(name: &str, url: &str, token: &str) -> Vec<Snippet> {
    let bearer = format!("Bearer {token}");
    let name = client_name(name);
    vec![
        Snippet {
            id: "claude-code",
            title: "Claude Code",
            hint: "Run in a terminal.",
            code: format!(
                "claude mcp add --transport http {name} {url} --header \"Authorization: {bearer}\""
            ),
        },
        Snippet {
            id: "claude-desktop",
            title: "Claude Desktop",
            hint: "claude_desktop_config.json (through the mcp-remote bridge).",
            code: pretty(&json!({"mcpServers": {name.clone(): {
                "command": "npx",
                "args": ["mcp-remote", url, "--header", "Authorization:${AUTH_HEADER}"],
                "env": {"AUTH_HEADER": bearer},
            }}})),
        },
        Snippet {
            id: "cursor",
            title: "Cursor",
            hint: ".cursor/mcp.json",
            code: pretty(&json!({"mcpServers": {name.clone(): {
                "url": url,
                "headers": {"Authorization": bearer},
            }}})),
        },
        Snippet {
            id: "vscode",
            title: "VS Code",
            hint: ".vscode/mcp.json",
            code: pretty(&json!({"servers": {name.clone(): {
                "type": "http",
                "url": url,
                "headers": {"Authorization": bearer},
            }}})),
        },
        Snippet {
            id: "python-v1",
            title: "Python SDK 1.x",
            hint: "pip install \"mcp<2\"",
            code: format!(
                "import asyncio\n\nfrom mcp import ClientSession\nfrom mcp.client.streamable_http import streamablehttp_client\n\n\
                 URL = {url}\nHEADERS = {{\"Authorization\": {bearer}}}\n\n\n\
                 async def main():\n    async with streamablehttp_client(URL, headers=HEADERS) as (read, write, _):\n        \
                 async with ClientSession(read, write) as session:\n            await session.initialize()\n            \
                 tools = await session.list_tools()\n            print([tool.name for tool in tools.tools])\n\n\n\
                 asyncio.run(main())\n",
                url = literal(url),
                bearer = literal(&bearer),
            ),
        },
        Snippet {
            id: "python-v2",
            title: "Python SDK 2.x",
            hint: "pip install \"mcp>=2\" httpx",
            code: format!(
                "import asyncio\n\nimport httpx\nfrom mcp import ClientSession\nfrom mcp.client.streamable_http import streamable_http_client\n\n\
                 URL = {url}\nHEADERS = {{\"Authorization\": {bearer}}}\n\n\n\
                 async def main():\n    async with httpx.AsyncClient(headers=HEADERS) as http_client:\n        \
                 async with streamable_http_client(URL, http_client=http_client) as (read, write, _):\n            \
                 async with ClientSession(read, write) as session:\n                await session.initialize()\n                \
                 tools = await session.list_tools()\n                print([tool.name for tool in tools.tools])\n\n\n\
                 asyncio.run(main())\n",
                url = literal(url),
                bearer = literal(&bearer),
            ),
        },
        Snippet {
            id: "typescript",
            title: "TypeScript SDK",
            hint: "npm install @modelcontextprotocol/sdk",
            code: format!(
                "import {{ Client }} from \"@modelcontextprotocol/sdk/client/index.js\";\n\
                 import {{ StreamableHTTPClientTransport }} from \"@modelcontextprotocol/sdk/client/streamableHttp.js\";\n\n\
                 const transport = new StreamableHTTPClientTransport(new URL({url}), {{\n  \
                 requestInit: {{ headers: {{ Authorization: {bearer} }} }},\n}});\n\
                 const client = new Client({{ name: \"my-agent\", version: \"1.0.0\" }});\n\
                 await client.connect(transport);\n\
                 console.log((await client.listTools()).tools.map((tool) => tool.name));\n",
                url = literal(url),
                bearer = literal(&bearer),
            ),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_snippets_are_valid_json_carrying_the_token() {
        for snippet in snippets("My \"odd\" server", "http://proxy/mcp/1/", "tok.en") {
            if matches!(snippet.id, "claude-desktop" | "cursor" | "vscode") {
                let parsed: serde_json::Value = serde_json::from_str(&snippet.code).unwrap();
                assert!(parsed.to_string().contains("Bearer tok.en"));
            }
            assert!(snippet.code.contains("tok.en"), "{}", snippet.id);
        }
    }

    #[test]
    fn client_names_are_slugs() {
        assert_eq!(client_name("  K8s Demo (prod) "), "k8s-demo-prod");
        assert_eq!(client_name("!!!"), "mcpgate");
    }
}
