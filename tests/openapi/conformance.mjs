// node conformance.mjs KURZ_BINARY docs/openapi.json
//
// Starts a real kurz (embedded mode, fresh data directory), calls every operation of the OpenAPI
// document with requests that reach its main answers (success, each kind of refusal), and checks
// every answer against the document: the path and method are documented (or the answer is a 405
// whose Allow header names exactly the documented methods), the status is documented for the
// operation, the Content-Type is one the document lists for it, the body validates against its
// schema (Ajv, every error listed) and required headers are present. It fails on the first run of
// checks that found any mismatch, and when an operation of the document was never called.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SwaggerParser from "@apidevtools/swagger-parser";
import { makeAjv } from "./schemas.mjs";

const [binary, docFile] = process.argv.slice(2);
if (!binary || !docFile) {
  console.error("usage: node conformance.mjs KURZ_BINARY docs/openapi.json");
  process.exit(2);
}

const kAdminKey = "kz_openapi_conformance_admin_key_0123456789";
const kRedirectLimit = 40;  // per second and burst, so that the 429 check below is quick
// Per key and second: on (its headers are checked), but above the bursts of calls below.
const kApiLimit = 100000;

const rawDoc = JSON.parse(readFileSync(docFile, "utf8"));
const doc = await SwaggerParser.dereference(structuredClone(rawDoc));
const ajv = makeAjv();
const compiled = new Map();
function validatorFor(schema) {
  if (!compiled.has(schema)) compiled.set(schema, ajv.compile(schema));
  return compiled.get(schema);
}

// ---- the document's paths as matchers ---------------------------------------------------------

const kMethods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const templates = Object.keys(doc.paths).map((template) => {
  const names = [];
  const source = template.replace(/[.]/g, "\\.").replace(/\{([^}]+)\}/g, (_, name) => {
    names.push(name);
    return "([^/]+)";
  });
  // Literal paths win over templated ones (/healthz is not a short code).
  return { template, names, regex: new RegExp(`^${source}$`), literal: names.length === 0 };
});
templates.sort((a, b) => Number(b.literal) - Number(a.literal));

function findPath(path) {
  for (const t of templates) {
    if (t.regex.test(path)) return t.template;
  }
  return null;
}

// ---- the server ---------------------------------------------------------------------------------

const dataDir = mkdtempSync(join(tmpdir(), "kurz-openapi-"));
const server = spawn(binary, ["serve", "--listen", "127.0.0.1:0", "--data", dataDir,
  "--bootstrap-key", kAdminKey, "--rate-limit-redirect", String(kRedirectLimit),
  "--rate-limit-api", String(kApiLimit)],
{ stdio: ["ignore", "pipe", "pipe"] });
let serverErr = "";
server.stderr.on("data", (chunk) => { serverErr += chunk; });
const base = await new Promise((resolve, reject) => {
  let out = "";
  const timer = setTimeout(
    () => reject(new Error(`kurz did not start:\n${out}${serverErr}`)), 30000);
  server.stdout.on("data", (chunk) => {
    out += chunk;
    const m = out.match(/kurz listening on (http:\/\/127\.0\.0\.1:\d+)/);
    if (m) {
      clearTimeout(timer);
      resolve(m[1]);
    }
  });
  server.on("exit", (code, signal) => {
    clearTimeout(timer);
    reject(new Error(`kurz exited (${code ?? signal}) before listening:\n${out}${serverErr}`));
  });
});

// SIGTERM and wait: kurz must exit 0 (a sanitizer report on the way out is a failure too).
async function stopServer() {
  if (server.exitCode === null && server.signalCode === null) {
    const exited = new Promise((resolve) => server.once("exit", resolve));
    server.kill("SIGTERM");
    const timer = setTimeout(() => server.kill("SIGKILL"), 15000);
    await exited;
    clearTimeout(timer);
  }
  if (server.exitCode !== 0) {
    const how = server.exitCode ?? server.signalCode;
    problems.push(`kurz ended with ${how}:\n${serverErr.slice(-4000)}`);
  }
  rmSync(dataDir, { recursive: true, force: true });
}

// ---- requests and checks ------------------------------------------------------------------------

const problems = [];
const called = new Map();  // "METHOD template" -> Set of statuses seen

function problem(what, res, detail) {
  const answer = `${res.status} ${res.type} ${res.text.slice(0, 300)}`;
  problems.push(`${what}: ${detail}\n    answer: ${answer}`);
}

// Sends one request and checks the answer against the document. Returns {status, headers, json}.
// `beyond` names why a 400 is right for a request that the schemas accept: a rule the document
// states in words because a schema cannot (a time in the past, a range too long, state).
async function call(method, path,
  { key = kAdminKey, body, json, type, accept, expect, beyond, beyondItems = {} } = {}) {
  const headers = {};
  if (key) headers.Authorization = `Bearer ${key}`;
  if (accept) headers.Accept = accept;
  let payload = body;
  if (json !== undefined) {
    payload = JSON.stringify(json);
    headers["Content-Type"] = "application/json";
  }
  if (type) headers["Content-Type"] = type;
  const response = await fetch(base + path, { method, headers, body: payload, redirect: "manual" });
  const text = await response.text();
  const res = {
    status: response.status,
    headers: response.headers,
    type: response.headers.get("content-type") ?? "",
    text,
    json: undefined,
  };
  if (res.type.startsWith("application/json") && text !== "") {
    try {
      res.json = JSON.parse(text);
    } catch {
      res.json = undefined;
    }
  }
  const what = `${method} ${path}`;
  if (expect !== undefined && res.status !== expect) {
    problem(what, res, `expected status ${expect}`);
  }
  check(method, path, what, res);
  checkRequest(method, path, what, json ?? parseOrFail(body), res, beyond, beyondItems);
  return res;
}

const kNotJson = Symbol("not JSON");
function parseOrFail(text) {
  if (text === undefined || text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return kNotJson;
  }
}

