// The second factor end to end: enrol, sign in with a TOTP code or a recovery code, turn it off.
import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidMfaCode, MfaRequired } from "../src/index.js";
import { admin, client, env, user } from "./helpers.js";
import { totp } from "./totp.js";

/** Sign in up to the second factor; the ticket MfaRequired carries. */
async function mfaTicket(address: string): Promise<string> {
  const failure = await client()
    .login(address, env.password)
    .then(() => assert.fail("signed in without the second factor"))
    .catch((error: unknown) => error);
  assert.ok(failure instanceof MfaRequired, String(failure));
  assert.ok(failure.mfaToken, JSON.stringify(failure.details));
  return failure.mfaToken;
}

test("a login with TOTP on: MfaRequired with its ticket, then verifyMfa keeps the pair", async () => {
  const { api, email: address } = await user("mfa");
  const enrollment = await api.enrollTotp(env.password);
  assert.match(enrollment.otpauthUri, /^otpauth:\/\/totp\//);
  // the step before: every later step stays free for the codes below
  const recovery = await api.confirmTotp(totp(enrollment.secret, -1));
  assert.equal(recovery.length, 10);
  assert.equal((await api.me()).mfaEnabled, true);

  const fresh = client();
  const failure = await fresh.login(address, env.password).catch((error: unknown) => error);
  assert.ok(failure instanceof MfaRequired);
  assert.equal(fresh.accessToken, null, "no pair is kept before the second factor");
  const code = totp(enrollment.secret);
  const pair = await fresh.verifyMfa(failure.mfaToken ?? "", code);
  assert.deepEqual([fresh.accessToken, fresh.refreshToken], [pair.accessToken, pair.refreshToken]);
  assert.equal((await fresh.me()).email, address);

  await assert.rejects(client().verifyMfa(await mfaTicket(address), code), InvalidMfaCode, "a code works once");
  const [first, second] = recovery;
  assert.ok(first !== undefined && second !== undefined);
  const byRecovery = client();
  await byRecovery.verifyMfa(await mfaTicket(address), first);
  assert.equal((await byRecovery.me()).email, address);
  await assert.rejects(client().verifyMfa(await mfaTicket(address), first), InvalidMfaCode);

  const renewed = await api.regenerateRecoveryCodes(env.password, second);
  assert.equal(renewed.length, 10);
  assert.ok(!renewed.includes(second));

  await api.disableTotp(env.password, totp(enrollment.secret, 1));
  assert.equal((await api.me()).mfaEnabled, false);
  const plain = client();
  await plain.login(address, env.password);
  assert.equal((await plain.me()).mfaEnabled, false);
});

test("an admin turns a user's second factor off", async () => {
  const { api, email: address } = await user("mfa-reset");
  const { secret } = await api.enrollTotp(env.password);
  await api.confirmTotp(totp(secret));
  await mfaTicket(address);
  const boss = await admin();
  await boss.resetMfa((await api.me()).id);
  const plain = client();
  await plain.login(address, env.password);
  assert.equal((await plain.me()).mfaEnabled, false);
});
