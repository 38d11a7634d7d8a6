// A real OpenID Provider for Rungs' single sign-on tests: the OpenID Certified `oidc-provider`
// package (npm), run under the machine's Node.js. Test-only: Rungs itself never needs Node.
//
//   OIDC_PROVIDER_MODULE=/path/to/node_modules/oidc-provider node tests/oidc/provider.mjs
//
// It listens on 127.0.0.1 (PORT, or a free port) and prints one line of JSON when ready:
// {"issuer": "http://127.0.0.1:PORT"}. Clients register themselves (dynamic client
// registration, RFC 7591). Sign-in uses the package's development pages: any login and any
// password; the login is the account's email. Its claims:
//   email, email_verified (false when the login starts with "unverified"), name, and
//   groups (["staff", "rungs-hr"] when the login starts with "hr", else ["staff"]).
//
// For the token tests, under /__test/:
//   GET  keys    the signing keys' private halves (PEM), current and retired, with their kid
//   POST rotate  a new signing key replaces the current one, which stops being published
import http from 'node:http';
import crypto from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const modulePath = process.env.OIDC_PROVIDER_MODULE;
if (!modulePath) {
  console.error('set OIDC_PROVIDER_MODULE to the oidc-provider package directory');
  process.exit(2);
}
const { default: Provider } = await import(
  pathToFileURL(path.join(modulePath, 'lib', 'index.js')).href
);

function newKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = crypto.randomBytes(8).toString('hex');
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' });
  return { kid, jwk, pem };
}

let current = newKey();
const retired = [];

const server = http.createServer();
await new Promise((resolve) => server.listen(Number(process.env.PORT || 0), '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

function makeProvider() {
  const provider = new Provider(issuer, {
    clients: [],
    jwks: { keys: [current.jwk] },
    cookies: { keys: ['rungs-test-cookie-key-0123456789abcdef'] },
    features: {
      devInteractions: { enabled: true },
      registration: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    // Scope claims in the ID token itself, as Keycloak, Entra ID and Okta send them.
    conformIdTokenClaims: false,
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      groups: ['groups'],
    },
    pkce: { required: () => true },
    ttl: { IdToken: 600 },
    async findAccount(ctx, id) {
      return {
        accountId: id,
        async claims() {
          return {
            sub: id,
            email: id,
            email_verified: !id.startsWith('unverified'),
            name: `Test ${id.split('@')[0]}`,
            groups: id.startsWith('hr') ? ['staff', 'rungs-hr'] : ['staff'],
          };
        },
      };
    },
  });
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  return provider;
}

let provider = makeProvider();

server.on('request', (req, res) => {
  if (req.url === '/__test/keys' && req.method === 'GET') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({
      current: { kid: current.kid, pem: current.pem },
      retired: retired.map((k) => ({ kid: k.kid, pem: k.pem })),
    }));
    return;
  }
  if (req.url === '/__test/rotate' && req.method === 'POST') {
    retired.push(current);
    current = newKey();
    provider = makeProvider();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ kid: current.kid }));
    return;
  }
  provider.callback()(req, res);
});

console.log(JSON.stringify({ issuer }));

// Exit with the test process that started us: it holds our stdin open while it lives.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