// The other direction: what the document says of the request must be what the server did with
// it. A request that the document's schemas refuse must not succeed, and one they accept must not
// be refused as invalid (400), or the document lies to clients and to fuzzers alike.
function checkRequest(method, rawPath, what, json, res, beyond, beyondItems) {
  const [path, query = ""] = rawPath.split("?");
  const template = findPath(path);
  const item = template ? doc.paths[template] : undefined;
  const op = item?.[method.toLowerCase()];
  if (!op || res.status === 401 || res.status === 405 || res.status === 413 ||
      res.status === 415) {
    return;  // refused before the request's content was looked at
  }
  const refusals = [];
  let schema = op.requestBody?.content?.["application/json"]?.schema;
  if (json === kNotJson) {
    refusals.push("body: not JSON");
  } else if (schema && json !== undefined) {
    if (op.operationId === "bulkCreateLinks") {
      if (res.status === 200) checkBulkItems(what, schema, json, res, beyondItems);
      schema = bulkEnvelope(schema);
    }
    const validate = validatorFor(schema);
    if (!validate(json)) refusals.push(`body: ${ajv.errorsText(validate.errors)}`);
  }
  const params = new URLSearchParams(query);
  for (const p of [...(item.parameters ?? []), ...(op.parameters ?? [])]) {
    if (p.in !== "query" || !params.has(p.name)) continue;
    const raw = params.get(p.name);
    // A repeatable parameter (style form, explode) is the array of its occurrences.
    const value = p.schema.type === "array" ? params.getAll(p.name)
      : p.schema.type === "integer" && /^-?\d+$/.test(raw) ? Number(raw) : raw;
    const validate = validatorFor(p.schema);
    if (!validate(value)) refusals.push(`${p.name}: ${ajv.errorsText(validate.errors)}`);
  }
  const sent =
    json === undefined || json === kNotJson ? "" : ` ${JSON.stringify(json).slice(0, 200)}`;
  if (refusals.length > 0 && res.status < 300) {
    problem(what + sent, res,
      `the document refuses this request (${refusals.join("; ")}), kurz accepted it`);
  }
  if (refusals.length === 0 && res.status === 400 && !beyond) {
    problem(what + sent, res, "the document accepts this request, kurz refused it as invalid");
  }
}

// POST /v1/urls/bulk answers 200 whatever its items are: each item's fate is its result. So the
// request as a whole is checked without its items' schema (bulkEnvelope), and each item against
// its result: one the document refuses must have failed, one it accepts must not have failed as
// invalid (400) unless beyondItems[index] names the rule in words that refused it.
const envelopes = new Map();
function bulkEnvelope(schema) {
  if (!envelopes.has(schema)) {
    const items = { ...schema.properties.items, items: {} };
    envelopes.set(schema, { ...schema, properties: { ...schema.properties, items } });
  }
  return envelopes.get(schema);
}
function checkBulkItems(what, schema, json, res, beyondItems) {
  const items = Array.isArray(json?.items) ? json.items : [];
  const results = res.json?.results ?? [];
  if (results.length !== items.length) {
    problem(what, res, `${items.length} items, ${results.length} results`);
    return;
  }
  const validate = validatorFor(schema.properties.items.items);
  items.forEach((item, i) => {
    const r = results[i];
    if (r?.index !== i) problem(what, res, `results[${i}].index is ${r?.index}`);
    const ok = validate(item);
    const sent = JSON.stringify(item).slice(0, 200);
    if (!ok && r?.status < 300) {
      problem(`${what} item ${i} ${sent}`, res,
        `the document refuses this item (${ajv.errorsText(validate.errors)}), kurz created it`);
    }
    if (ok && r?.status === 400 && !beyondItems[i]) {
      problem(`${what} item ${i} ${sent}`, res,
        "the document accepts this item, kurz refused it as invalid");
    }
  });
}

function check(method, rawPath, what, res) {
  const path = rawPath.split("?")[0];
  const template = findPath(path);
  if (!template) {
    problem(what, res, "the path is not in the document");
    return;
  }
  const item = doc.paths[template];
  const lower = method.toLowerCase();
  // HEAD is answered wherever GET is; the document lists it only where it is a separate operation.
  const op = item[lower] ?? (lower === "head" ? item.get : undefined);
  if (!op) {
    if (res.status !== 405) {
      problem(what, res, `${method} is not documented for ${template}, so the answer must be 405`);
      return;
    }
    const documented = kMethods.filter((m) => item[m] || (m === "head" && item.get))
      .map((m) => m.toUpperCase()).sort();
    const allow = (res.headers.get("allow") ?? "").split(",").map((s) => s.trim()).filter(Boolean)
      .sort();
    if (allow.join(",") !== documented.join(",")) {
      problem(what, res, `Allow is '${allow}', the document has ${documented} for ${template}`);
    }
    checkBody(what, res, doc.components.responses.MethodNotAllowed);
    return;
  }
  const key = `${lower === "head" && !item.head ? "get" : lower} ${template}`;
  if (!called.has(key)) called.set(key, new Set());
  called.get(key).add(res.status);
  const response = op.responses[String(res.status)] ?? op.responses.default;
  if (!response) {
    problem(what, res, `status ${res.status} is not documented for ${method} ${template} ` +
      `(documented: ${Object.keys(op.responses).join(", ")})`);
    return;
  }
  for (const [name, header] of Object.entries(response.headers ?? {})) {
    const value = res.headers.get(name);
    if (value === null) {
      if (header.required) problem(what, res, `required header ${name} is missing`);
      continue;
    }
    if (header.schema) {
      const v = header.schema.type === "integer" && /^-?\d+$/.test(value) ? Number(value) : value;
      const validate = validatorFor(header.schema);
      if (!validate(v)) problem(what, res, `header ${name}: ${ajv.errorsText(validate.errors)}`);
    }
  }
  if (lower === "head") {
    if (res.text !== "") problem(what, res, "a HEAD answer has a body");
    return;
  }
  checkBody(what, res, response);
}

