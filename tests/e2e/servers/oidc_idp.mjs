// A real OpenID Connect provider for the single sign-on tests: node-oidc-provider
// (pinned in package.json) with its development login and consent pages, one
// confidential client (client_secret_basic, PKCE required) and accounts whose claims
// follow from the login typed on the login page:
//   alice@example.com            -> email alice@example.com, email_verified true
//   unverified:bob@example.com   -> email bob@example.com,   email_verified false
//
// Usage: node oidc_idp.mjs CLIENT_ID CLIENT_SECRET REDIRECT_URI
// Prints `MCPGATE_E2E_LISTENING 127.0.0.1:PORT` once it listens; its issuer is
// http://127.0.0.1:PORT. A test hook, used by the tests and nothing else:
//   http://127.0.0.1:PORT/liar/.well-known/openid-configuration is the provider's
//   discovery document claiming the issuer http://127.0.0.1:PORT/liar, while its ID
//   tokens keep naming the real issuer (a provider whose tokens are not the
//   configured issuer's).
import http from 'node:http';
import { generateKeyPair, exportJWK } from 'jose';
import Provider from 'oidc-provider';

const [clientId, clientSecret, redirectUri] = process.argv.slice(2);
if (!clientId || !clientSecret || !redirectUri) {
  console.error('usage: node oidc_idp.mjs CLIENT_ID CLIENT_SECRET REDIRECT_URI');
  process.exit(2);
}
const LISTENING = 'MCPGATE_E2E_LISTENING';

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid: 'sso-1', alg: 'RS256', use: 'sig' };

function account(login) {
  const unverified = login.startsWith('unverified:');
  const email = unverified ? login.slice('unverified:'.length) : login;
  return {
    accountId: login,
    claims: async () => ({ sub: login, email, email_verified: !unverified }),
  };
}

const provider = new Provider(issuer, {
  jwks: { keys: [jwk] },
  cookies: { keys: ['mcpgate-e2e-sso-cookie-key'] },
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  // The email claims in the ID token itself, not only at the userinfo endpoint.
  conformIdTokenClaims: false,
  findAccount: async (ctx, id) => account(id),
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
});
// The loopback issuer is plain http: this is a test double on 127.0.0.1 only.
provider.proxy = false;
provider.on('server_error', (ctx, error) => console.error('server_error', error));

provider.use(async (ctx, next) => {
  if (ctx.path === '/liar/.well-known/openid-configuration') {
    ctx.path = '/.well-known/openid-configuration';
    await next();
    ctx.body = { ...ctx.body, issuer: `${issuer}/liar` };
    return;
  }
  await next();
});

server.on('request', provider.callback());
console.log(`${LISTENING} 127.0.0.1:${port}`);
