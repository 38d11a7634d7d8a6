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
//   GET  keys    the signing keys' private halves (PKCS#1 DER, base64), current and retired
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
  const der = privateKey.export({ format: 'der', type: 'pkcs1' }).toString('base64');
  return { kid, jwk, der };
}

// One store for every Provider instance (a rotation makes a new instance: registered clients,
// sessions and grants survive it, as they would a real provider's key rotation).
const store = new Map();
class SharedAdapter {
  constructor(name) { this.name = name; }
  key(id) { return `${this.name}:${id}`; }
  async upsert(id, payload, expiresIn) {
    store.set(this.key(id), { payload, expires: expiresIn ? Date.now() + expiresIn * 1000 : null });
    if (payload.grantId) store.set(`grant:${payload.grantId}:${this.key(id)}`, { payload: this.key(id) });
    if (payload.userCode) store.set(`userCode:${payload.userCode}`, { payload: id });
    if (payload.uid) store.set(`uid:${this.name}:${payload.uid}`, { payload: id });
  }
  async find(id) {
    const e = store.get(this.key(id));
    if (!e || (e.expires && e.expires < Date.now())) return undefined;
    return e.payload;
  }
  async findByUserCode(code) { const e = store.get(`userCode:${code}`); return e && this.find(e.payload); }
  async findByUid(uid) { const e = store.get(`uid:${this.name}:${uid}`); return e && this.find(e.payload); }
  async consume(id) { const p = await this.find(id); if (p) p.consumed = Math.floor(Date.now() / 1000); }
  async destroy(id) { store.delete(this.key(id)); }
  async revokeByGrantId(grantId) {
    for (const [k, v] of store) {
      if (k.startsWith(`grant:${grantId}:`)) { store.delete(v.payload); store.delete(k); }
    }
  }
}

let current = newKey();
const retired = [];

const server = http.createServer();
await new Promise((resolve) => server.listen(Number(process.env.PORT || 0), '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

function makeProvider() {
  const provider = new Provider(issuer, {
    clients: [],
    adapter: SharedAdapter,
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
      current: { kid: current.kid, der: current.der },
      retired: retired.map((k) => ({ kid: k.kid, der: k.der })),
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