function checkBody(what, res, response) {
  const content = response.content ?? {};
  const types = Object.keys(content);
  if (types.length === 0) {
    if (res.text !== "") problem(what, res, "the document says no body, the answer has one");
    return;
  }
  const mediaType = res.type.split(";")[0].trim().toLowerCase();
  const media = content[mediaType];
  if (!media) {
    problem(what, res, `Content-Type ${mediaType || "(none)"} is not one of ${types.join(", ")}`);
    return;
  }
  if (!media.schema) return;
  let value = res.text;
  if (mediaType === "application/json") {
    if (res.json === undefined) {
      problem(what, res, "the body is not JSON");
      return;
    }
    value = res.json;
  }
  const validate = validatorFor(media.schema);
  if (!validate(value)) {
    problem(what, res, `the body does not match the schema:\n      ${
      validate.errors.map((e) => `${e.instancePath || "(body)"} ${e.message}`).join("\n      ")}`);
  }
  const extra = undeclared(media.schema, value, "");
  if (extra.length > 0) {
    problem(what, res, `fields the document does not name: ${extra.join(", ")}`);
  }
}

// Fields of `value` that `schema` does not declare (through properties and allOf) where it lists
// properties and says nothing of additionalProperties: the document keeps response objects open
// for later fields, but every field the server sends today must be named in it.
function undeclared(schema, value, at) {
  if (Array.isArray(value)) {
    return schema.items ? value.flatMap((v, i) => undeclared(schema.items, v, `${at}/${i}`)) : [];
  }
  if (value === null || typeof value !== "object") return [];
  const parts = [schema, ...(schema.allOf ?? [])];
  if (parts.some((p) => p.additionalProperties !== undefined) || !parts.some((p) => p.properties)) {
    return [];  // free-form, or open by the document's own word
  }
  const properties = Object.assign({}, ...parts.map((p) => p.properties ?? {}));
  return Object.entries(value).flatMap(([name, v]) =>
    properties[name] ? undeclared(properties[name], v, `${at}/${name}`) : [`${at}/${name}`]);
}

// ---- the calls ----------------------------------------------------------------------------------

const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

