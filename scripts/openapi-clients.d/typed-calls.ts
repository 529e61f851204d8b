// Type-checked, never run, by scripts/openapi-clients: `tsc --noEmit --strict` against the types
// that openapi-typescript generated from the live `GET /v1/openapi.json` (./gatehouse.d.ts).
// The same calls as flow.py, written as a TypeScript client would, with real field accesses:
// a field renamed, retyped, made nullable or dropped in the document fails compilation, and so
// does a line marked `@ts-expect-error` that the types stop refusing (types gone loose, `any`).

import type { components, paths } from "./gatehouse";

type Schemas = components["schemas"];

// ---- webhooks ----

type CreateWebhook = paths["/v1/webhooks"]["post"]["requestBody"]["content"]["application/json"];
type CreatedWebhook = paths["/v1/webhooks"]["post"]["responses"][201]["content"]["application/json"];
type Webhook = paths["/v1/webhooks/{id}"]["get"]["responses"][200]["content"]["application/json"];
type WebhookPage = paths["/v1/webhooks"]["get"]["responses"][200]["content"]["application/json"];
type WebhookPath = paths["/v1/webhooks/{id}"]["get"]["parameters"]["path"];
type CreateFailed = paths["/v1/webhooks"]["post"]["responses"][422]["content"]["application/json"];

export const createWebhook: CreateWebhook = {
  event: "app.invoice.paid",
  uri: "https://example.org/hooks/gatehouse",
  name: "invoices",
  description: "typed-calls.ts",
  rate_limit_per_second: 50,
  ordered: false,
};

export function describeCreated(webhook: CreatedWebhook): string {
  const id: string = webhook.id;
  const secret: string = webhook.signing_secret;
  const state: Schemas["WebhookState"] = webhook.state;
  const verified: boolean = webhook.verified;
  const verifiedAt: string | null | undefined = webhook.verified_at;
  const limit: number | null | undefined = webhook.rate_limit_per_second;
  const failures: number = webhook.consecutive_failures;
  return `${id} ${state} ${verified} ${secret.slice(0, 6)} ${verifiedAt ?? "-"} ${limit ?? "-"} ${failures}`;
}

export function sameWebhook(created: CreatedWebhook, fetched: Webhook): boolean {
  const path: WebhookPath = { id: created.id };
  return path.id === fetched.id && fetched.event === created.event;
}

export function webhookIds(page: WebhookPage): string[] {
  return page.map((webhook) => webhook.id);
}

export function refusal(error: CreateFailed): string {
  return `${error.message}: ${error.errors.join("; ")}`;
}

// @ts-expect-error uri is required
export const noUri: CreateWebhook = { event: "app.invoice.paid" };
// @ts-expect-error the body takes no unknown field
export const unknownField: CreateWebhook = { event: "app.invoice.paid", uri: "https://example.org/", colour: "red" };
// @ts-expect-error rate_limit_per_second is a number
export const textLimit: CreateWebhook = { event: "app.invoice.paid", uri: "https://example.org/", rate_limit_per_second: "50" };

export function misreadWebhook(webhook: CreatedWebhook): void {
  // @ts-expect-error verified_at may be null
  const at: string = webhook.verified_at;
  // @ts-expect-error no such field
  const secret = webhook.verification_secret;
  // @ts-expect-error state is one of four words
  const state: typeof webhook.state = "paused";
  void [at, secret, state];
}

// ---- custom events ----

type PublishEvent = paths["/v1/events"]["post"]["requestBody"]["content"]["application/json"];
type PublishHeaders = NonNullable<paths["/v1/events"]["post"]["parameters"]["header"]>;
type Published = paths["/v1/events"]["post"]["responses"][202]["content"]["application/json"];

export const publish: PublishEvent = {
  event: "app.invoice.paid",
  object_id: "inv_1042",
  payload: { amount: "99.00", currency: "EUR" },
};
export const idempotently: PublishHeaders = { "Idempotency-Key": "inv_1042-paid" };

export function queued(published: Published): number {
  const replayed: boolean = published.replayed;
  const id: number = published.id;
  return replayed ? 0 : published.deliveries + id * 0;
}

// @ts-expect-error event is required
export const noEvent: PublishEvent = { object_id: "inv_1042" };

// ---- deliveries ----

type DeliveryQuery = NonNullable<paths["/v1/webhooks/{id}/deliveries"]["get"]["parameters"]["query"]>;
type DeliveryPage = paths["/v1/webhooks/{id}/deliveries"]["get"]["responses"][200]["content"]["application/json"];
type AccountDeliveryPage = paths["/v1/webhook_deliveries"]["get"]["responses"][200]["content"]["application/json"];
type Delivery = paths["/v1/webhook_deliveries/{id}"]["get"]["responses"][200]["content"]["application/json"];
type Redelivered = paths["/v1/webhook_deliveries/{id}/redeliver"]["post"]["responses"][202]["content"]["application/json"];

