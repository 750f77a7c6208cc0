// A strict, certified OpenID provider for the e2e test: npm `oidc-provider` with its development
// interactions (a login form taking any user name, then a consent form). PKCE is required, the client
// must authenticate with client_secret_basic, and the redirect URI must match exactly.
//   node provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI
import Provider from "oidc-provider";

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    response_types: ["code"],
    grant_types: ["authorization_code"],
    token_endpoint_auth_method: "client_secret_basic",
  }],
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  claims: { openid: ["sub"], profile: ["given_name", "family_name", "birthdate"] },
  // The subject is the login name typed at the development login form (e.g. demo-learner-1).
  findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  cookies: { keys: ["ncp-gateway-e2e-only-not-a-secret"] },
});
provider.listen(Number(port), "127.0.0.1", () => {
  process.stdout.write(`oidc-provider listening at ${issuer}\n`);
});
