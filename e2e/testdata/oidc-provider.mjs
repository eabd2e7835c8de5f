// A real OpenID Provider (the npm package oidc-provider, fetched by `make e2e-deps`) for the
// end-to-end SSO tests. It signs in any account named in ACCOUNTS with any password through its
// development login and consent pages, and puts the account's groups in the ID token.
//
//   node oidc-provider.mjs <oidc-provider folder> <port> <console base URL> <client secret>
//
// It prints "issuer <URL>" once it listens.
import path from "node:path";
import { pathToFileURL } from "node:url";

const [dir, port, consoleURL, secret] = process.argv.slice(2);
const { default: Provider } = await import(pathToFileURL(path.join(dir, "node_modules", "oidc-provider", "lib", "index.js")).href);

const ACCOUNTS = {
  sam: { email: "sam@example.com", name: "Sam Support", groups: ["linkdesk-agents", "all-staff"] },
  mo: { email: "mo@example.com", name: "Mo Marketing", groups: ["marketing"] },
};

const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [{
    client_id: "linkdesk",
    client_secret: secret,
    redirect_uris: [`${consoleURL}/auth/oidc/callback`],
    post_logout_redirect_uris: [`${consoleURL}/login`],
    grant_types: ["authorization_code"],
    response_types: ["code"],
  }],
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"], groups: ["groups"] },
  // The groups belong in the ID token, which is what the console reads.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  async findAccount(_ctx, id) {
    const a = ACCOUNTS[id];
    if (!a) return undefined;
    return {
      accountId: id,
      async claims() { return { sub: id, email: a.email, email_verified: true, name: a.name, groups: a.groups }; },
    };
  },
});
provider.listen(Number(port), "127.0.0.1", () => console.log(`issuer ${issuer}`));