export const twoNewest: DeliveryQuery = { per_page: 2, page: 1, sort: "-created_at", status: "succeeded" };

// @ts-expect-error per_page is a number
export const textPerPage: DeliveryQuery = { per_page: "2" };
// @ts-expect-error status is pending, succeeded or failed
export const badStatus: DeliveryQuery = { status: "delivered" };

export function succeeded(page: DeliveryPage | AccountDeliveryPage): string[] {
  return page
    .filter((delivery) => delivery.status === "succeeded" && delivery.response_status === 200)
    .map((delivery) => `${delivery.id} ${delivery.webhook_id} ${delivery.event} #${delivery.attempt}`);
}

export function redeliveryOf(redelivered: Redelivered): string | null | undefined {
  return redelivered.redelivery_of_id;
}

export function lastAttempt(delivery: Delivery): string {
  const attempts = delivery.attempts ?? [];
  const last = attempts[attempts.length - 1];
  if (last === undefined) return "not sent yet";
  const headers: string[][] = last.request_headers;
  const status: number | null | undefined = last.response_status;
  return `${last.attempt} ${last.request_uri} ${status ?? last.error} ${headers.length} ${last.sent_at}`;
}

// The message and the headers are free-form objects: a client can build and read them.
export const message: NonNullable<Delivery["payload"]> = { event: "app.invoice.paid", object_id: "inv_1042" };
export const headers: NonNullable<Delivery["request_headers"]> = { "content-type": "application/json" };
// @ts-expect-error header values are strings
export const numericHeader: NonNullable<Delivery["response_headers"]> = { "content-length": 2 };

export function objectId(delivery: Delivery): unknown {
  return delivery.payload?.["object_id"];
}

export function misreadDelivery(delivery: Delivery): void {
  // @ts-expect-error attempts may be absent (lists leave them out)
  const count: number = delivery.attempts.length;
  // @ts-expect-error response_status may be null (not sent yet)
  const status: number = delivery.response_status;
  void [count, status];
}

// ---- webhook policies ----

type CreatePolicy = paths["/v1/webhook_policies"]["post"]["requestBody"]["content"]["application/json"];
type CreatedPolicy = paths["/v1/webhook_policies"]["post"]["responses"][201]["content"]["application/json"];

export const createPolicy: CreatePolicy = { name: "signing", jwt_alg: "es256" };

export function publicKey(created: CreatedPolicy): string {
  const pem: string | null | undefined = created.public_key_pem;
  const kid: unknown = created.public_jwk?.["kid"];
  const signing = created.keys.filter((key) => key.signing).map((key) => key.key_id);
  return `${created.id} ${created.key_id ?? "-"} ${String(kid)} ${signing.join(",")} ${pem ?? created.secret ?? ""}`;
}

// ---- personal access tokens ----

type CreateToken = paths["/v1/personal_access_tokens"]["post"]["requestBody"]["content"]["application/json"];
type CreatedToken = paths["/v1/personal_access_tokens"]["post"]["responses"][201]["content"]["application/json"];
type Revoked = paths["/v1/personal_access_tokens/{id}/revoke"]["post"]["responses"][200]["content"]["application/json"];
type RevokedRefused = paths["/v1/webhooks/{id}"]["get"]["responses"][401]["content"]["application/json"];

export const createToken: CreateToken = {
  name: "generated client",
  scopes: ["webhooks:read", "webhook_deliveries:read"],
  expires_in: 7,
};

// @ts-expect-error scopes are the known scope names
export const unknownScope: CreateToken = { name: "x", scopes: ["webhooks:admin"] };
// @ts-expect-error name is required
export const noName: CreateToken = { scopes: [] };

export function bearer(created: CreatedToken): string {
  const expiresAt: string = created.expires_at;
  const scopes: string[] = created.scopes;
  const status: Schemas["TokenStatus"] = created.status;
  return `Bearer ${created.token_secret} (${status}, ${scopes.join(" ")}, until ${expiresAt})`;
}

export function revokedAt(revoked: Revoked): string {
  if (revoked.status !== "revoked") throw new Error(`still ${revoked.status}`);
  return revoked.revoked_at ?? "never";
}

export function refusedBecause(refused: RevokedRefused): string {
  return refused.message;
}

export function misreadToken(revoked: Revoked): void {
  // @ts-expect-error the secret is in the create answer only
  const secret: string = revoked.token_secret;
  void secret;
}
