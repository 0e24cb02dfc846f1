// A real OAuth 2.1 authorization server for the upstream-OAuth tests: node-oidc-provider
// (pinned in package.json) with its development login and consent pages, Dynamic Client
// Registration, PKCE (required), resource indicators (RFC 8707) issuing JWT access
// tokens whose audience is the resource, and rotating refresh tokens.
//
// Usage: node oauth_as.mjs ACCESS_TOKEN_SECONDS
// Prints `MCPGATE_E2E_LISTENING 127.0.0.1:PORT` once it listens (its issuer is
// http://127.0.0.1:PORT). Two test hooks, which the tests use and nothing else:
//   GET  /_test/stats   {"grants": {"authorization_code": n, "refresh_token": n},
//                        "refused": {"refresh_token": n, ...}, "registrations": n}
//   POST /_test/revoke  destroys every grant (a user revoking the app): refreshes then fail
//                       with invalid_grant.
// And two signals, for an authorization server that goes down and comes back with its
// state (grants, refresh tokens) intact:
//   SIGUSR1  stops listening and closes every connection (connections are refused)
//   SIGUSR2  listens again on the same port; prints `MCPGATE_E2E_RELISTENING` when it does
import http from 'node:http';
import { generateKeyPair, exportJWK } from 'jose';
import Provider from 'oidc-provider';

const ttl = Number(process.argv[2] || '60');
const LISTENING = 'MCPGATE_E2E_LISTENING';

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid: 'e2e-1', alg: 'RS256', use: 'sig' };

const stats = {
  grants: { authorization_code: 0, refresh_token: 0 },
  refused: { authorization_code: 0, refresh_token: 0 },
  registrations: 0,
};
const grantIds = new Set();

const provider = new Provider(issuer, {
  jwks: { keys: [jwk] },
  cookies: { keys: ['mcpgate-e2e-cookie-key'] },
  scopes: ['openid', 'offline_access', 'tools'],
  features: {
    devInteractions: { enabled: true },
    registration: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resourceIndicator) => ({
        scope: 'tools',
        audience: resourceIndicator,
        accessTokenTTL: ttl,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  pkce: { required: () => true },
  // A refresh token for every client allowed the grant, without offline_access (plain
  // OAuth 2.1, as MCP clients ask).
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  ttl: { AccessToken: ttl, RefreshToken: 24 * 3600, Grant: 24 * 3600 },
  clientDefaults: {
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  },
});
// The loopback issuer is plain http: this is a test double on 127.0.0.1 only.
provider.proxy = false;

provider.on('grant.success', (ctx) => {
  const type = ctx.oidc.params.grant_type;
  stats.grants[type] = (stats.grants[type] || 0) + 1;
});
provider.on('grant.error', (ctx) => {
  const type = ctx.oidc.params?.grant_type;
  if (type) stats.refused[type] = (stats.refused[type] || 0) + 1;
});
provider.on('grant.saved', (grant) => grantIds.add(grant.jti));
provider.on('registration_create.success', () => {
  stats.registrations += 1;
});
provider.on('server_error', (ctx, error) => console.error('server_error', error));

provider.use(async (ctx, next) => {
  if (ctx.path === '/_test/stats' && ctx.method === 'GET') {
    ctx.body = stats;
    return;
  }
  if (ctx.path === '/_test/revoke' && ctx.method === 'POST') {
    let revoked = 0;
    for (const id of grantIds) {
      const grant = await provider.Grant.find(id);
      if (grant) {
        await grant.destroy();
        revoked += 1;
      }
    }
    grantIds.clear();
    ctx.body = { revoked };
    return;
  }
  await next();
});

server.on('request', provider.callback());
console.log(`${LISTENING} 127.0.0.1:${port}`);

// Keeps the process (and its in-memory state) alive while nothing listens.
setInterval(() => {}, 1 << 30);
process.on('SIGUSR1', () => {
  server.close();
  server.closeAllConnections();
  console.log('MCPGATE_E2E_STOPPED');
});
process.on('SIGUSR2', () => {
  if (server.listening) return;
  server.listen(port, '127.0.0.1', () => console.log('MCPGATE_E2E_RELISTENING'));
});