try {
  // Operations.
  await call("GET", "/healthz", { key: null, expect: 200 });
  await call("GET", "/readyz", { key: null, expect: 200 });
  await call("GET", "/metrics", { key: null, expect: 200 });
  const served = await call("GET", "/v1/openapi.json", { key: null, expect: 200 });
  if (JSON.stringify(served.json) !== JSON.stringify(rawDoc)) {
    problems.push(`GET /v1/openapi.json: the served document is not ${docFile} (rebuild kurz?)`);
  }

  // Links: create (201, deduplicated 200, IRIs, nulls for absent fields) and refusals.
  const iri = `https://bücher.example/wiki/Straße?q=${unique()}`;
  const created = await call("POST", "/v1/urls", { json: { url: iri }, expect: 201 });
  if (created.json?.url !== iri) {
    problem("POST /v1/urls", created, "the IRI is not echoed as given");
  }
  await call("POST", "/v1/urls", { json: { url: iri }, expect: 200 });
  await call("POST", "/v1/urls", {
    json: { url: `https://example.com/${unique()}`, custom_code: null, expires_at: null,
      expires_in: null, redirect_type: null, metadata: null },
    expect: 201,
  });
  const custom = `oa-${unique()}`;
  await call("POST", "/v1/urls", {
    json: { url: `https://example.com/${unique()}`, custom_code: custom, expires_in: 3600,
      redirect_type: 302, metadata: { campaign: "spring", nested: { n: [1, 2] } } },
    expect: 201,
  });
  await call("POST", "/v1/urls", { json: { url: "https://example.com/x", custom_code: custom },
    expect: 409 });
  await call("POST", "/v1/urls", {
    json: { url: `https://example.com/${unique()}`, expires_at: "2099-01-01T00:00:00+02:00",
      redirect_type: 307 },
    expect: 201,
  });
  await call("POST", "/v1/urls", { body: "{not json", type: "application/json", expect: 400 });
  await call("POST", "/v1/urls", { json: ["an", "array"], expect: 400 });
  await call("POST", "/v1/urls", { json: { url: "ftp://example.com/" }, expect: 400 });
  await call("POST", "/v1/urls", { json: { url: "https://example.com/", custom_code: "HealthZ" },
    expect: 400 });
  await call("POST", "/v1/urls", { json: { url: "https://example.com/", expires_in: 3162240001 },
    expect: 400 });
  await call("POST", "/v1/urls", { json: { url: "https://example.com/", colour: "red" },
    expect: 400 });
  await call("POST", "/v1/urls", { body: "{}", type: "text/plain", expect: 415 });
  await call("POST", "/v1/urls", { key: null, json: { url: "https://example.com/" }, expect: 401 });
  await call("POST", "/v1/urls", { key: "kz_no_such_key", json: { url: "https://example.com/" },
    expect: 401 });
  await call("POST", "/v1/urls", { body: JSON.stringify({ url: "x".repeat(70 * 1024) }),
    type: "application/json", expect: 413 });

  // The bounds the document gives, from both sides.
  const url = () => `https://example.com/${unique()}`;
  await call("POST", "/v1/urls", { json: { url: url(), expires_in: 3162240000 }, expect: 201 });
  await call("POST", "/v1/urls", { json: { url: url(), expires_in: 0 }, expect: 400 });
  await call("POST", "/v1/urls", { json: { url: url(), expires_in: 1.5 }, expect: 400 });
  await call("POST", "/v1/urls", { json: { url: url(), expires_at: null, expires_in: 60 },
    expect: 201 });
  await call("POST", "/v1/urls", {
    json: { url: url(), expires_at: "2099-01-01T00:00:00Z", expires_in: 60 }, expect: 400 });
  await call("POST", "/v1/urls", { json: { url: url(), expires_at: "2001-01-01T00:00:00Z" },
    expect: 400, beyond: "expires_at must be in the future" });
  await call("POST", "/v1/urls", { json: { url: url(), expires_at: "tomorrow" }, expect: 400 });
  await call("POST", "/v1/urls", { json: { url: `HTTPS://EXAMPLE.COM/${unique()}` }, expect: 201 });
  await call("POST", "/v1/urls", { json: { url: "https://exa mple.com/" }, expect: 400 });
  await call("POST", "/v1/urls", { json: { url: `${base}/abc` }, expect: 400,
    beyond: "a URL of this service" });
  await call("POST", "/v1/urls", { json: { url: "https://[no:such:ipv6]/" }, expect: 400,
    beyond: "an invalid host" });
  await call("POST", "/v1/urls", { json: { url: url(), custom_code: "ADMIN" }, expect: 400 });
  await call("POST", "/v1/urls", { json: { url: url(), custom_code: "ab" }, expect: 400 });
  await call("POST", "/v1/urls", { json: { url: url(), custom_code: "favicon.ico" }, expect: 400 });
  await call("POST", "/v1/urls", { json: { url: url(), custom_code: `Admin-${unique()}` },
    expect: 201 });
  await call("POST", "/v1/urls", { json: { url: url(), redirect_type: 308 }, expect: 201 });
  await call("POST", "/v1/urls", { json: { url: url(), redirect_type: 303 }, expect: 400 });
  await call("POST", "/v1/urls", { json: { url: url(), metadata: ["not", "an", "object"] },
    expect: 400 });
  await call("POST", "/v1/urls", { json: { url: url(), metadata: { big: "x".repeat(5000) } },
    expect: 400, beyond: "metadata is at most 4096 bytes serialized" });
  await call("POST", "/v1/urls", { json: { url: null }, expect: 400 });

  // Links: list (pages), get, delete, methods not allowed.
  const first = await call("GET", "/v1/urls?limit=2", { expect: 200 });
  const cursor = first.json?.next_cursor;
  if (typeof cursor !== "string") problem("GET /v1/urls?limit=2", first, "expected a next page");
  const last = await call("GET", `/v1/urls?limit=1000&cursor=${encodeURIComponent(cursor)}`,
    { expect: 200 });
  if (last.json?.next_cursor !== null) problem("GET /v1/urls (last page)", last, "next_cursor");
  await call("GET", "/v1/urls?limit=0", { expect: 400 });
  await call("GET", "/v1/urls?cursor=%%%", { expect: 400 });
  await call("PUT", "/v1/urls", { json: {}, expect: 405 });
  const code = created.json.code;
  await call("GET", `/v1/urls/${code}`, { expect: 200 });
  await call("HEAD", `/v1/urls/${code}`, { expect: 200 });
  await call("GET", "/v1/urls/NoSuchCode9", { expect: 404 });
  await call("PUT", `/v1/urls/${code}`, { json: {}, expect: 405 });

  // Analytics: after a few redirects (GET and HEAD, each redirect type, 404 and 410 pages).
  await call("GET", `/${code}`, { key: null, expect: 301 });
  await call("HEAD", `/${code}`, { key: null, expect: 301 });
  await call("GET", `/${custom}`, { key: null, expect: 302 });
  const temp = await call("POST", "/v1/urls", {
    json: { url: `https://example.com/${unique()}`, redirect_type: 307 }, expect: 201 });
  await call("GET", `/${temp.json.code}?ignored=1`, { key: null, expect: 307 });
  await call("GET", "/NoSuchCode9", { key: null, expect: 404 });
  await call("GET", "/NoSuchCode9", { key: null, accept: "application/json", expect: 404 });
  await call("GET", "/not.a.code", { key: null, expect: 404 });
  await call("POST", `/${code}`, { key: null, body: "", expect: 415 });
  await call("POST", `/${code}`, { key: null, body: "password=whatever1",
    type: "application/x-www-form-urlencoded", expect: 405 });
  const secret = await call("POST", "/v1/urls", {
    json: { url: `https://example.com/${unique()}`, password: "correct horse" }, expect: 201 });
  await call("GET", `/${secret.json.code}`, { key: null, expect: 200 });
  await call("GET", `/${secret.json.code}`, { key: null, accept: "application/json", expect: 401 });
  await call("POST", `/${secret.json.code}`, { key: null, body: "password=wrong+horse",
    type: "application/x-www-form-urlencoded", expect: 401 });
  await call("POST", `/${secret.json.code}`, { key: null, body: "password=correct+horse",
    type: "application/x-www-form-urlencoded", expect: 301 });
  await call("POST", `/${secret.json.code}`, { key: null, body: "pass=1",
    type: "application/x-www-form-urlencoded", expect: 400 });
  await call("POST", "/NoSuchCode9", { key: null, body: "password=whatever1",
    type: "application/x-www-form-urlencoded", expect: 404 });
  await call("GET", "/.well-known/apple-app-site-association", { key: null, expect: 404 });
  await call("GET", "/.well-known/assetlinks.json", { key: null, expect: 404 });
  await call("GET", `/v1/urls/${code}/stats`, { expect: 200 });
  await call("GET", `/v1/urls/${code}/stats?from=2026-01-01&to=2026-01-31&top=3`, { expect: 200 });
  await call("GET", `/v1/urls/${code}/stats?top=0`, { expect: 400 });
  await call("GET", `/v1/urls/${code}/stats?from=2026-02-30`, { expect: 400 });
  await call("GET", `/v1/urls/${code}/stats?from=2026-03-01&to=2026-02-01`, { expect: 400,
    beyond: "from after to" });
  await call("GET", `/v1/urls/${code}/stats?from=2024-01-01&to=2026-01-01`, { expect: 400,
    beyond: "more than 366 days" });
  await call("GET", "/v1/urls/NoSuchCode9/stats", { expect: 404 });
  // The export (streamed; every line of the JSONL one documented Link).
  const exported = await call("GET", "/v1/urls/export", { expect: 200 });
  for (const line of exported.text.split("\n").filter(Boolean)) {
    checkBody("GET /v1/urls/export (a line)", { ...exported, type: "application/json",
      json: JSON.parse(line), text: line },
    { content: { "application/json": { schema: doc.components.schemas.Link } } });
  }
  await call("GET", "/v1/urls/export?format=csv", { expect: 200 });
  await call("HEAD", "/v1/urls/export?format=jsonl", { expect: 200 });
  await call("GET", "/v1/urls/export?format=xml", { expect: 400 });
  await call("GET", "/v1/urls/export", { key: null, expect: 401 });
  await call("GET", `/v1/urls/${code}/stats/timeseries`, { expect: 200 });
  await call("GET", `/v1/urls/${code}/stats/timeseries?granularity=minute&from=` +
    encodeURIComponent(new Date(Date.now() - 600000).toISOString()), { expect: 200 });
  const series = `/v1/urls/${code}/stats/timeseries`;
  await call("GET", `${series}?granularity=day&from=2026-01-01&to=2026-02-01`,
    { expect: 200 });
  await call("GET", `/v1/urls/${code}/stats/timeseries?granularity=week`, { expect: 400 });
  await call("GET", `${series}?from=2026-01-01T00:00:00.5%2B02:00&to=2026-01-02`,
    { expect: 200 });
  await call("GET", `/v1/urls/${code}/stats/timeseries?from=2026-01-01%2000:00:00Z&to=2026-01-02`,
    { expect: 400, beyond: "RFC 3339 with a space separator" });
  await call("GET", `${series}?granularity=minute&from=2026-01-01&to=2026-01-05`,
    { expect: 400, beyond: "more than 48 hours of minutes" });
  await call("GET", `/v1/urls/${code}/stats/timeseries?from=2026-01-02&to=2026-01-01`,
    { expect: 400, beyond: "from after to" });
  await call("GET", `/v1/urls/${code}/stats/timeseries?from=yesterday`, { expect: 400 });
  await call("GET", "/v1/urls/NoSuchCode9/stats/timeseries", { expect: 404 });
  await call("POST", `/v1/urls/${code}/stats`, { json: {}, expect: 405 });

  // QR codes: both formats, every parameter, each refusal.
  const qr = `/v1/urls/${code}/qr`;
  await call("GET", qr, { expect: 200 });
  await call("HEAD", qr, { expect: 200 });
  await call("GET", `${qr}?format=png&size=2048&margin=0&ecc=H&fg=1A237E&bg=fff8e1&download=1`,
    { expect: 200 });
  await call("GET", `${qr}?format=svg&size=64&margin=1&ecc=L&download=0`, { expect: 200 });
  for (const bad of ["format=jpg", "size=63", "size=2049", "size=5x", "margin=-1", "margin=17",
    "ecc=X", "ecc=m", "fg=12345", "bg=zzzzzz", "fg=%23000000", "download=yes"]) {
    await call("GET", `${qr}?${bad}`, { expect: 400 });
  }
  await call("GET", `${qr}?fg=000000&bg=000000`, { expect: 400, beyond: "fg must differ from bg" });
  await call("GET", `${qr}?size=64&margin=16&ecc=H`,
    { expect: 400, beyond: "size below the modules plus twice the margin" });
  await call("GET", "/v1/urls/NoSuchCode9/qr", { expect: 404 });
  await call("GET", qr, { key: null, expect: 401 });
  await call("POST", qr, { json: {}, expect: 405 });

  await call("DELETE", `/v1/urls/${temp.json.code}`, { expect: 204 });
  await call("DELETE", `/v1/urls/${temp.json.code}`, { expect: 404 });
  await call("GET", `/${temp.json.code}`, { key: null, expect: 410 });
  await call("GET", `/${temp.json.code}`, { key: null, accept: "application/json", expect: 410 });

  // Link options (API.md "Link options beyond the seed"): every field, echoed as the document
  // says; each bound from both sides.
  const sorted = (o) => JSON.stringify(o, Object.keys(o ?? {}).sort());
  const tagA = `t-${unique()}`;
  const tagB = `T-${unique()}`;
  const title = `Title ${unique()}`;
  const full = await call("POST", "/v1/urls", {
    json: { url: url(), redirect_type: 308, title, tags: [tagA, tagB, tagA.toUpperCase()],
      forward_query: true, max_clicks: 5, expired_url: "https://example.com/over",
      rules: [{ if: { country: ["de", "AT"], device: ["Mobile"], os: ["iOS"], language: ["DE"],
        after: "2027-01-01T00:00:00Z", before: null }, url: "https://example.de/app" }],
      variants: [{ url: "https://a.example/", weight: 70 }, { url: "https://b.example/", weight: 30 }],
      og: { title: "Card", description: "A <card>", image: "https://example.com/card.png" } },
    expect: 201,
  });
  const f = full.json ?? {};
  const echoed = f.title === title && JSON.stringify(f.tags) === JSON.stringify([tagA, tagB]) &&
    f.forward_query === true && f.max_clicks === 5 && f.clicks_left === 5 &&
    f.password_protected === false && f.redirect_type === 308 &&
    sorted(f.rules?.[0]?.if) === sorted({ country: ["DE", "AT"], device: ["mobile"],
      os: ["iOS"], language: ["de"], after: "2027-01-01T00:00:00Z" }) &&
    f.variants?.length === 2 && f.og?.description === "A <card>";
  if (!echoed) problem("POST /v1/urls (every option)", full, "the options are not echoed");
  const plain = await call("POST", "/v1/urls", { json: { url: url(), og: {}, variants: [],
    rules: [], tags: [], title: null, password: null }, expect: 201 });
  if (plain.json?.title !== "" || plain.json?.og?.image !== "" || plain.json?.max_clicks !== null ||
      plain.json?.clicks_left !== null || plain.json?.expired_url !== null) {
    problem("POST /v1/urls (empty options)", plain, "title \"\", og of \"\", nulls");
  }
  // A password needs the server's argon2id hasher; without one the create is 503, as documented.
  const locked = await call("POST", "/v1/urls", { json: { url: url(), password: "correct horse" } });
  if (locked.status !== 503 && locked.json?.password_protected !== true) {
    problem("POST /v1/urls (password)", locked, "expected 201 with password_protected or 503");
  }
  for (const bad of [
    { title: "x".repeat(201) }, { title: "a\u0007b" }, { title: 5 },
    { tags: Array.from({ length: 21 }, (_, i) => `tag${i}`) }, { tags: [""] },
    { tags: ["x".repeat(65)] }, { tags: ["a\nb"] }, { tags: "one" }, { forward_query: "yes" },
    { password: "short" }, { password: "x".repeat(129) }, { max_clicks: 0 }, { max_clicks: 1.5 },
    { max_clicks: 9007199254740992 }, { expired_url: "ftp://example.com/" },
    { rules: Array.from({ length: 21 }, () => ({ if: { country: ["DE"] }, url: url() })) },
    { rules: [{ if: { country: ["DE"] } }] }, { rules: [{ if: {}, url: url() }] },
    { rules: [{ if: { country: ["DEU"] }, url: url() }] },
    { rules: [{ if: { device: ["watch"] }, url: url() }] },
    { rules: [{ if: { language: ["deutsch"] }, url: url() }] },
    { rules: [{ if: { os: ["x".repeat(33)] }, url: url() }] },
    { rules: [{ if: { weekday: ["mon"] }, url: url() }] },
    { rules: [{ if: { after: "soon" }, url: url() }] },
    { rules: [{ if: { country: ["DE"] }, url: "ftp://example.com/" }] },
    { variants: [{ url: url(), weight: 100 }] },
    { variants: Array.from({ length: 11 }, () => ({ url: url(), weight: 1 })) },
    { variants: [{ url: url(), weight: 0 }, { url: url(), weight: 1 }] },
    { variants: [{ url: url(), weight: 101 }, { url: url(), weight: 1 }] },
    { variants: [{ url: url() }, { url: url(), weight: 1 }] },
    { og: { title: "x".repeat(201) } }, { og: { description: "x".repeat(1001) } },
    { og: { image: "ftp://example.com/card.png" } }, { og: { site: "x" } }, { og: "card" },
  ]) {
    await call("POST", "/v1/urls", { json: { url: url(), ...bad }, expect: 400 });
  }
  await call("POST", "/v1/urls", { json: { url: url(), rules: [{ if: { country: [] }, url: url() }] },
    expect: 400, beyond: "a rule needs a condition that is not []" });
  await call("POST", "/v1/urls", { json: { url: url(), rules: [{ if: {
    after: "2027-01-02T00:00:00Z", before: "2027-01-01T00:00:00Z" }, url: url() }] },
  expect: 400, beyond: "after must be before before" });
  await call("POST", "/v1/urls", { json: { url: url(), expired_url: `${base}/abc` },
    expect: 400, beyond: "a URL of this service" });
  await call("POST", "/v1/urls", { json: { url: url(), title: "é".repeat(200),
    tags: ["é".repeat(64)], max_clicks: 9007199254740991,
    rules: Array.from({ length: 20 }, () => ({ if: { os: ["x".repeat(32)] }, url: url() })),
    variants: Array.from({ length: 10 }, () => ({ url: url(), weight: 100 })),
    og: { title: "x".repeat(200), description: "x".repeat(1000), image: "" } }, expect: 201 });

  // PATCH: each field, null where it removes, and what cannot change.
  const pc = full.json.code;
  const changed = await call("PATCH", `/v1/urls/${pc}`, { json: { redirect_type: 302,
    url: "https://example.com/changed", title: "Changed", tags: [tagA], metadata: { v: 2 },
    expires_at: "2099-01-01T00:00:00Z", forward_query: false }, expect: 200 });
  if (changed.json?.code !== pc || changed.json?.title !== "Changed" ||
      changed.json?.url !== "https://example.com/changed" || changed.json?.tags?.length !== 1) {
    problem(`PATCH /v1/urls/${pc}`, changed, "the changes are not in the answer");
  }
  const cleared = await call("PATCH", `/v1/urls/${pc}`, { json: { expires_at: null, title: null,
    password: null, max_clicks: null, expired_url: null, rules: null, variants: null, og: null },
  expect: 200 });
  const c = cleared.json ?? {};
  if (c.expires_at !== null || c.title !== "" || c.max_clicks !== null || c.rules?.length !== 0 ||
      c.variants?.length !== 0 || c.og !== null || c.expired_url !== null) {
    problem(`PATCH /v1/urls/${pc} (nulls)`, cleared, "null did not remove the options");
  }
  // The next redirect answers with the new state.
  const moved = await call("GET", `/${pc}`, { key: null, expect: 302 });
  if (moved.status === 302 && moved.headers.get("location") !== "https://example.com/changed") {
    problem(`GET /${pc} after PATCH`, moved, "Location is not the new url");
  }
  await call("PATCH", `/v1/urls/${pc}`, { json: { max_clicks: 3, og: { title: "t" } },
    expect: 200 });
  for (const bad of [{}, { code: "other" }, { custom_code: "other" }, { expires_in: 60 },
    { click_count: 0 }, { short_url: "x" }, { is_custom: true }, { clicks_left: 1 },
    { password_protected: false }, { created_at: "2026-01-01T00:00:00Z" }, { colour: "red" },
    { url: null }, { redirect_type: null }, { metadata: null }, { tags: null },
    { forward_query: null }, { url: "ftp://example.com/" }, { redirect_type: 303 },
    { max_clicks: 0 }, { variants: [{ url: url(), weight: 1 }] }, { title: "x".repeat(201) }]) {
    await call("PATCH", `/v1/urls/${pc}`, { json: bad, expect: 400 });
  }
  await call("PATCH", `/v1/urls/${pc}`, { json: { expires_at: "2001-01-01T00:00:00Z" },
    expect: 400, beyond: "expires_at must be in the future" });
  await call("PATCH", `/v1/urls/${pc}`, { json: ["title"], expect: 400 });
  await call("PATCH", `/v1/urls/${pc}`, { body: "{", type: "application/json", expect: 400 });
  await call("PATCH", `/v1/urls/${pc}`, { body: "{}", type: "text/plain", expect: 415 });
  await call("PATCH", `/v1/urls/${pc}`, { key: null, json: { title: "x" }, expect: 401 });
  await call("PATCH", `/v1/urls/${pc}`, { body: JSON.stringify({ title: "x".repeat(70 * 1024) }),
    type: "application/json", expect: 413 });
  await call("PATCH", "/v1/urls/NoSuchCode9", { json: { title: "x" }, expect: 404 });
  await call("PATCH", `/v1/urls/${temp.json.code}`, { json: { title: "x" }, expect: 404 });
  const reader = await call("POST", "/v1/api-keys", { json: { permissions: ["read"] },
    expect: 201 });
  await call("PATCH", `/v1/urls/${pc}`, { key: reader.json.key, json: { title: "x" },
    expect: 403 });

  // List: tags (all of them), text, each sort with its own cursor.
  const tagged = await call("POST", "/v1/urls", { json: { url: url(), tags: [tagA, tagB],
    title: `Findme ${title}` }, expect: 201 });
  const both = await call("GET", `/v1/urls?tag=${tagA.toUpperCase()}&tag=${encodeURIComponent(tagB)}`,
    { expect: 200 });
  if (JSON.stringify(both.json?.items?.map((l) => l.code)) !==
      JSON.stringify([tagged.json.code])) {
    problem("GET /v1/urls?tag=&tag=", both, `expected only ${tagged.json.code}`);
  }
  const found = await call("GET", `/v1/urls?q=${encodeURIComponent(`findme ${title}`)}`,
    { expect: 200 });
  if (found.json?.items?.length !== 1) problem("GET /v1/urls?q=", found, "expected one link");
  for (const sort of ["created_at", "-created_at", "-clicks"]) {
    const page = await call("GET", `/v1/urls?sort=${sort}&limit=1`, { expect: 200 });
    const next = page.json?.next_cursor;
    if (typeof next !== "string") {
      problem(`GET /v1/urls?sort=${sort}`, page, "expected a next page");
      continue;
    }
    const second = await call("GET", `/v1/urls?sort=${sort}&limit=1&cursor=${next}`,
      { expect: 200 });
    if (second.json?.items?.[0]?.code === page.json.items[0].code) {
      problem(`GET /v1/urls?sort=${sort} (page 2)`, second, "the second page repeats the first");
    }
    const other = sort === "created_at" ? "-clicks" : "created_at";
    await call("GET", `/v1/urls?sort=${other}&cursor=${next}`, { expect: 400,
      beyond: "a cursor of another sort" });
  }
  await call("GET", "/v1/urls?sort=newest", { expect: 400 });
  await call("GET", "/v1/urls?tag=", { expect: 400 });
  await call("GET", `/v1/urls?tag=${"x".repeat(257)}`, { expect: 400 });
  await call("GET", `/v1/urls?tag=${"x".repeat(256)}`, { expect: 200 });
  await call("GET", `/v1/urls?${Array.from({ length: 21 }, (_, i) => `tag=t${i}`).join("&")}`,
    { expect: 400 });
  await call("GET", `/v1/urls?q=${"x".repeat(201)}`, { expect: 400 });
  await call("GET", `/v1/urls?q=${"x".repeat(200)}&sort=-clicks&tag=a`, { expect: 200 });

  // Tags.
  const tags = await call("GET", "/v1/tags", { expect: 200 });
  const counted = tags.json?.items?.find((t) => t.tag.toLowerCase() === tagA.toLowerCase());
  if (counted?.links !== 2) problem("GET /v1/tags", tags, `expected ${tagA} on 2 links`);
  await call("GET", "/v1/tags", { key: null, expect: 401 });
  await call("POST", "/v1/tags", { json: {}, expect: 405 });

  // Bulk: each item on its own, in order.
  const twin = url();
  const bulk = await call("POST", "/v1/urls/bulk", { json: { items: [
    { url: twin, tags: [tagA] }, { url: "ftp://example.com/" }, { url: url(), custom_code: custom },
    { url: twin, tags: [tagA] }, "not an object", { url: url(), expires_in: 0 },
    { url: url(), custom_code: `b-${unique()}`, title: "bulk" },
    { url: url(), expires_at: "2001-01-01T00:00:00Z" },
  ] }, expect: 200, beyondItems: { 7: "expires_at must be in the future" } });
  const statuses = bulk.json?.results?.map((r) => r.status).join(",");
  if (statuses !== "201,400,409,200,400,400,201,400" ||
      bulk.json.results[3].link.code !== bulk.json.results[0].link.code) {
    problem("POST /v1/urls/bulk", bulk, "statuses 201,400,409,200(the first's link),400,400,201,400");
  }
  await call("POST", "/v1/urls/bulk", { json: { items: Array.from({ length: 1000 }, (_, i) =>
    ({ url: `https://e.x/${i}` })) }, expect: 200 });
  await call("POST", "/v1/urls/bulk", { json: { items: Array.from({ length: 1001 }, (_, i) =>
    ({ url: `https://e.x/${i}` })) }, expect: 400 });
  for (const bad of [{}, { items: [] }, { items: "x" }, { items: [{ url: url() }], more: 1 }]) {
    await call("POST", "/v1/urls/bulk", { json: bad, expect: 400 });
  }
  await call("POST", "/v1/urls/bulk", { body: "{}", type: "text/plain", expect: 415 });
  await call("POST", "/v1/urls/bulk", { key: null, json: { items: [{ url: url() }] },
    expect: 401 });
  await call("POST", "/v1/urls/bulk", { key: reader.json.key, json: { items: [{ url: url() }] },
    expect: 403 });
  await call("POST", "/v1/urls/bulk", { json: { items: Array.from({ length: 1000 }, () =>
    ({ url: `https://example.com/${"x".repeat(1100)}` })) }, expect: 413 });
  await call("GET", "/v1/urls/bulk", { expect: 405 });

  // Keys.
  const key = await call("POST", "/v1/api-keys", {
    json: { name: "conformance", permissions: ["read", "read", "create"] }, expect: 201 });
  await call("POST", "/v1/api-keys", { json: {}, expect: 201 });
  await call("POST", "/v1/api-keys", { json: { name: null, permissions: null }, expect: 201 });
  const bare = await call("POST", "/v1/api-keys", { json: { permissions: [] }, expect: 201 });
  await call("POST", "/v1/api-keys", { json: { permissions: ["rename"] }, expect: 400 });
  await call("POST", "/v1/api-keys", { json: { permissions: ["update"] }, expect: 201 });
  await call("POST", "/v1/api-keys", { json: { name: "x".repeat(101) }, expect: 400 });
  await call("POST", "/v1/api-keys", { json: { name: "x".repeat(100) }, expect: 201 });
  await call("POST", "/v1/api-keys", { json: { name: "é".repeat(60) }, expect: 400,
    beyond: "name is at most 100 bytes of UTF-8" });
  await call("POST", "/v1/api-keys", { json: { name: 5 }, expect: 400 });
  await call("POST", "/v1/api-keys", { json: { permissions: "read" }, expect: 400 });
  await call("POST", "/v1/api-keys", { json: { label: "x" }, expect: 400 });
  await call("POST", "/v1/api-keys", { key: key.json.key, json: { permissions: ["admin"] },
    expect: 403 });
  await call("POST", "/v1/api-keys", { body: "{}", type: "text/plain", expect: 415 });
  await call("GET", "/v1/api-keys", { expect: 200 });
  await call("GET", "/v1/api-keys", { key: bare.json.key, expect: 403 });
  await call("DELETE", `/v1/api-keys/${bare.json.id}`, { key: bare.json.key, expect: 403 });
  await call("DELETE", `/v1/api-keys/${key.json.id}`, { expect: 204 });
  await call("DELETE", `/v1/api-keys/${key.json.id}`, { expect: 404 });
  await call("GET", "/v1/urls", { key: key.json.key, expect: 401 });
  await call("GET", `/v1/api-keys/${bare.json.id}`, { expect: 405 });

  // Users.
  const email = `oa-${unique()}@example.com`;
  const user = await call("POST", "/v1/users", { json: { email, tier: "pro" }, expect: 201 });
  await call("POST", "/v1/users", { json: { email }, expect: 409 });
  await call("POST", "/v1/users", { json: { email: `t-${unique()}@example.com`, tier: null },
    expect: 201 });
  await call("POST", "/v1/users", { json: { email: "not-an-email" }, expect: 400 });
  await call("POST", "/v1/users", { json: { email: "ada@localhost" }, expect: 400 });
  await call("POST", "/v1/users", { json: { email: "ada@example.com." }, expect: 400 });
  await call("POST", "/v1/users", { json: { email: "a<b@example.com" }, expect: 400 });
  await call("POST", "/v1/users", { json: { email: null }, expect: 400 });
  await call("POST", "/v1/users", { json: { email: `x.${unique()}@a.b` }, expect: 201 });
  await call("POST", "/v1/users", { json: { email: `ü${unique()}@bücher.example` },
    expect: 201 });
  await call("POST", "/v1/users", { json: { email: `u-${unique()}@example.com`, tier: "gold" },
    expect: 400 });
  await call("POST", "/v1/users", { json: { email: `v-${unique()}@example.com`, role: "x" },
    expect: 400 });
  await call("POST", "/v1/users", { key: user.json.api_key, json: { email: "a@b.example" },
    expect: 403 });
  await call("GET", "/v1/users", { expect: 200 });
  await call("GET", `/v1/users/${user.json.id}`, { expect: 200 });
  await call("GET", "/v1/users/999999", { expect: 404 });
  await call("GET", "/v1/users/abc", { expect: 404 });
  const theirs = await call("POST", "/v1/urls", { key: user.json.api_key,
    json: { url: `https://example.com/${unique()}` }, expect: 201 });
  await call("GET", `/v1/urls/${theirs.json.code}`, { expect: 404 });  // another user's link
  await call("PATCH", `/v1/users/${user.json.id}`, { json: { status: "suspended" }, expect: 200 });
  await call("GET", "/v1/urls", { key: user.json.api_key, expect: 401 });
  await call("GET", `/${theirs.json.code}`, { key: null, expect: 410 });
  await call("PATCH", `/v1/users/${user.json.id}`, { json: { status: "active" }, expect: 200 });
  await call("PATCH", `/v1/users/${user.json.id}`, { json: { status: "gone" }, expect: 400 });
  await call("PATCH", `/v1/users/${user.json.id}`, { json: { status: "active", tier: "pro" },
    expect: 400 });
  await call("PATCH", "/v1/users/999999", { json: { status: "active" }, expect: 404 });
  await call("PATCH", "/v1/users/1", { json: { status: "suspended" }, expect: 400,
    beyond: "you cannot suspend yourself" });
  await call("PATCH", `/v1/users/${user.json.id}`, { json: { status: null }, expect: 400 });
  await call("DELETE", `/v1/users/${user.json.id}`, { expect: 405 });

  // Rate limit on redirects: a burst beyond the limit gets 429 with its headers.
  let limited = false;
  for (let i = 0; i < kRedirectLimit * 3 && !limited; i++) {
    limited = (await call("GET", `/${code}`, { key: null })).status === 429;
  }
  if (!limited) problems.push(`GET /${code}: no 429 after ${kRedirectLimit * 3} redirects`);
} catch (error) {
  problems.push(`the run stopped: ${error.stack}\n${serverErr}`);
} finally {
  await stopServer();
}

// Every operation of the document was called.
for (const [template, item] of Object.entries(doc.paths)) {
  for (const method of kMethods) {
    if (item[method] && !called.has(`${method} ${template}`)) {
      problems.push(`${method.toUpperCase()} ${template}: never called by this test`);
    }
  }
}

const total = [...called.values()].reduce((n, s) => n + s.size, 0);
if (problems.length > 0) {
  console.error(`${problems.length} disagreements between kurz and ${docFile}:`);
  for (const p of problems) console.error(`- ${p}`);
  process.exit(1);
}
console.log(`kurz answers as ${docFile} says: ${called.size} operations, ${total} (operation, ` +
  "status) pairs checked");
